#include "kafka/record_batch.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "common/crc32c.h"
#include "kafka/wire.h"

namespace nobus::kafka {
namespace {

// Where the CRC-covered bytes start: after baseOffset, batchLength, partitionLeaderEpoch, magic
// and crc itself.
constexpr size_t kCrcStart = 8 + 4 + 4 + 1 + 4;
constexpr size_t kMagicOffset = 8 + 4 + 4;
// The smallest record: one byte each for length, attributes, timestampDelta, offsetDelta, key
// length, value length and header count.
constexpr size_t kMinRecordBytes = 7;

absl::Status Corrupt(const absl::Status& reader_error) {
  return absl::DataLossError(Cat("corrupt record batch: ", reader_error.message()));
}

absl::Status Invalid(std::string_view problem) {
  return absl::InvalidArgumentError(Cat("invalid record batch: ", problem));
}

// The fields after magic (crc..recordCount) from `r`.
absl::Status ReadHeaderTail(Reader& r, BatchHeader& h) {
  NOBUS_ASSIGN_OR_RETURN(h.crc, r.Uint32("crc"));
  NOBUS_ASSIGN_OR_RETURN(h.attributes, r.Int16("attributes"));
  NOBUS_ASSIGN_OR_RETURN(h.last_offset_delta, r.Int32("lastOffsetDelta"));
  NOBUS_ASSIGN_OR_RETURN(h.base_timestamp, r.Int64("baseTimestamp"));
  NOBUS_ASSIGN_OR_RETURN(h.max_timestamp, r.Int64("maxTimestamp"));
  NOBUS_ASSIGN_OR_RETURN(h.producer_id, r.Int64("producerId"));
  NOBUS_ASSIGN_OR_RETURN(h.producer_epoch, r.Int16("producerEpoch"));
  NOBUS_ASSIGN_OR_RETURN(h.base_sequence, r.Int32("baseSequence"));
  NOBUS_ASSIGN_OR_RETURN(h.record_count, r.Int32("recordCount"));
  return absl::OkStatus();
}

// A varint-length byte string of the record format: -1 is null.
absl::StatusOr<std::optional<std::string_view>> VarintBytes(Reader& r, std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(int32_t n, r.Varint(Cat(field, " length")));
  if (n == -1) return std::nullopt;
  if (n < -1) return absl::InvalidArgumentError(Cat(field, " length ", n));
  NOBUS_ASSIGN_OR_RETURN(std::string_view v, r.Raw(static_cast<size_t>(n), field));
  return v;
}

absl::Status ReadRecordBody(Reader& b, int32_t index, const BatchHeader& h, Record& rec) {
  NOBUS_ASSIGN_OR_RETURN(rec.attributes, b.Int8("attributes"));
  NOBUS_ASSIGN_OR_RETURN(rec.timestamp_delta, b.Varlong("timestampDelta"));
  rec.timestamp_ms = static_cast<int64_t>(static_cast<uint64_t>(h.base_timestamp) +
                                          static_cast<uint64_t>(rec.timestamp_delta));
  NOBUS_ASSIGN_OR_RETURN(rec.offset_delta, b.Varint("offsetDelta"));
  if (rec.offset_delta != index) {
    return absl::InvalidArgumentError(Cat("offsetDelta ", rec.offset_delta, ", expected ", index));
  }
  NOBUS_ASSIGN_OR_RETURN(rec.key, VarintBytes(b, "key"));
  NOBUS_ASSIGN_OR_RETURN(rec.value, VarintBytes(b, "value"));
  NOBUS_ASSIGN_OR_RETURN(int32_t header_count, b.Varint("header count"));
  if (header_count < 0 || static_cast<size_t>(header_count) > b.remaining() / 2) {
    return absl::InvalidArgumentError(
        Cat("header count ", header_count, " with ", b.remaining(), " bytes left"));
  }
  rec.headers.reserve(static_cast<size_t>(header_count));
  for (int32_t i = 0; i < header_count; ++i) {
    RecordHeader& header = rec.headers.emplace_back();
    NOBUS_ASSIGN_OR_RETURN(std::optional<std::string_view> key,
                           VarintBytes(b, Cat("header ", i, " key")));
    if (!key.has_value()) return absl::InvalidArgumentError(Cat("header ", i, " has a null key"));
    header.key = *key;
    NOBUS_ASSIGN_OR_RETURN(header.value, VarintBytes(b, Cat("header ", i, " value")));
  }
  return b.ExpectEnd("record (its length covers more than its fields)");
}

// Decodes the record_count records of `section`, which must hold exactly them.
absl::Status ReadRecords(std::string_view section, const BatchHeader& h,
                         std::vector<Record>& records) {
  records.reserve(std::min<size_t>(static_cast<size_t>(h.record_count),
                                   section.size() / kMinRecordBytes + 1));
  Reader r(section);
  for (int32_t i = 0; i < h.record_count; ++i) {
    if (r.empty()) {
      return Invalid(Cat("the batch declares ", h.record_count, " records but holds ", i));
    }
    const size_t start = r.position();
    absl::Status st = [&]() -> absl::Status {
      NOBUS_ASSIGN_OR_RETURN(int32_t length, r.Varint("length"));
      if (length < 0) return absl::InvalidArgumentError(Cat("negative length ", length));
      NOBUS_ASSIGN_OR_RETURN(std::string_view body, r.Raw(static_cast<size_t>(length), "body"));
      Reader b(body);
      return ReadRecordBody(b, i, h, records.emplace_back());
    }();
    if (!st.ok()) {
      return Invalid(Cat("record ", i, " (byte ", start, " of the records): ", st.message()));
    }
  }
  if (!r.empty()) {
    return Invalid(Cat(r.remaining(), " bytes after the ", h.record_count, " declared records"));
  }
  return absl::OkStatus();
}

}  // namespace

int32_t BatchHeader::LastSequence() const {
  if (base_sequence < 0) return -1;
  int64_t last = static_cast<int64_t>(base_sequence) + last_offset_delta;
  const int64_t kWrap = static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1;
  if (last >= kWrap) last -= kWrap;
  return static_cast<int32_t>(last);
}

absl::StatusOr<BatchHeader> ParseBatchHeader(std::string_view records) {
  if (records.empty()) return Invalid("the records field holds no record batch");
  Reader r(records);
  BatchHeader h;
  // Byte 16 is the magic in every message format, so an old one is named as such, not as corrupt.
  if (records.size() > kMagicOffset && records[kMagicOffset] != kBatchMagic) {
    return Invalid(Cat("magic ", static_cast<int>(records[kMagicOffset]),
                       " (message format v0/v1 or garbage); only magic 2 record batches are "
                       "accepted"));
  }
  absl::Status st = [&]() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(h.base_offset, r.Int64("baseOffset"));
    NOBUS_ASSIGN_OR_RETURN(h.batch_length, r.Int32("batchLength"));
    NOBUS_ASSIGN_OR_RETURN(h.partition_leader_epoch, r.Int32("partitionLeaderEpoch"));
    NOBUS_ASSIGN_OR_RETURN(h.magic, r.Int8("magic"));
    return absl::OkStatus();
  }();
  if (!st.ok()) return Corrupt(st);
  if (h.batch_length < kMinBatchLength) {
    return absl::DataLossError(Cat("corrupt record batch: batchLength ", h.batch_length,
                                   " is below the header's ", kMinBatchLength, " bytes"));
  }
  if (h.size_bytes() > records.size()) {
    return absl::DataLossError(Cat("corrupt record batch: truncated, batchLength ", h.batch_length,
                                   " needs ", h.size_bytes(), " bytes, the records field holds ",
                                   records.size()));
  }
  if (h.size_bytes() < records.size()) {
    const size_t extra = records.size() - h.size_bytes();
    return Invalid(Cat(extra, " bytes after the batch of ", h.size_bytes(), " bytes",
                       extra > kMagicOffset ? " (a second batch?)" : "",
                       "; a Produce partition must hold exactly one record batch"));
  }
  if (st = ReadHeaderTail(r, h); !st.ok()) return Corrupt(st);
  const uint32_t crc = crc32c::Value(records.substr(kCrcStart, h.size_bytes() - kCrcStart));
  if (crc != h.crc) {
    return absl::DataLossError(Cat("corrupt record batch: CRC-32C mismatch (stored ", h.crc,
                                   ", computed ", crc, ")"));
  }
  if (static_cast<int>(h.compression()) > static_cast<int>(Compression::kZstd)) {
    return absl::UnimplementedError(Cat("record batch compression codec ",
                                        static_cast<int>(h.compression()), " is unknown"));
  }
  if (h.is_control()) return Invalid("control batches are written by brokers, not producers");
  if (h.record_count <= 0) return Invalid(Cat("record count ", h.record_count));
  if (static_cast<int64_t>(h.last_offset_delta) + 1 != h.record_count) {
    return Invalid(Cat("lastOffsetDelta ", h.last_offset_delta, " disagrees with record count ",
                       h.record_count));
  }
  return h;
}

