// WAL throughput and ack latency on the real file system, with a same-run baseline.
//
// BM_WalAppend/threads/prezero/inflight: `threads` producers append 1 KiB records for a fixed
// wall time, each keeping `inflight` appends outstanding (1: the blocking Append, like a client
// that waits for every ack; 16: AppendAsync with a window, like a gRPC stream whose acks arrive
// by callback). Counters: records/s, MB/s, ack latency p50/p99/p99.9 (us, enqueue to callback),
// payloads per fdatasync, and CPU time of the whole process per record (all threads: producers,
// writer, completion), which does not depend on the disk's fdatasync cost of the minute.
// BM_RawWriteSync/threads/prezero/inflight: one thread pwrites batches of the size the matching
// WAL run (prezero=0) achieved (payload bytes only, no framing, no queueing) and fdatasyncs each:
// the ceiling the WAL is compared against. prezero=1 writes zeros over each file first (outside
// the timed loop for the first file), which measures what pre-zeroing saves on fdatasync; the WAL
// variant zero-fills each next segment on its background preparation thread.
//
// The directory is $NOBUS_WAL_BENCH_DIR, or ./wal_bench_data (run from a real disk, not tmpfs).
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "env/env.h"
#include "wal/wal.h"

namespace {

constexpr size_t kRecordBytes = 1024;
constexpr uint64_t kSegmentBytes = 64ull << 20;
constexpr auto kRunTime = std::chrono::seconds(2);

// (threads, inflight) -> payload bytes per fdatasync in the WAL run without pre-zeroing.
std::map<std::pair<int64_t, int64_t>, double> g_batch_bytes;

std::string BenchDir(const std::string& leaf) {
  const char* env = std::getenv("NOBUS_WAL_BENCH_DIR");
  std::string root = env != nullptr ? env : "wal_bench_data";
  std::string dir = root + "/" + leaf;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1000.0;
}

// Sets the throughput and latency counters; returns payloads per fdatasync.
double SetWalCounters(benchmark::State& state, const std::vector<std::vector<int64_t>>& latencies,
                      const nobus::wal::WalStats& stats, double seconds, double cpu_seconds) {
  std::vector<int64_t> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  const double records = static_cast<double>(all.size());
  state.counters["records_per_s"] = records / seconds;
  state.counters["MB_per_s"] = records * kRecordBytes / seconds / 1e6;
  state.counters["p50_us"] = Percentile(all, 0.50);
  state.counters["p99_us"] = Percentile(all, 0.99);
  state.counters["p999_us"] = Percentile(all, 0.999);
  const double per_sync =
      stats.syncs ? static_cast<double>(stats.payloads) / static_cast<double>(stats.syncs) : 0;
  state.counters["records_per_sync"] = per_sync;
  state.counters["cpu_us_per_record"] = records > 0 ? cpu_seconds * 1e6 / records : 0;
  return per_sync;
}

void BlockingProducer(nobus::wal::Wal* wal, nobus::env::Clock* clock, const std::string& payload,
                      std::atomic<bool>& stop, std::atomic<bool>& failed,
                      std::vector<int64_t>* latencies) {
  while (!stop.load(std::memory_order_relaxed)) {
    const int64_t t0 = clock->MonotonicNanos();
    if (!wal->Append(payload).ok()) {
      failed = true;
      return;
    }
    latencies->push_back(clock->MonotonicNanos() - t0);
  }
}

// Keeps `window` appends outstanding; callbacks (on the writer thread) record the latency.
void WindowedProducer(nobus::wal::Wal* wal, nobus::env::Clock* clock, const std::string& payload,
                      int window, std::atomic<bool>& stop, std::atomic<bool>& failed,
                      std::vector<int64_t>* latencies) {
  std::counting_semaphore<1024> slots(window);
  std::string_view p = payload;
  while (!stop.load(std::memory_order_relaxed)) {
    slots.acquire();
    const int64_t t0 = clock->MonotonicNanos();
    absl::Status st = wal->AppendAsync(std::span<const std::string_view>(&p, 1),
                                       [&, t0](absl::StatusOr<nobus::wal::Lsn> lsn) {
                                         if (!lsn.ok()) failed = true;
                                         latencies->push_back(clock->MonotonicNanos() - t0);
                                         slots.release();
                                       });
    if (!st.ok()) {
      failed = true;
      slots.release();
      break;
    }
  }
  for (int i = 0; i < window; ++i) slots.acquire();  // drain before the latencies are read
}

void BM_WalAppend(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int inflight = static_cast<int>(state.range(2));
  nobus::wal::WalOptions options;
  options.segment_size_bytes = kSegmentBytes;
  options.prezero_segments = state.range(1) == 1;
  const std::string dir = BenchDir("wal");
  auto* clock = nobus::env::SystemClock();
  for (auto _ : state) {
    auto wal = nobus::wal::Wal::Open(nobus::env::PosixFileSystem(), clock, dir, options);
    if (!wal.ok()) {
      state.SkipWithError(wal.status().ToString().c_str());
      return;
    }
    std::vector<std::vector<int64_t>> latencies(threads);
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    const std::string payload(kRecordBytes, 'w');
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ProcessCpuSeconds();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        if (inflight == 1) {
          BlockingProducer(wal->get(), clock, payload, stop, failed, &latencies[t]);
        } else {
          WindowedProducer(wal->get(), clock, payload, inflight, stop, failed, &latencies[t]);
        }
      });
    }
    std::this_thread::sleep_for(kRunTime);
    stop = true;
    for (auto& w : workers) w.join();
    const double cpu_seconds = ProcessCpuSeconds() - cpu_start;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    nobus::wal::WalStats stats = (*wal)->stats();
    if (failed || !(*wal)->Close().ok()) state.SkipWithError("append failed");
    const double per_sync = SetWalCounters(state, latencies, stats, seconds, cpu_seconds);
    if (state.range(1) == 0) g_batch_bytes[{threads, inflight}] = per_sync * kRecordBytes;
  }
  std::filesystem::remove_all(dir);
}

