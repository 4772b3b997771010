// RecordBatch v2 (magic 2), the unit a Kafka producer sends per partition in the `records` bytes
// of a Produce request (spec ../shared/specs/kafka-produce.md 2.6). The Produce handler decodes
// exactly one batch per partition here, then validates each record value as a table row;
// idempotent producers are checked on the header alone (ParseBatchHeader) before anything is
// decompressed or written.
//
//   baseOffset INT64 | batchLength INT32 | partitionLeaderEpoch INT32 | magic INT8 (= 2)
//   | crc UINT32 (CRC-32C of attributes..end) | attributes INT16 | lastOffsetDelta INT32
//   | baseTimestamp INT64 | maxTimestamp INT64 | producerId INT64 | producerEpoch INT16
//   | baseSequence INT32 | recordCount INT32 | records (compressed per attributes bits 0-2)
//   record: length varint | attributes INT8 | timestampDelta varlong | offsetDelta varint
//   | key varint-length bytes (-1 null) | value likewise | headerCount varint
//   | [header key varint-length string | header value varint-length bytes (-1 null)]*
//
// Errors are absl::Status; the status code says which Kafka error code the partition gets, one to
// one (BatchErrorCode), and the message says precisely what was wrong:
//   DataLoss           -> CORRUPT_MESSAGE (2): the batch frame is truncated or its length is
//                         impossible, the CRC does not match, the compressed data is undecodable
//   InvalidArgument    -> INVALID_RECORD (87): no batch, magic != 2, bytes after the batch (e.g. a
//                         second batch), a control batch, a record count that is not positive or
//                         disagrees with lastOffsetDelta or with the records, a record that is
//                         malformed although the CRC matched, offset deltas not 0, 1, 2, ...
//   Unimplemented      -> UNSUPPORTED_COMPRESSION_TYPE (76): codec 5, 6 or 7 (attributes bits 0-2)
//   ResourceExhausted  -> MESSAGE_TOO_LARGE (10): the records decompress to more than the cap
//   anything else      -> UNKNOWN_SERVER_ERROR (-1)
// (Produce < v7 with zstd is also UNSUPPORTED_COMPRESSION_TYPE; the handler knows the version and
// checks header.compression().)
//
// Pure functions, thread-safe. A decoded RecordBatch owns the decompressed bytes its records
// point into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "kafka/api.h"
#include "kafka/decompress.h"

namespace nobus::kafka {

inline constexpr size_t kBatchHeaderBytes = 61;
// batchLength counts the bytes after it: the header after its first 12 bytes, then the records.
inline constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderBytes) - 12;
inline constexpr int8_t kBatchMagic = 2;

struct BatchHeader {
  int64_t base_offset = 0;  // set by the producer (0); the broker assigns the real offsets
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = 0;
  int8_t magic = 0;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  int64_t producer_id = -1;  // -1: not an idempotent producer
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t record_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & 0x07); }
  bool log_append_time() const { return (attributes & 0x08) != 0; }  // else CreateTime
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
  bool has_delete_horizon() const { return (attributes & 0x40) != 0; }
  // An idempotent batch. Decided on producerId alone: kafkajs sends epoch 0 and sequence 0
  // without a producer id.
  bool has_producer_id() const { return producer_id >= 0; }
  // The sequence of the last record: base_sequence + last_offset_delta, wrapping past INT32_MAX
  // to 0 as producers do; -1 if base_sequence is -1.
  int32_t LastSequence() const;
  // The batch's size on the wire (its 12-byte prefix included).
  size_t size_bytes() const { return 12 + static_cast<size_t>(batch_length); }
};

struct RecordHeader {
  std::string_view key;
  std::optional<std::string_view> value;  // nullopt: null
};

struct Record {
  int8_t attributes = 0;  // unused by Kafka
  int64_t timestamp_delta = 0;
  int64_t timestamp_ms = 0;  // base_timestamp + timestamp_delta (two's complement wrap)
  int32_t offset_delta = 0;  // the record's index in the batch (checked)
  std::optional<std::string_view> key;    // nullopt: null
  std::optional<std::string_view> value;  // nullopt: null (a tombstone)
  std::vector<RecordHeader> headers;
};

struct RecordBatch {
  BatchHeader header;
  std::vector<Record> records;  // header.record_count of them
  // The records section, decompressed. Every view in `records` points into it; held by pointer,
  // so the views stay valid when the RecordBatch is moved or copied.
  std::shared_ptr<const std::string> bytes;
};

// Parses and checks the batch header of the `records` field of one Produce partition, without
// decompressing: the frame length, magic, nothing after the batch, the CRC, the codec and the
// record count (see the error table above).
[[nodiscard]] absl::StatusOr<BatchHeader> ParseBatchHeader(std::string_view records);

// ParseBatchHeader, then decompresses the records section (at most `max_records_bytes`
// decompressed; uncompressed batches are held to it too) and decodes every record.
[[nodiscard]] absl::StatusOr<RecordBatch> DecodeRecordBatch(std::string_view records,
                                                            size_t max_records_bytes);

// The Kafka error code for a status returned by ParseBatchHeader / DecodeRecordBatch (kNone for
// OK), by the table above. Annotate() keeps the code, so annotated statuses map the same.
ErrorCode BatchErrorCode(const absl::Status& status);

}  // namespace nobus::kafka
