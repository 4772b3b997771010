#include "parquet/compression.h"

#include <snappy.h>
#include <zstd.h>

#include <charconv>
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

absl::Status ParseCompression(std::string_view text, WriterOptions* options) {
  if (text == "snappy") {
    options->codec = Codec::kSnappy;
    return absl::OkStatus();
  }
  if (text == "none") {
    options->codec = Codec::kUncompressed;
    return absl::OkStatus();
  }
  if (text == "zstd") {
    options->codec = Codec::kZstd;
    options->zstd_level = WriterOptions{}.zstd_level;
    return absl::OkStatus();
  }
  int level = 0;
  const std::string_view digits = text.starts_with("zstd:") ? text.substr(5) : "";
  const char* end = digits.data() + digits.size();
  if (!digits.empty() && std::from_chars(digits.data(), end, level).ptr == end &&
      level >= kMinZstdLevel && level <= kMaxZstdLevel && level != 0) {
    options->codec = Codec::kZstd;
    options->zstd_level = level;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      Cat("unknown Parquet compression '", text, "': use snappy, zstd, zstd:LEVEL (LEVEL from ",
          kMinZstdLevel, " to ", kMaxZstdLevel, ", not 0; lower is faster and larger) or none"));
}

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
