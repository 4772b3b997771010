#include "common/coding.h"

#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace nobus {
namespace {

TEST(Coding, VarintRoundTripAtBoundaries) {
  std::string buf;
  const uint64_t values[] = {0,
                             1,
                             127,
                             128,
                             16383,
                             16384,
                             UINT32_MAX,
                             uint64_t{1} << 63,
                             std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) PutVarint64(&buf, v);
  std::string_view in(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(got, v);
    EXPECT_EQ(VarintLength(v), [&] {
      std::string s;
      PutVarint64(&s, v);
      return int(s.size());
    }());
  }
  EXPECT_TRUE(in.empty());
}

TEST(Coding, VarintRejectsTruncatedAndOverlong) {
  std::string truncated = "\x80\x80";
  std::string_view in(truncated);
  uint64_t v;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string overlong(11, '\xff');
  in = overlong;
  EXPECT_FALSE(GetVarint64(&in, &v));
  std::string too_big_for_32 = "\xff\xff\xff\xff\x1f";
  in = too_big_for_32;
  uint32_t v32;
  EXPECT_FALSE(GetVarint32(&in, &v32));
}

TEST(Coding, ZigZagMatchesThriftExamples) {
  EXPECT_EQ(ZigZagEncode64(0), 0u);
  EXPECT_EQ(ZigZagEncode64(-1), 1u);
  EXPECT_EQ(ZigZagEncode64(1), 2u);
  EXPECT_EQ(ZigZagEncode64(std::numeric_limits<int64_t>::min()),
            std::numeric_limits<uint64_t>::max());
  for (int64_t v :
       {int64_t{0}, int64_t{-5}, int64_t{123456789}, std::numeric_limits<int64_t>::min()})
    EXPECT_EQ(ZigZagDecode64(ZigZagEncode64(v)), v);
}

TEST(Coding, FixedIsLittleEndian) {
  std::string buf;
  PutFixed32(&buf, 0x04030201u);
  PutFixed64(&buf, 0x0807060504030201ull);
  EXPECT_EQ(buf, std::string("\x01\x02\x03\x04\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  std::string_view in(buf);
  uint32_t a;
  uint64_t b;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_FALSE(GetFixed32(&in, &a));
  EXPECT_EQ(a, 0x04030201u);
  EXPECT_EQ(b, 0x0807060504030201ull);
}

}  // namespace
}  // namespace nobus
