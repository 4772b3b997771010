// Test-only encoder of RecordBatch v2 (the producer side nobus never needs): builds the records
// section, compresses it with each codec (snappy raw or in the xerial snappy-java framing, written
// here from the framing facts in spec 2.6), and wraps it in a batch header with a correct CRC-32C.
// Lets the unit and fuzz regression tests round-trip batches and build malformed ones on purpose.
// Pure functions, thread-safe. Not linked into nobus_kafka.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/decompress.h"

namespace nobus::kafka::testing {

struct TestRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp_delta = 0;
};

struct TestBatchOptions {
  Compression codec = Compression::kNone;
  bool xerial = false;                  // snappy in the xerial framing (else raw)
  size_t xerial_block_bytes = 32 << 10;  // uncompressed bytes per xerial block
  bool zstd_content_size = true;        // false: a streamed zstd frame without content size
  int16_t extra_attributes = 0;         // OR-ed into attributes (bits 3-6)
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;
  int64_t base_timestamp = 1700000000000;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
};

// The uncompressed records section: each record with offsetDelta = its index.
std::string EncodeRecords(const std::vector<TestRecord>& records);

// `data` compressed with `options.codec` (a copy for kNone).
std::string CompressForTest(std::string_view data, const TestBatchOptions& options);

// A batch header with `attributes`, `record_count` (lastOffsetDelta = record_count - 1) and a
// correct CRC, around `payload` used as is (already compressed, or garbage on purpose).
std::string WrapBatch(int16_t attributes, int32_t record_count, std::string_view payload,
                      const TestBatchOptions& options = {});

// A complete, valid batch of `records`.
std::string EncodeBatch(const std::vector<TestRecord>& records,
                        const TestBatchOptions& options = {});

// Recomputes the CRC of `batch` (a whole batch) after a test edited it.
void FixCrc(std::string& batch);

}  // namespace nobus::kafka::testing