absl::StatusOr<std::unique_ptr<nobus::env::File>> OpenRawFile(nobus::env::FileSystem* fs,
                                                              const std::string& path,
                                                              bool prezero) {
  NOBUS_ASSIGN_OR_RETURN(auto file, fs->Open(path, nobus::env::OpenMode::kTruncate));
  NOBUS_RETURN_IF_ERROR(file->Preallocate(kSegmentBytes));
  if (prezero) {
    const std::string zeros(1 << 20, '\0');
    for (uint64_t off = 0; off < kSegmentBytes; off += zeros.size())
      NOBUS_RETURN_IF_ERROR(file->WriteAt(off, zeros));
    NOBUS_RETURN_IF_ERROR(file->Sync());
  }
  return file;
}

void BM_RawWriteSync(benchmark::State& state) {
  const std::pair<int64_t, int64_t> key{state.range(0), state.range(2)};
  const bool prezero = state.range(1) == 1;
  const size_t batch = std::max<size_t>(
      kRecordBytes, static_cast<size_t>(g_batch_bytes.count(key) ? g_batch_bytes[key] : 0));
  const std::string dir = BenchDir("raw");
  auto* fs = nobus::env::PosixFileSystem();
  const std::string data(batch, 'r');
  for (auto _ : state) {
    uint64_t offset = 0, syncs = 0;
    int file_no = 0;
    std::unique_ptr<nobus::env::File> file;
    auto open_next = [&]() -> absl::Status {
      offset = 0;
      NOBUS_ASSIGN_OR_RETURN(file,
                             OpenRawFile(fs, dir + "/raw" + std::to_string(file_no++), prezero));
      return absl::OkStatus();
    };
    if (!open_next().ok()) return state.SkipWithError("open failed");
    const auto start = std::chrono::steady_clock::now();
    double seconds = 0;
    while (seconds < std::chrono::duration<double>(kRunTime).count()) {
      if (offset + batch > kSegmentBytes && !open_next().ok()) return state.SkipWithError("open");
      if (!file->WriteAt(offset, data).ok() || !file->Sync().ok())
        return state.SkipWithError("write/sync failed");
      offset += batch;
      ++syncs;
      seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    state.SetIterationTime(seconds);
    const double bytes = static_cast<double>(syncs) * static_cast<double>(batch);
    state.counters["batch_bytes"] = static_cast<double>(batch);
    state.counters["MB_per_s"] = bytes / seconds / 1e6;
    state.counters["records_per_s"] = bytes / kRecordBytes / seconds;
    state.counters["sync_us"] = seconds * 1e6 / static_cast<double>(syncs);
  }
  std::filesystem::remove_all(dir);
}

// Each raw baseline runs right after the WAL configuration it mirrors, so both see the same disk
// conditions (other processes' fsyncs on a shared disk move these figures a lot).
void RegisterAll() {
  for (int64_t inflight : {1, 16}) {
    for (int64_t threads : {1, 8, 64}) {
      for (int64_t prezero : {0, 1}) {
        for (auto [name, fn] : {std::pair{"BM_WalAppend", &BM_WalAppend},
                                std::pair{"BM_RawWriteSync", &BM_RawWriteSync}}) {
          benchmark::RegisterBenchmark(name, fn)
              ->ArgNames({"threads", "prezero", "inflight"})
              ->Args({threads, prezero, inflight})
              ->Iterations(1)
              ->UseManualTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterAll();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