absl::StatusOr<RecordBatch> DecodeRecordBatch(std::string_view records,
                                              size_t max_records_bytes) {
  RecordBatch batch;
  NOBUS_ASSIGN_OR_RETURN(batch.header, ParseBatchHeader(records));
  std::string_view payload =
      records.substr(kBatchHeaderBytes, batch.header.size_bytes() - kBatchHeaderBytes);
  auto bytes = std::make_shared<std::string>();
  absl::Status st = Decompress(batch.header.compression(), payload, max_records_bytes, bytes.get());
  if (!st.ok()) {
    return Annotate(st, Cat("record batch (", CompressionName(batch.header.compression()), ")"));
  }
  batch.bytes = bytes;
  NOBUS_RETURN_IF_ERROR(ReadRecords(*batch.bytes, batch.header, batch.records));
  return batch;
}

ErrorCode BatchErrorCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return ErrorCode::kNone;
    case absl::StatusCode::kDataLoss: return ErrorCode::kCorruptMessage;
    case absl::StatusCode::kInvalidArgument: return ErrorCode::kInvalidRecord;
    case absl::StatusCode::kUnimplemented: return ErrorCode::kUnsupportedCompressionType;
    case absl::StatusCode::kResourceExhausted: return ErrorCode::kMessageTooLarge;
    default: return ErrorCode::kUnknownServerError;
  }
}

}  // namespace nobus::kafka
