#include "parquet/encoding.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/test_util.h"

namespace nobus::parquet {
namespace {

using testing::Bytes;

TEST(EncodingTest, BitWidths) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
  EXPECT_EQ(BitWidth(7), 3);
}

TEST(EncodingTest, SpecExampleDefLevels) {
  const int16_t levels[] = {1, 1, 0, 1, 1};
  std::string out;
  EncodeLevelsV1(levels, 5, 1, &out);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x02, 0x00, 0x00, 0x00, 0x03, 0x1B}));
}

TEST(EncodingTest, LongRunBecomesRleRun) {
  std::vector<int16_t> levels(100, 1);
  std::string out;
  EncodeHybrid(levels.data(), 100, 1, &out);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0xC8, 0x01, 0x01}));
}

TEST(EncodingTest, MixedRunsLiteralThenRle) {
  std::vector<uint32_t> v = {1, 2, 3, 4, 5, 6, 7, 0};
  v.insert(v.end(), 10, 5);
  std::string out;
  EncodeHybrid(v.data(), static_cast<int64_t>(v.size()), 3, &out);
  // One bit-packed group (8 values x 3 bits = 3 bytes), then RLE run of ten 5s.
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x03, 0xD1, 0x58, 0x1F, 0x14, 0x05}));
}

TEST(EncodingTest, WideRleValueUsesTwoBytes) {
  std::vector<uint32_t> v(8, 0x1234);
  std::string out;
  EncodeHybrid(v.data(), 8, 13, &out);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x10, 0x34, 0x12}));
}

TEST(EncodingTest, PlainBooleansLsbFirst) {
  const uint8_t v[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  std::string out;
  EncodePlainBooleans(v, 9, &out);
  EXPECT_EQ(Bytes(out), (std::vector<int>{0x0D, 0x01}));
}

}  // namespace
}  // namespace nobus::parquet
