// WAL throughput and ack latency on the real file system, with a same-run baseline.
//
// BM_WalAppend/threads/prezero: `threads` producers each append 1 KiB records with the blocking
// Append (one outstanding append per producer, like a stream waiting for its ack) for a fixed
// wall time. Counters: records/s, MB/s, ack latency p50/p99/p99.9 (us), payloads per fdatasync.
// BM_RawWriteSync/threads/prezero: one thread pwrites batches of the size the WAL run with the
// same thread count achieved (payload bytes only, no framing, no queueing) and fdatasyncs each:
// the ceiling the WAL is compared against. prezero=1 writes zeros over the file first, which
// measures what pre-zeroing saves on fdatasync; the WAL variant pays the zeroing inline.
//
// The directory is $NOBUS_WAL_BENCH_DIR, or ./wal_bench_data (run from a real disk, not tmpfs).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "env/env.h"
#include "wal/wal.h"

namespace {

constexpr size_t kRecordBytes = 1024;
constexpr uint64_t kSegmentBytes = 64ull << 20;
constexpr auto kRunTime = std::chrono::seconds(3);

std::map<int, double> g_batch_bytes;  // threads -> payload bytes per fdatasync in the WAL run

std::string BenchDir(const std::string& leaf) {
  const char* env = std::getenv("NOBUS_WAL_BENCH_DIR");
  std::string root = env != nullptr ? env : "wal_bench_data";
  std::string dir = root + "/" + leaf;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

double Percentile(std::vector<int64_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  return static_cast<double>(v[i]) / 1000.0;
}

void BM_WalAppend(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
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
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        while (!stop.load(std::memory_order_relaxed)) {
          const int64_t t0 = clock->MonotonicNanos();
          if (!(*wal)->Append(payload).ok()) {
            failed = true;
            return;
          }
          latencies[t].push_back(clock->MonotonicNanos() - t0);
        }
      });
    }
    std::this_thread::sleep_for(kRunTime);
    stop = true;
    for (auto& w : workers) w.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(seconds);
    nobus::wal::WalStats stats = (*wal)->stats();
    if (failed || !(*wal)->Close().ok()) state.SkipWithError("append failed");
    std::vector<int64_t> all;
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    const double records = static_cast<double>(all.size());
    state.counters["records_per_s"] = records / seconds;
    state.counters["MB_per_s"] = records * kRecordBytes / seconds / 1e6;
    state.counters["p50_us"] = Percentile(all, 0.50);
    state.counters["p99_us"] = Percentile(all, 0.99);
    state.counters["p999_us"] = Percentile(all, 0.999);
    const double per_sync = stats.syncs ? static_cast<double>(stats.payloads) / stats.syncs : 0;
    state.counters["records_per_sync"] = per_sync;
    if (state.range(1) == 0) g_batch_bytes[threads] = per_sync * kRecordBytes;
  }
  std::filesystem::remove_all(dir);
}

void BM_RawWriteSync(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const bool prezero = state.range(1) == 1;
  const size_t batch = std::max<size_t>(
      kRecordBytes, static_cast<size_t>(g_batch_bytes.count(threads) ? g_batch_bytes[threads]
                                                                      : kRecordBytes));
  const std::string dir = BenchDir("raw");
  auto* fs = nobus::env::PosixFileSystem();
  const std::string data(batch, 'r');
  for (auto _ : state) {
    uint64_t offset = 0, syncs = 0;
    int file_no = 0;
    std::unique_ptr<nobus::env::File> file;
    auto open_next = [&]() -> absl::Status {
      NOBUS_ASSIGN_OR_RETURN(file, fs->Open(dir + "/raw" + std::to_string(file_no++),
                                            nobus::env::OpenMode::kTruncate));
      NOBUS_RETURN_IF_ERROR(file->Preallocate(kSegmentBytes));
      if (prezero) {
        const std::string zeros(1 << 20, '\0');
        for (uint64_t off = 0; off < kSegmentBytes; off += zeros.size())
          NOBUS_RETURN_IF_ERROR(file->WriteAt(off, zeros));
        NOBUS_RETURN_IF_ERROR(file->Sync());
      }
      offset = 0;
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

// Zero-filled segments paid for outside the measured loop: what pre-zeroing saves on fdatasync.
BENCHMARK(BM_WalAppend)
    ->ArgNames({"threads", "prezero"})
    ->ArgsProduct({{1, 8, 64}, {0, 1}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RawWriteSync)
    ->ArgNames({"threads", "prezero"})
    ->ArgsProduct({{1, 8, 64}, {0, 1}})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
