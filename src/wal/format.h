// The WAL's on-disk format (doc/wal.md has the byte diagrams): segment file names, the 32-byte
// segment header, record framing (masked CRC32C, length, type, first LSN) and a parser that walks
// the records of one segment held in memory. Used by the writer (encoding), by recovery and
// ReadFrom (parsing) and by `nobus wal dump/verify`. Pure functions plus a parser object:
// thread-compatible, no I/O. The parser never trusts its input: any malformed byte sequence ends
// the walk with kBad and a reason, never an assertion.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::wal {

// Log sequence number: every payload appended gets the next one, starting at 1. 0 means "none".
using Lsn = uint64_t;

inline constexpr char kSegmentMagic[8] = {'N', 'O', 'B', 'U', 'S', 'W', 'A', 'L'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;
inline constexpr size_t kRecordHeaderSize = 17;
inline constexpr std::string_view kSegmentSuffix = ".wal";
// The next segment, prepared ahead of a roll before it has a first LSN; recovery ignores it.
inline constexpr std::string_view kPreparedSegmentName = "next-segment.tmp";
// Upper bound on one record's body, whatever the options say; larger lengths are corruption.
inline constexpr uint32_t kMaxRecordBodyBytes = 1u << 30;

enum class RecordType : uint8_t {
  kZero = 0,   // never written: a header of zero bytes marks the unwritten (pre-zeroed) tail
  kFull = 1,   // the body is one payload
  kBatch = 2,  // the body is varint count, then count times (varint length, bytes)
};

struct SegmentHeader {
  Lsn first_lsn = 0;
  uint32_t flags = 0;  // bit 0: the file was pre-zeroed to its full size
};
inline constexpr uint32_t kFlagPrezeroed = 1;

// "00000000000000000042.wal": the LSN of the segment's first record, 20 digits.
std::string SegmentFileName(Lsn first_lsn);
// Parses a segment file name; false for anything else in the directory.
bool ParseSegmentFileName(std::string_view name, Lsn* first_lsn);

std::string EncodeSegmentHeader(const SegmentHeader& header);
// Decodes and checks magic, version and CRC. On failure returns false and sets `why`.
bool DecodeSegmentHeader(std::string_view data, SegmentHeader* header, std::string* why);

// Size on disk of a record holding `payloads` (header included).
size_t FramedSize(std::span<const std::string_view> payloads);
// Appends one framed record holding `payloads` (kFull if one, kBatch otherwise) with LSNs
// first_lsn, first_lsn + 1, ... to `out`. `payloads` must not be empty.
void AppendRecord(Lsn first_lsn, std::span<const std::string_view> payloads, std::string* out);

// One record found by the parser; `body` points into the parsed buffer.
struct RecordView {
  uint64_t offset = 0;       // of the record header within the segment file
  uint64_t framed_size = 0;  // header + body
  RecordType type = RecordType::kFull;
  Lsn first_lsn = 0;
  uint32_t count = 0;  // payloads in the record; LSNs first_lsn .. first_lsn + count - 1
  uint32_t masked_crc = 0;
  std::string_view body;
};

// Calls `visit(lsn, payload)` for each payload of a record the parser accepted; stops at the first
// non-OK status and returns it.
absl::Status ForEachPayload(const RecordView& record,
                            const std::function<absl::Status(Lsn, std::string_view)>& visit);

// Looks for a well-formed record (plausible header, matching CRC, LSN >= min_lsn) starting
// anywhere in data[from, end). Used after a bad record to tell a torn tail (nothing valid follows)
// from corruption in the middle of the data. Returns its offset, or 0 if there is none.
uint64_t FindValidRecordAfter(std::string_view data, uint64_t from, Lsn min_lsn);

// Walks the records of one segment file's bytes (header included). Lifecycle: construct, then
// call Next until it returns something other than kRecord. Thread-compatible; `data` must outlive
// the parser and the RecordViews it returns.
class SegmentParser {
 public:
  enum class Result {
    kRecord,  // *record filled in
    kEnd,     // clean end: end of data, or a zero header followed only by zero bytes
    kBad,     // torn or corrupt record at offset(); reason() says why
  };

  // `first_lsn` is the LSN the first record must carry (from the segment header).
  SegmentParser(std::string_view data, Lsn first_lsn);

  Result Next(RecordView* record);
  // Offset just past the last accepted record (where a bad record starts).
  uint64_t offset() const { return offset_; }
  // The LSN the next record must start with.
  Lsn next_lsn() const { return next_lsn_; }
  const std::string& reason() const { return reason_; }

 private:
  Result Bad(std::string reason);
  bool ZeroFrom(uint64_t offset) const;

  std::string_view data_;
  uint64_t offset_;
  Lsn next_lsn_;
  std::string reason_;
};

}  // namespace nobus::wal
