#include "kafka/record_batch_test_util.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "common/crc32c.h"
#include "kafka/record_batch.h"
#include "kafka/wire.h"

namespace nobus::kafka::testing {
namespace {

void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "record_batch_test_util: %s failed\n", what);
    std::abort();
  }
}

void VarintBytes(Writer& w, const std::optional<std::string>& v) {
  if (!v.has_value()) {
    w.Varint(-1);
    return;
  }
  w.Varint(static_cast<int32_t>(v->size()));
  w.Raw(*v);
}

std::string Gzip(std::string_view data) {
  z_stream zs{};
  Require(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK,
          "deflateInit2");
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  Require(deflate(&zs, Z_FINISH) == Z_STREAM_END, "deflate");
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::string RawSnappy(std::string_view data) {
  std::string out;
  snappy::Compress(data.data(), data.size(), &out);
  return out;
}

// The xerial snappy-java stream: magic 82 'SNAPPY' 00, version 1, compatible version 1, then
// each block as an INT32 length and a raw snappy block.
std::string XerialSnappy(std::string_view data, size_t block_bytes) {
  std::string out("\x82SNAPPY\0", 8);
  Writer w(&out);
  w.Int32(1);
  w.Int32(1);
  for (size_t at = 0; at < data.size(); at += block_bytes) {
    std::string block = RawSnappy(data.substr(at, block_bytes));
    w.Int32(static_cast<int32_t>(block.size()));
    w.Raw(block);
  }
  return out;
}

std::string Lz4Frame(std::string_view data) {
  std::string out(LZ4F_compressFrameBound(data.size(), nullptr), '\0');
  size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), nullptr);
  Require(!LZ4F_isError(n), "LZ4F_compressFrame");
  out.resize(n);
  return out;
}

std::string Zstd(std::string_view data, bool content_size) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  Require(cctx != nullptr, "ZSTD_createCCtx");
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
  std::string out(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer dst{out.data(), out.size(), 0};
  size_t rc = ZSTD_compressStream2(cctx, &dst, &in, ZSTD_e_end);
  Require(rc == 0, "ZSTD_compressStream2");
  out.resize(dst.pos);
  ZSTD_freeCCtx(cctx);
  return out;
}

}  // namespace

std::string EncodeRecords(const std::vector<TestRecord>& records) {
  std::string out;
  Writer w(&out);
  for (size_t i = 0; i < records.size(); ++i) {
    const TestRecord& r = records[i];
    std::string body;
    Writer b(&body);
    b.Int8(0);
    b.Varlong(r.timestamp_delta);
    b.Varint(static_cast<int32_t>(i));
    VarintBytes(b, r.key);
    VarintBytes(b, r.value);
    b.Varint(static_cast<int32_t>(r.headers.size()));
    for (const auto& [key, value] : r.headers) {
      VarintBytes(b, key);
      VarintBytes(b, value);
    }
    w.Varint(static_cast<int32_t>(body.size()));
    w.Raw(body);
  }
  return out;
}

std::string CompressForTest(std::string_view data, const TestBatchOptions& options) {
  switch (options.codec) {
    case Compression::kNone: return std::string(data);
    case Compression::kGzip: return Gzip(data);
    case Compression::kSnappy:
      return options.xerial ? XerialSnappy(data, options.xerial_block_bytes) : RawSnappy(data);
    case Compression::kLz4: return Lz4Frame(data);
    case Compression::kZstd: return Zstd(data, options.zstd_content_size);
  }
  std::abort();
}

std::string WrapBatch(int16_t attributes, int32_t record_count, std::string_view payload,
                      const TestBatchOptions& o) {
  std::string out;
  Writer w(&out);
  w.Int64(o.base_offset);
  w.Int32(static_cast<int32_t>(kBatchHeaderBytes - 12 + payload.size()));
  w.Int32(o.partition_leader_epoch);
  w.Int8(kBatchMagic);
  w.Uint32(0);  // crc, below
  w.Int16(attributes);
  w.Int32(record_count - 1);
  w.Int64(o.base_timestamp);
  w.Int64(o.base_timestamp);
  w.Int64(o.producer_id);
  w.Int16(o.producer_epoch);
  w.Int32(o.base_sequence);
  w.Int32(record_count);
  w.Raw(payload);
  FixCrc(out);
  return out;
}

std::string EncodeBatch(const std::vector<TestRecord>& records, const TestBatchOptions& o) {
  const int16_t attributes = static_cast<int16_t>(static_cast<int16_t>(o.codec) |
                                                  o.extra_attributes);
  return WrapBatch(attributes, static_cast<int32_t>(records.size()),
                   CompressForTest(EncodeRecords(records), o), o);
}

void FixCrc(std::string& batch) {
  constexpr size_t kCrcAt = 17;
  Require(batch.size() >= kBatchHeaderBytes, "FixCrc on a short batch");
  uint32_t crc = crc32c::Value(std::string_view(batch).substr(kCrcAt + 4));
  for (int i = 0; i < 4; ++i) batch[kCrcAt + i] = static_cast<char>(crc >> (8 * (3 - i)));
}

}  // namespace nobus::kafka::testing
