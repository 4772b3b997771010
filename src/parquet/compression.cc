#include "parquet/compression.h"

#include <snappy.h>
#include <zstd.h>

#include <memory>

namespace nobus::parquet {

namespace {

struct FreeZstd {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
};

// The calling thread's ZSTD context, created on first use. ZSTD_compressCCtx starts every frame
// afresh, so column writers on one thread can share it.
ZSTD_CCtx* ThreadZstdContext() {
  thread_local std::unique_ptr<ZSTD_CCtx, FreeZstd> ctx(ZSTD_createCCtx());
  return ctx.get();
}

}  // namespace

Compressor::Compressor(Codec codec, int zstd_level) : codec_(codec), zstd_level_(zstd_level) {}

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
      ZSTD_CCtx* ctx = ThreadZstdContext();
      if (ctx == nullptr) return absl::ResourceExhaustedError("ZSTD_createCCtx failed");
      out->resize(ZSTD_compressBound(in.size()));
      size_t n = ZSTD_compressCCtx(ctx, out->data(), out->size(), in.data(), in.size(), zstd_level_);
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
