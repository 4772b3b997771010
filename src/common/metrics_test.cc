#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace nobus {
namespace {

TEST(MetricsTest, CounterRendersHelpTypeAndValue) {
  MetricsRegistry r;
  r.GetCounter("nobus_requests_total", "Requests served.")->Add(3);
  EXPECT_EQ(r.Render(),
            "# HELP nobus_requests_total Requests served.\n"
            "# TYPE nobus_requests_total counter\n"
            "nobus_requests_total 3\n");
}

TEST(MetricsTest, SameNameAndLabelsReturnSameObject) {
  MetricsRegistry r;
  Counter* a = r.GetCounter("c_total", "h", {{"table", "a.b.c"}});
  Counter* b = r.GetCounter("c_total", "other help", {{"table", "a.b.c"}});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, r.GetCounter("c_total", "h", {{"table", "x.y.z"}}));
}

TEST(MetricsTest, SeriesSortedByLabelsUnderOneHeader) {
  MetricsRegistry r;
  r.GetGauge("g", "A gauge.", {{"table", "b"}})->Set(2.5);
  r.GetGauge("g", "A gauge.", {{"table", "a"}})->Set(-1);
  EXPECT_EQ(r.Render(),
            "# HELP g A gauge.\n"
            "# TYPE g gauge\n"
            "g{table=\"a\"} -1\n"
            "g{table=\"b\"} 2.5\n");
}

TEST(MetricsTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry r;
  r.GetCounter("c", "line1\nback\\slash \"q\"", {{"v", "a\"b\\c\nd"}})->Add();
  EXPECT_EQ(r.Render(),
            "# HELP c line1\\nback\\\\slash \"q\"\n"
            "# TYPE c counter\n"
            "c{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  MetricsRegistry r;
  Histogram* h = r.GetHistogram("lat_seconds", "Latency.", {0.125, 1}, {{"t", "x"}});
  h->Observe(0.0625);
  h->Observe(0.125);  // le is inclusive
  h->Observe(0.5);
  h->Observe(7);
  EXPECT_EQ(r.Render(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{t=\"x\",le=\"0.125\"} 2\n"
            "lat_seconds_bucket{t=\"x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{t=\"x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{t=\"x\"} 7.6875\n"
            "lat_seconds_count{t=\"x\"} 4\n");
}

TEST(MetricsTest, HistogramReadGivesPerBucketCounts) {
  Histogram h({1, 2});
  h.Observe(0.5);
  h.Observe(1.5);
  h.Observe(1.7);
  std::vector<int64_t> buckets;
  double sum = 0;
  int64_t count = 0;
  h.Read(&buckets, &sum, &count);
  EXPECT_EQ(buckets, (std::vector<int64_t>{1, 2, 0}));
  EXPECT_DOUBLE_EQ(sum, 3.7);
  EXPECT_EQ(count, 3);
}

TEST(MetricsTest, GaugeSpecialValues) {
  MetricsRegistry r;
  r.GetGauge("g", "h")->Set(std::numeric_limits<double>::infinity());
  EXPECT_NE(r.Render().find("g +Inf\n"), std::string::npos);
  r.GetGauge("g", "h")->Set(std::numeric_limits<double>::quiet_NaN());
  EXPECT_NE(r.Render().find("g NaN\n"), std::string::npos);
}

TEST(MetricsTest, RemoveSeriesHidesOnlyMatchingSeries) {
  MetricsRegistry r;
  Counter* gone = r.GetCounter("c", "h", {{"table", "a"}});
  r.GetCounter("c", "h", {{"table", "b"}})->Add(2);
  r.GetGauge("g", "h", {{"table", "a"}})->Set(1);
  r.RemoveSeries("table", "a");
  gone->Add(5);  // the pointer stays valid
  EXPECT_EQ(r.Render(),
            "# HELP c h\n"
            "# TYPE c counter\n"
            "c{table=\"b\"} 2\n");
}

TEST(MetricsTest, RemovedSeriesRevivesFromZero) {
  MetricsRegistry r;
  Counter* old_counter = r.GetCounter("c", "h", {{"table", "a"}});
  old_counter->Add(5);
  r.RemoveSeries("table", "a");
  Counter* revived = r.GetCounter("c", "h", {{"table", "a"}});
  old_counter->Add(1);
  EXPECT_EQ(revived->value(), 0);
  EXPECT_EQ(r.Render(), "# HELP c h\n# TYPE c counter\nc{table=\"a\"} 0\n");
}

TEST(MetricsTest, LatencyBucketsSpan100MicrosTo60Seconds) {
  std::vector<double> b = LatencyBucketsSeconds();
  ASSERT_FALSE(b.empty());
  EXPECT_DOUBLE_EQ(b.front(), 0.0001);
  EXPECT_DOUBLE_EQ(b.back(), 60);
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  MetricsRegistry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 10000; ++i) {
        r.GetCounter("c", "h", {{"t", std::to_string(t % 2)}})->Add();
        r.GetHistogram("h", "h", {1})->Observe(0.5);
        r.GetGauge("g", "h")->Add(1);
      }
    });
  }
  std::thread renderer([&r] {
    for (int i = 0; i < 100; ++i) (void)r.Render();
  });
  for (auto& t : threads) t.join();
  renderer.join();
  EXPECT_EQ(r.GetCounter("c", "h", {{"t", "0"}})->value(), 20000);
  EXPECT_EQ(r.GetCounter("c", "h", {{"t", "1"}})->value(), 20000);
  EXPECT_DOUBLE_EQ(r.GetGauge("g", "h")->value(), 40000);
  EXPECT_NE(r.Render().find("h_count 40000\n"), std::string::npos);
}

TEST(MetricsDeathTest, OneNameIsOneKind) {
  MetricsRegistry r;
  r.GetCounter("x", "h");
  EXPECT_DEATH(r.GetGauge("x", "h"), "registered as counter and as gauge");
}

TEST(MetricsDeathTest, InvalidNamesAbort) {
  MetricsRegistry r;
  EXPECT_DEATH(r.GetCounter("bad-name", "h"), "invalid metric name");
  EXPECT_DEATH(r.GetCounter("ok", "h", {{"bad label", "v"}}), "invalid label name");
  EXPECT_DEATH(r.GetHistogram("hh", "h", {1}, {{"le", "v"}}), "reserved");
}

}  // namespace
}  // namespace nobus
