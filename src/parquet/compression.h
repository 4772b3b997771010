// Page compression for the Parquet writer: SNAPPY (raw block format, not framed) and ZSTD
// (standard frame). One Compressor per column writer, reused for every page so the ZSTD context is
// allocated once. Not thread-safe; owns its ZSTD context.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "parquet/writer.h"

namespace nobus::parquet {

class Compressor {
 public:
  Compressor(Codec codec, int zstd_level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  Codec codec() const { return codec_; }
  // Replaces `out` with the compressed form of `in` (a copy for kUncompressed).
  [[nodiscard]] absl::Status Compress(std::string_view in, std::string* out);

 private:
  Codec codec_;
  int zstd_level_;
  void* zstd_ctx_ = nullptr;  // ZSTD_CCtx*, created on first use
};

}  // namespace nobus::parquet
