#include "common/crc32c.h"

#include <random>
#include <string>

#include "gtest/gtest.h"

namespace nobus::crc32c {
namespace {

TEST(Crc32c, KnownVectors) {
  // RFC 3720 (iSCSI) test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(Value(zeros), 0x8a9136aau);
  std::string ones(32, '\xff');
  EXPECT_EQ(Value(ones), 0x62a8ab43u);
  std::string inc(32, '\0');
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<char>(i);
  EXPECT_EQ(Value(inc), 0x46dd794eu);
  EXPECT_EQ(Value("123456789"), 0xe3069283u);
}

TEST(Crc32c, PortableAgreesWithDispatchedAtEveryLengthAndSplit) {
  std::mt19937 rng(42);
  std::string data(300, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (size_t n = 0; n <= data.size(); ++n) {
    ASSERT_EQ(ExtendPortable(0, data.data(), n), Value(data.data(), n)) << "length " << n;
  }
  for (size_t split = 0; split <= data.size(); split += 7) {
    uint32_t a = Extend(Value(data.data(), split), data.data() + split, data.size() - split);
    ASSERT_EQ(a, Value(data)) << "split " << split;
  }
}

TEST(Crc32c, MaskRoundTripsAndDiffers) {
  uint32_t crc = Value("foo");
  EXPECT_NE(Mask(crc), crc);
  EXPECT_NE(Mask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Mask(crc)), crc);
  EXPECT_EQ(Unmask(Unmask(Mask(Mask(crc)))), crc);
}

}  // namespace
}  // namespace nobus::crc32c
