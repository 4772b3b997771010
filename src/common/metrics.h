// Process-wide metrics in the Prometheus text exposition format (served at GET /metrics).
// Components register counters, gauges and histograms by name and labels once and update them on
// the hot path with relaxed atomics; the HTTP handler renders the registry.
//
// Thread-safety: everything is thread-safe. Metric objects are owned by the registry and live as
// long as it does; the pointers returned stay valid (register once, keep the pointer).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace nobus {

using MetricLabels = std::map<std::string, std::string>;

class Counter {
 public:
  void Add(int64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v);
  void Add(double delta);
  double value() const;

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds (seconds for latencies).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Snapshot of per-bucket (non-cumulative) counts, the +Inf bucket last, and sum and count.
  void Read(std::vector<int64_t>* buckets, double* sum, int64_t* count) const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<int64_t> count_{0};
};

// Latency buckets from 100 us to 60 s.
std::vector<double> LatencyBucketsSeconds();

class MetricsRegistry {
 public:
  // Returns the metric for (name, labels), creating it on first use. `help` is taken from the
  // first registration of `name`. A name is one kind of metric (misuse aborts: a programming error).
  Counter* GetCounter(const std::string& name, const std::string& help, MetricLabels labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help, MetricLabels labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          std::vector<double> upper_bounds, MetricLabels labels = {});
  // Stops rendering every series carrying label `key`=`value` (e.g. a dropped table); the objects
  // stay alive (pointers held elsewhere remain valid) and a later Get* with the same labels
  // revives the series from zero.
  void RemoveSeries(const std::string& key, const std::string& value);
  // Prometheus text format 0.0.4: families sorted by name, each with # HELP and # TYPE, series
  // sorted by labels; families without a live series are left out.
  std::string Render() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    bool removed = false;
  };
  struct Family {
    Kind kind;
    std::string help;
    std::map<MetricLabels, Series> series;
  };
  // Returns the live series for (name, labels), creating the family and series as needed.
  Series* Find(const std::string& name, const std::string& help, Kind kind, MetricLabels labels);
  void RenderFamily(const std::string& name, const Family& family, std::string* out) const;

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  // Metric objects of removed series that were revived: kept alive for old pointers.
  std::vector<Series> retired_;
};

}  // namespace nobus
