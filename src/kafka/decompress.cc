#include "kafka/decompress.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

#include "kafka/wire.h"

namespace nobus::kafka {
namespace {

constexpr size_t kMinGrowthBytes = 64 << 10;

// The decoded bytes, growing geometrically up to max_bytes + 1: producing that extra byte is how
// a decoder shows its output is over the limit.
class Output {
 public:
  Output(std::string* out, size_t max_bytes, size_t size_hint)
      : out_(out),
        max_(max_bytes),
        limit_(max_bytes == std::numeric_limits<size_t>::max() ? max_bytes : max_bytes + 1) {
    out_->clear();
    out_->resize(std::min(limit_, std::max(size_hint, kMinGrowthBytes)));
  }

  // Where the decoder may write next and how much; {nullptr, 0} once the limit is passed.
  std::pair<char*, size_t> Room() {
    if (used_ == out_->size()) {
      if (out_->size() >= limit_) return {nullptr, 0};
      size_t grown = out_->size() > limit_ / 2 ? limit_ : out_->size() * 2;
      out_->resize(std::max(grown, std::min(limit_, kMinGrowthBytes)));
    }
    return {out_->data() + used_, out_->size() - used_};
  }
  void Produced(size_t n) { used_ += n; }

  // Exactly `n` bytes to write into, for decoders that know the size first (snappy blocks).
  absl::StatusOr<char*> Claim(size_t n, std::string_view codec) {
    if (n > max_ - std::min(used_, max_)) return TooLarge(codec);
    if (used_ + n > out_->size()) out_->resize(used_ + n);
    char* p = out_->data() + used_;
    used_ += n;
    return p;
  }

  absl::Status TooLarge(std::string_view codec) const {
    return absl::ResourceExhaustedError(
        Cat(codec, " records decompress to more than ", max_, " bytes (the limit)"));
  }

  absl::Status Finish(std::string_view codec) {
    if (used_ > max_) return TooLarge(codec);
    out_->resize(used_);
    return absl::OkStatus();
  }

  size_t max_bytes() const { return max_; }

 private:
  std::string* out_;
  size_t max_;
  size_t limit_;
  size_t used_ = 0;
};

absl::Status Corrupt(std::string_view codec, std::string_view problem) {
  return absl::DataLossError(Cat("corrupt ", codec, " data: ", problem));
}

absl::Status Gunzip(std::string_view in, Output& out) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {  // 16: gzip wrapper only
    return absl::InternalError("inflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> cleanup(&zs, inflateEnd);
  if (in.size() > UINT_MAX) return Corrupt("gzip", "input over 4 GiB");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  for (;;) {
    auto [p, room] = out.Room();
    if (room == 0) return out.TooLarge("gzip");
    zs.next_out = reinterpret_cast<Bytef*>(p);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(room, UINT_MAX));
    const uInt offered = zs.avail_out;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.Produced(offered - zs.avail_out);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out.Finish("gzip");
      inflateReset(&zs);  // another gzip member follows
      continue;
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // needs more room
    if (rc == Z_BUF_ERROR) return Corrupt("gzip", "truncated");
    return Corrupt("gzip", zs.msg != nullptr ? zs.msg : zError(rc));
  }
}

absl::Status RawSnappy(std::string_view block, Output& out) {
  size_t n = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &n)) {
    return Corrupt("snappy", "bad length preamble");
  }
  NOBUS_ASSIGN_OR_RETURN(char* dst, out.Claim(n, "snappy"));
  if (!snappy::RawUncompress(block.data(), block.size(), dst)) {
    return Corrupt("snappy", "undecodable block");
  }
  return absl::OkStatus();
}

constexpr std::string_view kXerialMagic("\x82SNAPPY\0", 8);

// The xerial snappy-java stream: header, then [INT32 length, raw snappy block]*.
absl::Status XerialSnappy(std::string_view in, Output& out) {
  Reader r(in.substr(kXerialMagic.size()));
  auto corrupt = [](const absl::Status& st) {
    return Corrupt("xerial snappy", std::string(st.message()));
  };
  if (auto version = r.Int32("version"); !version.ok()) return corrupt(version.status());
  if (auto compat = r.Int32("compatible version"); !compat.ok()) return corrupt(compat.status());
  if (r.empty()) return Corrupt("xerial snappy", "no block after the header");
  while (!r.empty()) {
    auto length = r.Int32("block length");
    if (!length.ok()) return corrupt(length.status());
    if (*length <= 0) return Corrupt("xerial snappy", Cat("block length ", *length));
    auto block = r.Raw(static_cast<size_t>(*length), "block");
    if (!block.ok()) return corrupt(block.status());
    NOBUS_RETURN_IF_ERROR(RawSnappy(*block, out));
  }
  return absl::OkStatus();
}

