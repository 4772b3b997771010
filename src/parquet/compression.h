// Page compression for the Parquet writer: SNAPPY (raw block format, not framed) and ZSTD
// (standard frame). One Compressor per column writer. Not thread-safe. ZSTD contexts belong to the
// calling thread (one per thread, kept for the thread's life): creating one costs more than
// compressing a small page, and a commit worker writes many small files.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "parquet/writer.h"

namespace nobus::parquet {

// zstd levels a setting may name: the fast negative levels down to -7, up to zstd's maximum.
inline constexpr int kMinZstdLevel = -7;
inline constexpr int kMaxZstdLevel = 22;

// Reads a data-file compression setting (nobusd's --parquet-compression): "snappy", "zstd" (level
// 3), "zstd:LEVEL" (lower is faster and larger) or "none". Sets options->codec and, for zstd,
// options->zstd_level; InvalidArgument naming the accepted forms otherwise.
[[nodiscard]] absl::Status ParseCompression(std::string_view text, WriterOptions* options);

class Compressor {
 public:
  Compressor(Codec codec, int zstd_level);
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  Codec codec() const { return codec_; }
  // Replaces `out` with the compressed form of `in` (a copy for kUncompressed).
  [[nodiscard]] absl::Status Compress(std::string_view in, std::string* out);

 private:
  Codec codec_;
  int zstd_level_;
};

}  // namespace nobus::parquet
