#include "cli/bench_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace nobus::cli::bench {
namespace {

TEST(LatencyHistogramTest, BucketsTileTheRange) {
  for (int b = 0; b < 64 + 40 * 32; ++b) {
    const int64_t low = LatencyHistogram::BucketLow(b);
    EXPECT_EQ(LatencyHistogram::Bucket(low), b) << low;
    EXPECT_EQ(LatencyHistogram::Bucket(low + LatencyHistogram::BucketWidth(b) - 1), b) << low;
    EXPECT_EQ(LatencyHistogram::BucketLow(b + 1), low + LatencyHistogram::BucketWidth(b));
  }
}

TEST(LatencyHistogramTest, PercentilesWithinBucketPrecision) {
  LatencyHistogram h;
  for (int64_t us = 1; us <= 100'000; ++us) h.Add(us);
  EXPECT_EQ(h.count(), 100'000);
  EXPECT_EQ(h.max(), 100'000);
  EXPECT_NEAR(h.Percentile(0.50), 50'000, 50'000 * 0.032);
  EXPECT_NEAR(h.Percentile(0.99), 99'000, 99'000 * 0.032);
  EXPECT_NEAR(h.Percentile(0.999), 99'900, 99'900 * 0.032);
  EXPECT_LE(h.Percentile(1.0), 100'000);
}

TEST(LatencyHistogramTest, SmallValuesAreExactAndMergeAdds) {
  LatencyHistogram a, b;
  a.Add(3);
  a.Add(-5);  // clamped to 0
  b.Add(7);
  b.Add(7);
  a.Merge(b);
  EXPECT_EQ(a.count(), 4);
  EXPECT_EQ(a.Percentile(0.25), 0);
  EXPECT_EQ(a.Percentile(0.5), 3);
  EXPECT_EQ(a.Percentile(1.0), 7);
  EXPECT_EQ(LatencyHistogram().Percentile(0.5), 0);
}

TEST(PercentileTest, NearestRank) {
  std::vector<double> v{5, 1, 4, 2, 3};
  EXPECT_EQ(*Percentile(v, 0.5), 3);
  EXPECT_EQ(*Percentile(v, 0.99), 5);
  EXPECT_EQ(*Percentile(v, 0.2), 1);
  std::vector<double> empty;
  EXPECT_FALSE(Percentile(empty, 0.5).has_value());
}

TEST(ReadProcessTest, ReadsThisProcess) {
  std::optional<ProcessFigures> self = ReadProcess(::getpid());
  ASSERT_TRUE(self.has_value());
  EXPECT_GT(self->vm_hwm_kb, 0);
  EXPECT_GE(self->vm_hwm_kb, self->vm_rss_kb);
  EXPECT_GE(self->cpu_seconds, 0);
}

TEST(ReadProcessTest, MissingProcessIsNullopt) {
  EXPECT_FALSE(ReadProcess(-1).has_value());
}

}  // namespace
}  // namespace nobus::cli::bench
