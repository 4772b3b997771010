// Reading a WAL directory back: listing segment files, scanning one segment (header check and a
// record walk), and recovery at open — the rules of doc/wal.md "Recovery". Used by Wal::Open,
// Wal::ReadFrom and `nobus wal dump/verify`; internal to src/wal (other folders use wal.h).
// Free functions, thread-safe as long as nobody writes the scanned files concurrently.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "wal/format.h"

namespace nobus::wal {

struct SegmentFile {
  std::string path;
  Lsn first_lsn = 0;  // from the file name
};

// Segment files of `dir` in LSN order; other files are ignored.
absl::StatusOr<std::vector<SegmentFile>> ListSegments(env::FileSystem* fs, std::string_view dir);

// What a scan found in one segment. A bad record ends the walk: later bytes are not looked at.
struct SegmentScan {
  uint64_t file_size = 0;
  bool header_ok = false;
  SegmentHeader header;
  uint64_t records = 0;
  uint64_t valid_end = 0;  // offset just past the last good record (or the header)
  Lsn next_lsn = 0;        // the LSN after the last good record (first_lsn if none)
  bool clean = false;      // header ok and the walk reached a clean end
  uint64_t bad_offset = 0;
  std::string reason;               // why the header or the record at bad_offset is bad
  uint64_t later_valid_offset = 0;  // a good record found after bad_offset (0: none)
  bool body_zero = false;  // every byte after the header position is zero (or there is none)
};

using RecordVisitor = std::function<absl::Status(const RecordView&)>;

// Scans a segment's bytes. `visitor` (may be empty) sees each good record; its error stops the
// scan and is returned. `name_lsn` is the first LSN the file name promises.
absl::StatusOr<SegmentScan> ScanSegmentBytes(std::string_view data, Lsn name_lsn,
                                             const RecordVisitor& visitor);
// Reads the file (at most `limit` bytes) and scans it. Errors: I/O, or the visitor's.
absl::StatusOr<SegmentScan> ScanSegment(env::FileSystem* fs, const SegmentFile& segment,
                                        uint64_t limit, const RecordVisitor& visitor);

// The state of a log after recovery.
struct RecoveredLog {
  std::vector<SegmentFile> segments;  // remaining segments, LSN order
  Lsn next_lsn = 1;                   // the LSN the next append gets
  uint64_t truncated_bytes = 0;       // torn tail cut from the last segment
};

// Per-segment report for CheckLog callers (dump/verify).
using SegmentReporter = std::function<void(const SegmentFile&, const SegmentScan&, bool is_last)>;

// Applies the recovery rules to `dir`. With `repair`, cuts a torn or corrupt tail off the last
// segment (truncate + sync); without it, changes nothing. A bad record in the last segment that
// is followed by a well-formed record is corruption, not a torn tail: DataLoss (cutting there
// could drop acknowledged records). A last segment whose header is bad but
// whose body is all zero (creation interrupted) is accepted as empty. Corruption in any other
// segment, or an LSN gap between segments, is DataLoss naming the file and offset. `reporter`
// and `visitor` may be empty.
absl::StatusOr<RecoveredLog> CheckLog(env::FileSystem* fs, std::string_view dir, bool repair,
                                      const SegmentReporter& reporter,
                                      const RecordVisitor& visitor);

}  // namespace nobus::wal
