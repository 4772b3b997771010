#include "kafka/decompress.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

#include "kafka/record_batch_test_util.h"
#include "kafka/wire.h"

namespace nobus::kafka {
namespace {

using ::testing::HasSubstr;
using testing::CompressForTest;
using testing::TestBatchOptions;

constexpr size_t kCap = 1 << 20;

std::string Text(size_t n) {
  std::string s;
  while (s.size() < n) s += R"({"id":12345,"name":"some json row","ok":true})";
  s.resize(n);
  return s;
}

absl::StatusOr<std::string> DecompressAll(Compression codec, std::string_view in,
                                          size_t cap = kCap) {
  std::string out = "stale";
  NOBUS_RETURN_IF_ERROR(Decompress(codec, in, cap, &out));
  return out;
}

TEST(KafkaDecompressTest, ConcatenatedStreamsDecodeWhole) {
  const std::string a = Text(3000), b = Text(70000);
  for (Compression codec : {Compression::kGzip, Compression::kLz4, Compression::kZstd}) {
    TestBatchOptions o{.codec = codec};
    auto out = DecompressAll(codec, CompressForTest(a, o) + CompressForTest(b, o));
    ASSERT_TRUE(out.ok()) << CompressionName(codec) << ": " << out.status();
    EXPECT_EQ(*out, a + b) << CompressionName(codec);
  }
}

TEST(KafkaDecompressTest, XerialSnappyBlocks) {
  const std::string data = Text(100000);
  std::string framed = CompressForTest(data, {.codec = Compression::kSnappy, .xerial = true,
                                              .xerial_block_bytes = 32768});
  ASSERT_EQ(framed.substr(0, 8), std::string("\x82SNAPPY\0", 8));
  EXPECT_EQ(*DecompressAll(Compression::kSnappy, framed), data);
  // The raw form of the same data decodes too.
  std::string raw = CompressForTest(data, {.codec = Compression::kSnappy});
  EXPECT_EQ(*DecompressAll(Compression::kSnappy, raw), data);
}

TEST(KafkaDecompressTest, MalformedXerialFraming) {
  const std::string magic("\x82SNAPPY\0", 8);
  std::string header = magic;
  Writer(&header).Int32(1);
  Writer(&header).Int32(1);
  std::string block = CompressForTest("hello", {.codec = Compression::kSnappy});

  auto expect_corrupt = [](const std::string& in, std::string_view why) {
    auto out = DecompressAll(Compression::kSnappy, in);
    EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss) << why;
    EXPECT_THAT(out.status().message(), HasSubstr("xerial snappy")) << why;
  };
  expect_corrupt(magic, "no version");
  expect_corrupt(header, "no block");
  std::string zero = header;
  Writer(&zero).Int32(0);
  expect_corrupt(zero, "zero-length block");
  std::string negative = header;
  Writer(&negative).Int32(-5);
  expect_corrupt(negative, "negative block length");
  std::string truncated = header;
  Writer(&truncated).Int32(static_cast<int32_t>(block.size()));
  truncated += block.substr(0, block.size() - 1);
  expect_corrupt(truncated, "truncated block");
  std::string good = header;
  Writer(&good).Int32(static_cast<int32_t>(block.size()));
  good += block;
  EXPECT_EQ(*DecompressAll(Compression::kSnappy, good), "hello");
  EXPECT_EQ(DecompressAll(Compression::kSnappy, good + std::string(1, '\0')).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(KafkaDecompressTest, EveryTruncationIsCorruptAndNeverHangs) {
  const std::string data = Text(5000);
  for (Compression codec :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    for (bool xerial : {false, true}) {
      if (xerial && codec != Compression::kSnappy) continue;
      std::string packed = CompressForTest(
          data, {.codec = codec, .xerial = xerial, .xerial_block_bytes = 1000});
      for (size_t n = 0; n < packed.size(); ++n) {
        auto out = DecompressAll(codec, std::string_view(packed).substr(0, n));
        if (out.ok()) {
          // The xerial framing has no end mark: cut at a block boundary it is a shorter stream.
          // The record parser then finds fewer records than the batch declares.
          EXPECT_TRUE(xerial) << CompressionName(codec) << " " << n;
          EXPECT_EQ(data.substr(0, out->size()), *out);
          continue;
        }
        EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss)
            << CompressionName(codec) << " " << n << ": " << out.status();
      }
    }
  }
}

TEST(KafkaDecompressTest, TrailingGarbageIsCorrupt) {
  const std::string data = Text(1000);
  for (Compression codec : {Compression::kGzip, Compression::kLz4, Compression::kZstd}) {
    auto out = DecompressAll(codec, CompressForTest(data, {.codec = codec}) + "garbage!");
    EXPECT_EQ(out.status().code(), absl::StatusCode::kDataLoss) << CompressionName(codec);
  }
}

TEST(KafkaDecompressTest, BombsAreRefusedWhileDecoding) {
  // 16 MiB of zeros compress to a few KiB (gzip, lz4, zstd) or under 1 MiB (snappy); the cap is
  // 1 MiB.
  const std::string zeros(16 << 20, '\0');
  for (Compression codec :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    for (bool xerial : {false, true}) {
      if (xerial && codec != Compression::kSnappy) continue;
      std::string bomb = CompressForTest(zeros, {.codec = codec, .xerial = xerial});
      ASSERT_LT(bomb.size(), kCap) << CompressionName(codec);
      std::string out;
      absl::Status st = Decompress(codec, bomb, kCap, &out);
      EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << CompressionName(codec);
      EXPECT_THAT(st.message(), HasSubstr("more than 1048576 bytes (the limit)"));
      EXPECT_LE(out.capacity(), 4 * kCap) << "allocated far past the cap";
    }
  }
  std::string out;
  EXPECT_EQ(Decompress(Compression::kNone, zeros, kCap, &out).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(KafkaDecompressTest, ZstdWindowsBeyondTheLimitAreRefused) {
  // A streamed frame (no content size) declaring a 16 MiB window; the cap of 1 MiB allows 8 MiB.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 24);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  const std::string data = Text(1000);
  std::string frame(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer dst{frame.data(), frame.size(), 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(cctx, &dst, &in, ZSTD_e_continue)));
  ASSERT_EQ(ZSTD_compressStream2(cctx, &dst, &in, ZSTD_e_end), 0u);
  frame.resize(dst.pos);
  ZSTD_freeCCtx(cctx);

  auto refused = DecompressAll(Compression::kZstd, frame, kCap);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("window"));
  // A 16 MiB cap allows the 16 MiB window.
  EXPECT_EQ(*DecompressAll(Compression::kZstd, frame, 16 << 20), data);
}

TEST(KafkaDecompressTest, EmptyAndUnknown) {
  for (Compression codec :
       {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    EXPECT_EQ(DecompressAll(codec, "").status().code(), absl::StatusCode::kDataLoss)
        << CompressionName(codec);
  }
  EXPECT_EQ(*DecompressAll(Compression::kNone, ""), "");
  EXPECT_EQ(DecompressAll(static_cast<Compression>(5), "x").status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(CompressionName(Compression::kLz4), "lz4");
  EXPECT_EQ(CompressionName(static_cast<Compression>(7)), "unknown");
}

}  // namespace
}  // namespace nobus::kafka
