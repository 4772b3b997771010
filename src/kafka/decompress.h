// The compression codecs of Kafka record batches (spec ../shared/specs/kafka-produce.md 2.6,
// attributes bits 0-2) and one bounded decoder for all of them. Used by record_batch.cc on the
// records section of each Produce batch; exposed for tests and tools.
//
//   gzip    RFC 1952 (zlib), one or more members
//   snappy  raw snappy (librdkafka) or the xerial snappy-java framing (Java, kafka-python):
//           magic 82 'SNAPPY' 00, INT32 version, INT32 compat, then [INT32 length, raw block]*
//   lz4     LZ4 frame format (lz4frame.h), one or more frames
//   zstd    zstd frames, decoded as a stream (the content size may be absent)
//
// Decompression bombs: the output is bounded by `max_bytes` while it is produced (never
// allocated past it plus one growth step), and zstd frames asking for a window larger than
// max(8 MiB, max_bytes) are refused. Pure function, thread-safe; per-call decoder state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::kafka {

enum class Compression : int8_t { kNone = 0, kGzip = 1, kSnappy = 2, kLz4 = 3, kZstd = 4 };

// "none", "gzip", "snappy", "lz4", "zstd"; "unknown" otherwise.
std::string_view CompressionName(Compression codec);

// Replaces `out` with `in` decoded by `codec` (a copy for kNone). Errors:
//   DataLoss           the bytes are not valid data of the codec (corrupt, truncated, trailing
//                      garbage), named with the codec's own message
//   ResourceExhausted  the output would exceed `max_bytes`, or a zstd window is too large
//   Unimplemented      `codec` is not one of the five
//   Internal           a decoder could not be allocated
[[nodiscard]] absl::Status Decompress(Compression codec, std::string_view in, size_t max_bytes,
                                      std::string* out);

}  // namespace nobus::kafka
