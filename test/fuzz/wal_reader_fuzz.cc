// libFuzzer target for the WAL segment reader (untrusted bytes: whatever is on disk). The input is
// one segment file. It is scanned directly, then placed in an in-memory WAL directory twice — as
// the last segment (recovery may cut its tail) and as a middle segment (recovery must report
// DataLoss or accept it whole) — and the log is opened, appended to and read back. Invariants
// checked: no crash or sanitizer report; a log that opened reads back without error; payloads
// keep their LSN order. Also compiled into wal_test as a regression over known-bad inputs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "env/mem_env.h"
#include "wal/wal.h"

namespace {

using nobus::wal::Lsn;

void Check(bool ok) {
  if (!ok) std::abort();
}

// The name LSN: taken from the header if it has one, so valid inputs get past the header check.
Lsn NameLsn(std::string_view data) {
  nobus::wal::SegmentHeader header;
  std::string why;
  if (nobus::wal::DecodeSegmentHeader(data, &header, &why) && header.first_lsn > 0 &&
      header.first_lsn < (Lsn{1} << 62))
    return header.first_lsn;
  return 1;
}

void ScanBytes(std::string_view data, Lsn first) {
  Lsn expect = first;
  auto scan = nobus::wal::ScanSegmentBytes(data, first, [&](const nobus::wal::RecordView& record) {
    return nobus::wal::ForEachPayload(record, [&](Lsn lsn, std::string_view) {
      Check(lsn == expect++);
      return absl::OkStatus();
    });
  });
  Check(scan.ok());
  Check(scan->valid_end <= data.size());
}

void OpenAndRead(std::string_view data, Lsn first, bool as_middle) {
  nobus::env::MemFileSystem fs;
  nobus::env::ManualClock clock;
  Check(fs.CreateDirs("/w").ok());
  Check(nobus::env::WriteFileDurably(
            &fs, nobus::env::JoinPath("/w", nobus::wal::SegmentFileName(first)), data)
            .ok());
  if (as_middle) {
    std::string next = nobus::wal::EncodeSegmentHeader({first + 1000000, 0});
    Check(nobus::env::WriteFileDurably(
              &fs, nobus::env::JoinPath("/w", nobus::wal::SegmentFileName(first + 1000000)), next)
              .ok());
  }
  nobus::wal::WalOptions options;
  options.segment_size_bytes = 4096;
  auto wal = nobus::wal::Wal::Open(&fs, &clock, "/w", options);
  if (!wal.ok()) return;
  auto lsn = (*wal)->Append("fuzz");
  Check(lsn.ok());
  Lsn last = 0;
  absl::Status st = (*wal)->ReadFrom(0, [&](Lsn l, std::string_view) {
    Check(l > last);
    last = l;
    return absl::OkStatus();
  });
  Check(st.ok() || st.code() == absl::StatusCode::kNotFound);
  Check((*wal)->Close().ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  const Lsn first = NameLsn(data);
  ScanBytes(data, first);
  OpenAndRead(data, first, /*as_middle=*/false);
  OpenAndRead(data, first, /*as_middle=*/true);
  return 0;
}
