#include "cli/bench_metrics.h"

#include <gtest/gtest.h>

namespace nobus::cli::bench {
namespace {

constexpr char kBefore[] =
    "# TYPE nobus_ack_latency_seconds histogram\n"
    "nobus_ack_latency_seconds_bucket{le=\"0.001\"} 10\n"
    "nobus_ack_latency_seconds_bucket{le=\"0.01\"} 10\n"
    "nobus_ack_latency_seconds_bucket{le=\"+Inf\"} 10\n"
    "nobus_ack_latency_seconds_sum 0.005\n";
constexpr char kAfter[] =
    "nobus_ack_latency_seconds_bucket{le=\"0.001\"} 10\n"
    "nobus_ack_latency_seconds_bucket{le=\"0.01\"} 110\n"
    "nobus_ack_latency_seconds_bucket{le=\"+Inf\"} 110\n"
    "nobus_other_bucket{le=\"1\"} 5\n";

TEST(HistogramQuantileTest, InterpolatesInsideTheBucketOfTheDifference) {
  PromHistogram before = ParseHistogram(kBefore, "nobus_ack_latency_seconds");
  PromHistogram after = ParseHistogram(kAfter, "nobus_ack_latency_seconds");
  ASSERT_EQ(after.buckets.size(), 3u);
  // The 100 new observations all fall in (0.001, 0.01]: the median is halfway through it.
  EXPECT_NEAR(*HistogramQuantile(before, after, 0.5), 0.0055, 1e-9);
  EXPECT_NEAR(*HistogramQuantile(before, after, 1.0), 0.01, 1e-9);
}

TEST(HistogramQuantileTest, NoNewObservationsIsNullopt) {
  PromHistogram before = ParseHistogram(kBefore, "nobus_ack_latency_seconds");
  EXPECT_FALSE(HistogramQuantile(before, before, 0.5).has_value());
  EXPECT_TRUE(ParseHistogram(kAfter, "missing").buckets.empty());
}

TEST(HistogramQuantileTest, QuantileInTheInfBucketIsNullopt) {
  PromHistogram after = ParseHistogram(
      "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 10\n", "h");
  EXPECT_FALSE(HistogramQuantile(PromHistogram{}, after, 0.5).has_value());
  EXPECT_NEAR(*HistogramQuantile(PromHistogram{}, after, 0.1), 1.0, 1e-9);
}

}  // namespace
}  // namespace nobus::cli::bench
