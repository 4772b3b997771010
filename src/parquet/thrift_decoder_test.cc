#include "parquet/thrift_decoder.h"

#include <gtest/gtest.h>

#include "parquet/reader_pages.h"

namespace nobus::parquet {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

TEST(ThriftDecoderTest, DecodesTheSpecPageHeader) {
  // PageHeader{DATA_PAGE, 7, 9, {4, PLAIN, RLE, RLE}}
  std::string b = Bytes({0x15, 0x00, 0x15, 0x0E, 0x15, 0x12, 0x2C, 0x15, 0x08, 0x15, 0x00, 0x15,
                         0x06, 0x15, 0x06, 0x00, 0x00});
  size_t size = 0;
  auto h = DecodePageHeader(b, &size);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(size, b.size());
  EXPECT_EQ(h->type, 0);
  EXPECT_EQ(h->uncompressed_page_size, 7);
  EXPECT_EQ(h->compressed_page_size, 9);
  EXPECT_EQ(h->num_values, 4);
  EXPECT_EQ(h->encoding, 0);
}

TEST(ThriftDecoderTest, SkipsUnknownFieldsOfEveryType) {
  // field 1 i32 = 0, then unknown 9: list<struct{1:bool true, 2:binary "ab"}>, 10: map<i32,double>
  // size 1, 11: set<bool> of 2, long-form id 200: i64, then long-form field 2 i32 = 7.
  std::string b = Bytes({0x15, 0x00, 0x89, 0x1C, 0x11, 0x18, 0x02, 'a',  'b',  0x00, 0x1B, 0x01,
                         0x57, 0x02, 0,    0,    0,    0,    0,    0,    0,    0,    0x1A, 0x21,
                         0x01, 0x00, 0x06, 0x90, 0x03, 0x04, 0x05, 0x04, 0x0E, 0x00});
  size_t size = 0;
  auto h = DecodePageHeader(b, &size);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->uncompressed_page_size, 7);
}

TEST(ThriftDecoderTest, TruncatedInputIsDataLoss) {
  std::string b = Bytes({0x15, 0x00, 0x15, 0x0E, 0x15});
  size_t size = 0;
  EXPECT_EQ(DecodePageHeader(b, &size).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeFileMetaData(Bytes({0x19, 0xFC})).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ThriftDecoderTest, BinaryLengthBeyondTheDataIsDataLoss) {
  EXPECT_FALSE(DecodeFileMetaData(Bytes({0x68, 0xFF, 0xFF, 0x03, 'x', 0x00})).ok());
}

TEST(ThriftDecoderTest, DeepNestingIsRefused) {
  std::string b;
  for (int i = 0; i < 100; ++i) b += Bytes({0x1C});  // field +1, struct
  b += std::string(100, '\0');
  EXPECT_EQ(DecodeFileMetaData(b).status().code(), absl::StatusCode::kDataLoss);
}

TEST(HybridTest, DecodesBitPackedRun) {
  std::vector<int32_t> out;
  ASSERT_TRUE(internal::DecodeHybrid(Bytes({0x03, 0x1B}), 1, 5, &out).ok());
  EXPECT_EQ(out, (std::vector<int32_t>{1, 1, 0, 1, 1}));
}

TEST(HybridTest, DecodesRleRuns) {
  std::vector<int32_t> out;
  ASSERT_TRUE(internal::DecodeHybrid(Bytes({0x04, 0x01, 0x02, 0x00, 0x04, 0x01}), 1, 5, &out).ok());
  EXPECT_EQ(out, (std::vector<int32_t>{1, 1, 0, 1, 1}));
}

TEST(HybridTest, RunsShortOfTheCountAreDataLoss) {
  std::vector<int32_t> out;
  EXPECT_EQ(internal::DecodeHybrid(Bytes({0x04, 0x01}), 1, 5, &out).code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(internal::DecodeHybrid(Bytes({0x00, 0x01}), 1, 5, &out).ok());  // zero-length run
}

TEST(HybridTest, HugeRunCountIsClippedToTheRequest) {
  std::vector<int32_t> out;
  ASSERT_TRUE(internal::DecodeHybrid(Bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}), 1, 3, &out).ok());
  EXPECT_EQ(out.size(), 3u);
}

}  // namespace
}  // namespace nobus::parquet
