#include "parquet/compression.h"

#include <snappy.h>
#include <zstd.h>

namespace nobus::parquet {

Compressor::Compressor(Codec codec, int zstd_level) : codec_(codec), zstd_level_(zstd_level) {}

Compressor::~Compressor() {
  if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

absl::Status Compressor::Compress(std::string_view in, std::string* out) {
  switch (codec_) {
    case Codec::kUncompressed:
      out->assign(in.data(), in.size());
      return absl::OkStatus();
    case Codec::kSnappy: {
      out->resize(snappy::MaxCompressedLength(in.size()));
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), out->data(), &n);
      out->resize(n);
      return absl::OkStatus();
    }
    case Codec::kZstd: {
      if (zstd_ctx_ == nullptr) zstd_ctx_ = ZSTD_createCCtx();
      if (zstd_ctx_ == nullptr) return absl::ResourceExhaustedError("ZSTD_createCCtx failed");
      out->resize(ZSTD_compressBound(in.size()));
      size_t n = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_), out->data(), out->size(),
                                   in.data(), in.size(), zstd_level_);
      if (ZSTD_isError(n)) {
        return absl::InternalError(Cat("zstd compression failed: ", ZSTD_getErrorName(n)));
      }
      out->resize(n);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(Cat("unsupported codec ", static_cast<int>(codec_)));
}

}  // namespace nobus::parquet
