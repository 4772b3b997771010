// Measurement helpers of `nobus bench` (bench_command.cc): a latency histogram with ~3 % precision
// and constant memory (ack latencies of millions of requests), percentiles of small samples
// (time to table), and process figures from the kernel (CPU time of this process, and RSS peak and
// CPU time of another process, e.g. nobusd, from /proc/<pid>).
//
// Thread-safety: a LatencyHistogram is filled by one thread at a time (each stream owns one; they
// are merged after the streams finished). The free functions are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace nobus::cli::bench {

class LatencyHistogram {
 public:
  // Records one value in microseconds (negative values count as 0).
  void Add(int64_t micros);
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return count_; }
  int64_t max() const { return max_; }
  // The value at quantile q (0 < q <= 1), in microseconds: the midpoint of the bucket that holds
  // the ceil(q * count)-th smallest value; 0 when empty.
  double Percentile(double q) const;

  static int Bucket(int64_t micros);  // exposed for tests
  static int64_t BucketLow(int bucket);
  static int64_t BucketWidth(int bucket);

 private:
  static constexpr int kBuckets = 64 + 58 * 32;
  std::array<int64_t, kBuckets> counts_{};
  int64_t count_ = 0;
  int64_t max_ = 0;
};

// The value at quantile q of `values` (nearest rank); nullopt when empty. Sorts `values`.
std::optional<double> Percentile(std::vector<double>& values, double q);

// The system clock in ms since the epoch (what commit file mtimes are compared with).
double WallMsNow();

// CPU time (user + system) of this process so far, in seconds.
double SelfCpuSeconds();

struct ProcessFigures {
  int64_t vm_hwm_kb = 0;  // peak resident set size (VmHWM)
  int64_t vm_rss_kb = 0;  // resident set size now (VmRSS)
  double cpu_seconds = 0;  // user + system time so far
  // Time its live threads spent runnable but waiting for a CPU (schedstat): how much the machine's
  // other load delayed it.
  double runq_wait_seconds = 0;
};
// Reads /proc/<pid>/status, /proc/<pid>/stat and /proc/<pid>/task/*/schedstat; nullopt if the
// process is gone or unreadable.
std::optional<ProcessFigures> ReadProcess(pid_t pid);

}  // namespace nobus::cli::bench
