#include "cli/progress.h"

#include <gtest/gtest.h>

namespace nobus::cli {
namespace {

TEST(ProgressTest, ThousandsSeparators) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
  EXPECT_EQ(WithThousands(-1234), "-1,234");
}

TEST(ProgressTest, HumanBytesUsesDecimalUnits) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1500), "1.5 kB");
  EXPECT_EQ(HumanBytes(123.4e6), "123.4 MB");
}

TEST(ProgressTest, RatesWithoutTotalHaveNoBar) {
  ProgressSample s{.records = 20000, .bytes = 20'000'000};
  EXPECT_EQ(FormatProgress(s, 2.0), "20,000 records, 20.0 MB  10,000 records/s, 10.0 MB/s");
}

TEST(ProgressTest, KnownTotalShowsPercentage) {
  ProgressSample s{.records = 1, .bytes = 10, .input_done = 50, .input_total = 200};
  std::string text = FormatProgress(s, 1.0);
  EXPECT_EQ(text.substr(0, 33), "[======>                 ]  25%  ");
}

}  // namespace
}  // namespace nobus::cli