absl::Status Unsnappy(std::string_view in, Output& out) {
  if (in.substr(0, kXerialMagic.size()) == kXerialMagic) {
    NOBUS_RETURN_IF_ERROR(XerialSnappy(in, out));
  } else {
    NOBUS_RETURN_IF_ERROR(RawSnappy(in, out));
  }
  return out.Finish("snappy");
}

absl::Status Unlz4(std::string_view in, Output& out) {
  if (in.empty()) return Corrupt("lz4", "empty");
  LZ4F_dctx* dctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
    return absl::InternalError("LZ4F_createDecompressionContext failed");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> cleanup(
      dctx, LZ4F_freeDecompressionContext);
  const char* src = in.data();
  const char* const end = in.data() + in.size();
  for (;;) {
    auto [p, room] = out.Room();
    if (room == 0) return out.TooLarge("lz4");
    size_t dst_n = room;
    size_t src_n = static_cast<size_t>(end - src);
    // 0 once every frame begun is complete and flushed; else more input is expected.
    size_t hint = LZ4F_decompress(dctx, p, &dst_n, src, &src_n, nullptr);
    if (LZ4F_isError(hint)) return Corrupt("lz4", LZ4F_getErrorName(hint));
    src += src_n;
    out.Produced(dst_n);
    if (src == end && hint == 0) return out.Finish("lz4");
    if (src_n == 0 && dst_n == 0) {  // room to write, yet no progress
      return Corrupt("lz4", src == end ? "truncated frame" : "decoder stalled");
    }
  }
}

int ZstdWindowLogMax(size_t max_bytes) {
  int log = std::bit_width(std::max<size_t>(max_bytes, 1) - 1);  // ceil(log2)
  return std::clamp(log, 23, 27);  // 8 MiB .. zstd's own default limit (128 MiB)
}

absl::Status Unzstd(std::string_view in, Output& out) {
  if (in.empty()) return Corrupt("zstd", "empty");
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (dctx == nullptr) return absl::InternalError("ZSTD_createDCtx failed");
  const int window_log = ZstdWindowLogMax(out.max_bytes());
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, window_log);
  ZSTD_inBuffer src{in.data(), in.size(), 0};
  for (;;) {
    auto [p, room] = out.Room();
    if (room == 0) return out.TooLarge("zstd");
    ZSTD_outBuffer dst{p, room, 0};
    const size_t consumed_before = src.pos;
    // 0 once the current frame is complete and flushed.
    size_t rc = ZSTD_decompressStream(dctx.get(), &dst, &src);
    if (ZSTD_isError(rc)) {
      if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
        return absl::ResourceExhaustedError(
            Cat("zstd frame needs a window over 2^", window_log, " bytes (the limit)"));
      }
      return Corrupt("zstd", ZSTD_getErrorName(rc));
    }
    out.Produced(dst.pos);
    if (src.pos == src.size && rc == 0) return out.Finish("zstd");
    if (dst.pos == 0 && src.pos == consumed_before) {  // room to write, yet no progress
      return Corrupt("zstd", src.pos == src.size ? "truncated frame" : "decoder stalled");
    }
  }
}

}  // namespace

std::string_view CompressionName(Compression codec) {
  switch (codec) {
    case Compression::kNone: return "none";
    case Compression::kGzip: return "gzip";
    case Compression::kSnappy: return "snappy";
    case Compression::kLz4: return "lz4";
    case Compression::kZstd: return "zstd";
  }
  return "unknown";
}

absl::Status Decompress(Compression codec, std::string_view in, size_t max_bytes,
                        std::string* out) {
  if (codec == Compression::kNone) {
    if (in.size() > max_bytes) {
      return absl::ResourceExhaustedError(
          Cat("uncompressed records of ", in.size(), " bytes exceed ", max_bytes, " (the limit)"));
    }
    out->assign(in.data(), in.size());
    return absl::OkStatus();
  }
  // A first guess at the output size (compressed JSON is typically 3-10x smaller); snappy blocks
  // state their own size.
  size_t hint = in.size() > (std::numeric_limits<size_t>::max() / 4) ? in.size() : in.size() * 4;
  if (codec == Compression::kSnappy) hint = 0;
  Output output(out, max_bytes, hint);
  switch (codec) {
    case Compression::kNone: break;  // above
    case Compression::kGzip: return Gunzip(in, output);
    case Compression::kSnappy: return Unsnappy(in, output);
    case Compression::kLz4: return Unlz4(in, output);
    case Compression::kZstd: return Unzstd(in, output);
  }
  return absl::UnimplementedError(Cat("unknown compression codec ", static_cast<int>(codec)));
}

}  // namespace nobus::kafka
