#include "schema/value_parse.h"

#include <gtest/gtest.h>

namespace nobus::schema {
namespace {

TEST(ValueParseTest, Int64Text) {
  int64_t v;
  EXPECT_TRUE(ParseInt64Text("-9223372036854775808", &v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(ParseInt64Text("9223372036854775807", &v));
  EXPECT_EQ(v, INT64_MAX);
  for (const char* bad : {"9223372036854775808", "", "-", "+1", "1.0", " 1", "1e3", "0x10"}) {
    EXPECT_FALSE(ParseInt64Text(bad, &v)) << bad;
  }
}

__int128 Dec(std::string_view text, int p, int s, DecimalParse want = DecimalParse::kOk) {
  __int128 v = -12345;
  EXPECT_EQ(ParseDecimalText(text, p, s, &v), want) << text;
  return v;
}

TEST(ValueParseTest, DecimalExactValues) {
  EXPECT_EQ(Dec("1.50", 5, 1), 15);
  EXPECT_EQ(Dec("-1.5", 5, 1), -15);
  EXPECT_EQ(Dec("12", 5, 2), 1200);
  EXPECT_EQ(Dec("1.5e2", 5, 0), 150);
  EXPECT_EQ(Dec("15E-1", 5, 1), 15);
  EXPECT_EQ(Dec("0.000", 1, 0), 0);
  EXPECT_EQ(Dec("-0", 1, 0), 0);
  EXPECT_EQ(Dec("+.5", 2, 1), 5);
  EXPECT_EQ(Dec("0e999999999999", 3, 1), 0);
  __int128 max38 = 0;
  for (int i = 0; i < 38; ++i) max38 = max38 * 10 + 9;
  EXPECT_EQ(Dec("99999999999999999999999999999999999999", 38, 0), max38);
  EXPECT_EQ(Dec("-9999999999999999999999999999.9999999999", 38, 10), -max38);
}

TEST(ValueParseTest, DecimalLossIsAnError) {
  Dec("1.55", 5, 1, DecimalParse::kScale);
  Dec("1e-1", 5, 0, DecimalParse::kScale);
  Dec("1e-99999999", 5, 0, DecimalParse::kScale);
}

TEST(ValueParseTest, DecimalOverflowIsAnError) {
  Dec("10000", 5, 1, DecimalParse::kPrecision);
  Dec("1e38", 38, 0, DecimalParse::kPrecision);
  Dec("1e99999999", 38, 0, DecimalParse::kPrecision);
  Dec("100000000000000000000000000000000000000", 38, 0, DecimalParse::kPrecision);
}

TEST(ValueParseTest, DecimalSyntax) {
  for (const char* bad : {"", "-", ".", "1.2.3", "1e", "1e+", "abc", "1,5", " 1", "--1", "NaN"}) {
    Dec(bad, 10, 2, DecimalParse::kSyntax);
  }
}

TEST(ValueParseTest, Base64) {
  std::string out;
  EXPECT_TRUE(Base64Decode("aGVsbG8=", &out));
  EXPECT_EQ(out, "hello");
  out.clear();
  EXPECT_TRUE(Base64Decode("aGVsbG8", &out));
  EXPECT_EQ(out, "hello");
  out.clear();
  EXPECT_TRUE(Base64Decode("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(Base64Decode("AP8=", &out));
  EXPECT_EQ(out, std::string("\0\xff", 2));
  for (const char* bad : {"a", "aGVsbG8==", "aGVs bG8=", "aGVsbG9=", "a===", "aGVsbG8*"}) {
    std::string junk;
    EXPECT_FALSE(Base64Decode(bad, &junk)) << bad;
  }
}

}  // namespace
}  // namespace nobus::schema
