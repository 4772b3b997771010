#include "cli/bench_stats.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <sstream>
#include <string>

namespace nobus::cli::bench {

// Values below 64 have their own bucket; above, 32 buckets per power of two (6 significant bits).
int LatencyHistogram::Bucket(int64_t micros) {
  if (micros < 64) return static_cast<int>(std::max<int64_t>(0, micros));
  const int msb = 63 - __builtin_clzll(static_cast<uint64_t>(micros));
  const int shift = msb - 5;
  const int bucket = 64 + (shift - 1) * 32 + static_cast<int>((micros >> shift) - 32);
  return std::min(bucket, kBuckets - 1);
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < 64) return bucket;
  const int shift = (bucket - 64) / 32 + 1;
  return static_cast<int64_t>((bucket - 64) % 32 + 32) << shift;
}

int64_t LatencyHistogram::BucketWidth(int bucket) {
  return bucket < 64 ? 1 : int64_t{1} << ((bucket - 64) / 32 + 1);
}

void LatencyHistogram::Add(int64_t micros) {
  micros = std::max<int64_t>(0, micros);
  ++counts_[static_cast<size_t>(Bucket(micros))];
  ++count_;
  max_ = std::max(max_, micros);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

double LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  const int64_t rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(q * count_)));
  int64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += counts_[static_cast<size_t>(b)];
    if (seen >= rank) {
      const double mid = b < 64 ? static_cast<double>(b)
                                : static_cast<double>(BucketLow(b)) + BucketWidth(b) / 2.0;
      return std::min(mid, static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

std::optional<double> Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const size_t rank = std::max<size_t>(1, static_cast<size_t>(std::ceil(q * values.size())));
  return values[std::min(values.size(), rank) - 1];
}

double WallMsNow() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double SelfCpuSeconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

namespace {

// The whole of a small /proc file (no exceptions, unlike iostreams on odd files); nullopt if absent.
std::optional<std::string> ReadProcFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::nullopt;
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return text;
}

// Sum over the threads in `task_dir` of schedstat's second field (ns spent waiting to run).
double RunQueueWaitSeconds(const std::string& task_dir) {
  DIR* dir = ::opendir(task_dir.c_str());
  if (dir == nullptr) return 0;
  int64_t wait_ns = 0;
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::optional<std::string> text = ReadProcFile(task_dir + "/" + e->d_name + "/schedstat");
    if (!text) continue;
    std::istringstream fields(*text);
    int64_t run_ns = 0, waited_ns = 0;
    if (fields >> run_ns >> waited_ns) wait_ns += waited_ns;
  }
  ::closedir(dir);
  return static_cast<double>(wait_ns) / 1e9;
}

}  // namespace

std::optional<ProcessFigures> ReadProcess(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::optional<std::string> status = ReadProcFile(dir + "/status");
  std::optional<std::string> stat = ReadProcFile(dir + "/stat");
  if (!status || !stat) return std::nullopt;
  ProcessFigures out;
  std::istringstream lines(*status);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string key;
    int64_t kb = 0;
    fields >> key >> kb;
    if (key == "VmHWM:") out.vm_hwm_kb = kb;
    if (key == "VmRSS:") out.vm_rss_kb = kb;
  }
  // Fields after the command name (which may contain spaces) start after the last ')'; utime and
  // stime are fields 14 and 15.
  const size_t paren = stat->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream rest(stat->substr(paren + 1));
  std::string field;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::strtoll(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoll(field.c_str(), nullptr, 10);
  }
  out.cpu_seconds =
      static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  out.runq_wait_seconds = RunQueueWaitSeconds(dir + "/task");
  return out;
}

}  // namespace nobus::cli::bench
