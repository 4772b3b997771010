// `nobus wal dump DIR` and `nobus wal verify DIR`: operator views of a node's write-ahead log.
// Both only read the directory (no recovery, no truncation), so they are safe on a copy or on the
// directory of a stopped node; on a running node they may report the tail being written as torn.
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "env/env.h"
#include "wal/wal.h"

namespace nobus::cli {
namespace {

const char* TypeName(wal::RecordType type) {
  return type == wal::RecordType::kBatch ? "batch" : "full";
}

std::string Printable(std::string_view bytes, size_t limit) {
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  if (bytes.size() > limit) out += "...";
  return out;
}

std::string SegmentLine(const wal::SegmentFile& file, const wal::SegmentScan& scan, bool last) {
  std::string status =
      scan.clean ? "clean"
      : scan.header_ok
          ? Cat(last ? "torn tail" : "CORRUPT", " at offset ", scan.bad_offset, ": ", scan.reason)
          : Cat(last ? "unfinished header" : "CORRUPT", ": ", scan.reason);
  return Cat("segment ", file.path, " first_lsn=", file.first_lsn, " size=", scan.file_size,
             " prezeroed=", (scan.header.flags & wal::kFlagPrezeroed) ? "yes" : "no",
             " records=", scan.records, " next_lsn=", scan.next_lsn, " status=", status, "\n");
}

int RunDump(const std::string& dir, size_t payload_bytes) {
  std::string records;
  auto on_record = [&](const wal::RecordView& r) -> absl::Status {
    records += Cat("  lsn=", r.first_lsn);
    if (r.count > 1) records += Cat("..", r.first_lsn + r.count - 1);
    records += Cat(" type=", TypeName(r.type), " payloads=", r.count, " offset=", r.offset,
                   " size=", r.framed_size, " crc=ok\n");
    if (payload_bytes == 0) return absl::OkStatus();
    return wal::ForEachPayload(r, [&](wal::Lsn lsn, std::string_view p) {
      records += Cat("    ", lsn, ": ", Printable(p, payload_bytes), "\n");
      return absl::OkStatus();
    });
  };
  auto on_segment = [&](const wal::SegmentFile& f, const wal::SegmentScan& s, bool last) {
    std::fputs(SegmentLine(f, s, last).c_str(), stdout);
    std::fputs(records.c_str(), stdout);
    records.clear();
  };
  auto log = wal::InspectLog(env::PosixFileSystem(), dir, on_segment, on_record);
  if (!log.ok()) {
    std::fprintf(stderr, "nobus wal dump: %s\n", std::string(log.status().message()).c_str());
    return log.status().code() == absl::StatusCode::kDataLoss ? 1 : 2;
  }
  std::printf("%zu segment(s); next LSN %llu\n", log->segments.size(),
              static_cast<unsigned long long>(log->next_lsn));
  return 0;
}

int RunVerify(const std::string& dir, bool strict) {
  uint64_t records = 0;
  std::string tail_note;
  auto on_segment = [&](const wal::SegmentFile& f, const wal::SegmentScan& s, bool last) {
    records += s.records;
    if (last && !s.clean)
      tail_note =
          Cat("last segment ", f.path, " has a torn tail at offset ",
              s.header_ok ? s.bad_offset : 0, " (", s.reason, "); opening the log cuts it off");
  };
  auto log = wal::InspectLog(env::PosixFileSystem(), dir, on_segment, {});
  if (!log.ok()) {
    std::fprintf(stderr, "nobus wal verify: %s\n", std::string(log.status().message()).c_str());
    return log.status().code() == absl::StatusCode::kDataLoss ? 1 : 2;
  }
  if (!tail_note.empty()) std::fprintf(stderr, "nobus wal verify: %s\n", tail_note.c_str());
  std::printf("%s: %zu segment(s), %llu record(s), next LSN %llu\n",
              tail_note.empty() ? "ok" : "ok except the tail", log->segments.size(),
              static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(log->next_lsn));
  return strict && !tail_note.empty() ? 1 : 0;
}

}  // namespace

void RegisterWalCommand(CLI::App& app) {
  auto* wal_cmd = app.add_subcommand(
      "wal", "Inspect a node's write-ahead log directory (read only; never repairs).");
  wal_cmd->require_subcommand(1);

  static std::string dump_dir;
  static size_t payload_bytes = 0;
  auto* dump = wal_cmd->add_subcommand(
      "dump",
      "Print every segment (file, first LSN, size, record count, status) and every record in it "
      "(LSN or LSN range, type, payload count, offset, framed size, CRC check). A corrupt or torn "
      "record ends its segment's listing with its offset and the reason.\nExit status: 0 if the "
      "log would open, 1 if it holds corruption that opening would report as DataLoss, 2 on "
      "other errors (e.g. no such directory).");
  dump->add_option("DIR", dump_dir, "WAL directory (holds 00000000000000000001.wal ...)")
      ->required();
  dump->add_option("--payload-bytes", payload_bytes,
                   "Also print up to this many bytes of each payload (escaped); 0 prints none")
      ->capture_default_str();
  dump->callback([] { SetExitCode(RunDump(dump_dir, payload_bytes)); });

  static std::string verify_dir;
  static bool strict = false;
  auto* verify = wal_cmd->add_subcommand(
      "verify",
      "Check every record's CRC32C, framing and LSN sequence, and that segments are contiguous. "
      "Prints a one-line summary.\nExit status: 0 if the log is intact (a torn tail on the last "
      "segment, left by a crash, is reported but accepted: opening the log cuts it off; those "
      "records were never acknowledged), 1 if a segment is corrupt or missing (the message names "
      "the segment file and byte offset), 2 on other errors.");
  verify->add_option("DIR", verify_dir, "WAL directory")->required();
  verify->add_flag("--strict", strict, "Also exit 1 on a torn tail of the last segment");
  verify->callback([] { SetExitCode(RunVerify(verify_dir, strict)); });
}

}  // namespace nobus::cli
