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
