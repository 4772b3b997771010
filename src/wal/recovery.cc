#include "wal/recovery.h"

#include <algorithm>
#include <limits>

#include "common/logging.h"

namespace nobus::wal {

absl::StatusOr<std::vector<SegmentFile>> ListSegments(env::FileSystem* fs, std::string_view dir) {
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  std::vector<SegmentFile> out;
  for (const std::string& name : names) {
    Lsn lsn;
    if (ParseSegmentFileName(name, &lsn)) out.push_back({env::JoinPath(dir, name), lsn});
  }
  std::sort(out.begin(), out.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.first_lsn < b.first_lsn; });
  return out;
}

absl::StatusOr<SegmentScan> ScanSegmentBytes(std::string_view data, Lsn name_lsn,
                                             const RecordVisitor& visitor) {
  SegmentScan scan;
  scan.file_size = data.size();
  scan.next_lsn = name_lsn;
  scan.body_zero = data.size() <= kSegmentHeaderSize ||
                   data.find_first_not_of('\0', kSegmentHeaderSize) == std::string_view::npos;
  if (!DecodeSegmentHeader(data, &scan.header, &scan.reason)) return scan;
  if (scan.header.first_lsn != name_lsn) {
    scan.reason = Cat("segment header says first LSN ", scan.header.first_lsn,
                      " but the file name says ", name_lsn);
    return scan;
  }
  scan.header_ok = true;
  scan.valid_end = kSegmentHeaderSize;
  SegmentParser parser(data, name_lsn);
  RecordView record;
  SegmentParser::Result r;
  while ((r = parser.Next(&record)) == SegmentParser::Result::kRecord) {
    if (visitor) NOBUS_RETURN_IF_ERROR(visitor(record));
    ++scan.records;
  }
  scan.valid_end = parser.offset();
  scan.next_lsn = parser.next_lsn();
  if (r == SegmentParser::Result::kEnd) {
    scan.clean = true;
  } else {
    scan.bad_offset = parser.offset();
    scan.reason = parser.reason();
    scan.later_valid_offset = FindValidRecordAfter(data, scan.bad_offset + 1, parser.next_lsn());
  }
  return scan;
}

absl::StatusOr<SegmentScan> ScanSegment(env::FileSystem* fs, const SegmentFile& segment,
                                        uint64_t limit, const RecordVisitor& visitor) {
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(segment.path, env::OpenMode::kRead));
  NOBUS_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  std::string data(std::min(size, limit), '\0');
  NOBUS_ASSIGN_OR_RETURN(size_t n, file->ReadAt(0, data.size(), data.data()));
  data.resize(n);
  NOBUS_RETURN_IF_ERROR(file->Close());
  return ScanSegmentBytes(data, segment.first_lsn, visitor);
}

namespace {

absl::Status Corrupt(const SegmentFile& segment, const SegmentScan& scan) {
  return absl::DataLossError(Cat("wal segment ", segment.path, " is corrupt at offset ",
                                 scan.header_ok ? scan.bad_offset : 0, ": ", scan.reason));
}

// Repairs the last segment by cutting a bad tail. A segment whose header never became durable is
// left alone: its first LSN is the next LSN, and the writer re-creates it in place, so the file
// name keeps the LSN counter even if the process dies again before writing anything.
absl::Status RepairTail(env::FileSystem* fs, const SegmentFile& segment, const SegmentScan& scan,
                        RecoveredLog* log) {
  if (!scan.header_ok || scan.clean) return absl::OkStatus();
  NOBUS_LOG_WARN("wal recovery: truncating {} at offset {} ({}), {} bytes cut", segment.path,
                 scan.bad_offset, scan.reason, scan.file_size - scan.valid_end);
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(segment.path, env::OpenMode::kReadWrite));
  NOBUS_RETURN_IF_ERROR(file->Truncate(scan.valid_end));
  NOBUS_RETURN_IF_ERROR(file->Sync());
  log->truncated_bytes = scan.file_size - scan.valid_end;
  return file->Close();
}

}  // namespace

absl::StatusOr<RecoveredLog> CheckLog(env::FileSystem* fs, std::string_view dir, bool repair,
                                      const SegmentReporter& reporter,
                                      const RecordVisitor& visitor) {
  NOBUS_ASSIGN_OR_RETURN(std::vector<SegmentFile> segments, ListSegments(fs, dir));
  RecoveredLog log;
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentFile& segment = segments[i];
    const bool last = i + 1 == segments.size();
    if (i > 0 && segment.first_lsn != log.next_lsn) {
      return absl::DataLossError(Cat("wal segment ", segment.path, " starts at LSN ",
                                     segment.first_lsn, " but the previous segment ends before ",
                                     log.next_lsn, " (records missing)"));
    }
    NOBUS_ASSIGN_OR_RETURN(SegmentScan scan,
                           ScanSegment(fs, segment, std::numeric_limits<uint64_t>::max(), visitor));
    if (reporter) reporter(segment, scan, last);
    if (!last && !scan.clean) return Corrupt(segment, scan);
    log.next_lsn = scan.header_ok ? scan.next_lsn : segment.first_lsn;
    if (last && !scan.header_ok && !scan.body_zero) return Corrupt(segment, scan);
    if (last && scan.later_valid_offset != 0) {
      return absl::DataLossError(Cat("wal segment ", segment.path, " is corrupt at offset ",
                                     scan.bad_offset, ": ", scan.reason,
                                     "; a valid record follows at offset ", scan.later_valid_offset,
                                     ", so this is not a torn tail"));
    }
    if (last && repair) NOBUS_RETURN_IF_ERROR(RepairTail(fs, segment, scan, &log));
    log.segments.push_back(segment);
  }
  return log;
}

}  // namespace nobus::wal
