#include "schema/civil_time.h"

#include <gtest/gtest.h>

namespace nobus::schema {
namespace {

TEST(CivilTimeTest, DaysRoundTripAcrossEras) {
  for (int64_t d = -800000; d <= 3000000; d += 97) {
    EXPECT_EQ(DaysFromCivil(CivilFromDays(d)), d);
  }
}

TEST(CivilTimeTest, KnownDates) {
  EXPECT_EQ(*ParseDate("1970-01-01"), 0);
  EXPECT_EQ(*ParseDate("2000-03-01"), 11017);
  EXPECT_EQ(*ParseDate("1969-12-31"), -1);
  EXPECT_EQ(FormatDate(11016), "2000-02-29");
  EXPECT_EQ(FormatDate(-719162), "0001-01-01");
}

TEST(CivilTimeTest, DatesParseStrictly) {
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-1-01", "2024-01-01 ", "20240101",
                          "2024-01-32", "2024-00-10", ""}) {
    EXPECT_FALSE(ParseDate(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseDate("2024-02-29").has_value());
}

TEST(CivilTimeTest, TimestampsParse) {
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01T00:00:00Z", true), 0);
  EXPECT_EQ(*ParseTimestampMicros("2025-01-02T03:04:05.123456Z", true), 1735787045123456);
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01T01:00:00+01:00", true), 0);
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01 00:00:00.5", false), 500000);
  EXPECT_EQ(*ParseTimestampMicros("1970-01-02", false), 86400000000);
  EXPECT_EQ(*ParseTimestampMicros("1970-01-01T00:00:00.000001000Z", true), 1);
}

TEST(CivilTimeTest, TimestampsParseStrictly) {
  for (const char* bad : {"1970-01-01T24:00:00Z", "1970-01-01T00:60:00", "1970-01-01T00:00:00.",
                          "1970-01-01T00:00:00.0000001Z", "1970-01-01T00:00:00+25:00",
                          "1970-01-01T00:00:00Zjunk", "1970-01-01T0:00:00"}) {
    EXPECT_FALSE(ParseTimestampMicros(bad, true).has_value()) << bad;
  }
  EXPECT_FALSE(ParseTimestampMicros("1970-01-01T00:00:00+01:00", false).has_value());
}

TEST(CivilTimeTest, FormatsTimestamps) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01 00:00:00");
  EXPECT_EQ(FormatTimestampMicros(-1), "1969-12-31 23:59:59.999999");
  EXPECT_EQ(FormatTimestampMicros(1735787045123456), "2025-01-02 03:04:05.123456");
  EXPECT_FALSE(FormatTimestampMicros(std::numeric_limits<int64_t>::min()).empty());
}

}  // namespace
}  // namespace nobus::schema
