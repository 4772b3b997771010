// Delta snapshot replay time for a log of 10,000 commits (each one add with stats, a txn and a
// commitInfo, as ingest writes them), with and without a checkpoint, plus the cost of writing
// that checkpoint. The log is built once per run (plain writes, no fsync: replay is what is
// measured) in $NOBUS_DELTA_BENCH_DIR/delta_snapshot_bench_table (default: the current
// directory; use a real disk, not tmpfs), and removed at exit. Replay reads through the page
// cache (the files were just written).
//
// BM_ReplayJsonOnly: Snapshot::Load with checkpoints hidden: parse all 10,001 commits.
// BM_ReplayFromCheckpoint: checkpoint at 9,990 (10,000 live files) + 10 JSON commits.
// BM_EncodeCheckpoint: EncodeCheckpoint of the 10,000-file snapshot (in memory).
#include <cstdlib>
#include <filesystem>
#include <string>

#include "benchmark/benchmark.h"
#include "delta/table.h"
#include "env/env.h"

namespace {

using nobus::Cat;
namespace delta = nobus::delta;

constexpr int64_t kCommits = 10'000;
constexpr int64_t kCheckpointAt = 9'990;

// Hides checkpoints and `_last_checkpoint`.
delta::CommitActions AppendCommit(int64_t v) {
  delta::CommitActions a;
  a.commit_info = delta::CommitInfo{.timestamp_ms = 1'735'689'600'000 + v,
                                    .operation = "STREAMING UPDATE",
                                    .operation_parameters = {{"outputMode", "Append"},
                                                             {"queryId", "wal-1"},
                                                             {"epochId", std::to_string(v)}},
                                    .read_version = v - 1,
                                    .is_blind_append = true,
                                    .operation_metrics = {},
                                    .engine_info = "nobus/bench",
                                    .txn_id = nobus::NewUuid()};
  a.txns.push_back(delta::Txn{"wal-1", v * 1000, 1'735'689'600'000 + v});
  delta::AddFile add;
  add.path = Cat("part-00000-", nobus::NewUuid(), "-c000.zstd.parquet");
  add.size_bytes = 841'454 + v;
  add.modification_time_ms = 1'735'689'600'000 + v;
  add.stats = Cat(R"({"numRecords":5000,"minValues":{"id":)", v * 5000,
                  R"(,"ts":"2025-01-01T00:00:00.000Z"},)", R"("maxValues":{"id":)", v * 5000 + 4999,
                  R"(,"ts":"2025-01-01T00:00:04.999Z"},)", R"("nullCount":{"id":0,"ts":3}})");
  a.adds.push_back(std::move(add));
  return a;
}

struct BenchLog {
  std::string root;
  std::unique_ptr<delta::FileLogStore> store;

  BenchLog() {
    const char* env = std::getenv("NOBUS_DELTA_BENCH_DIR");
    root = Cat(env != nullptr ? env : ".", "/delta_snapshot_bench_table");
    std::filesystem::remove_all(root);
    nobus::env::FileSystem* fs = nobus::env::PosixFileSystem();
    delta::CreateTableOptions o;
    o.schema = {{{"id", nobus::schema::Primitive(nobus::schema::TypeKind::kLong), true},
                 {"ts", nobus::schema::Primitive(nobus::schema::TypeKind::kTimestamp), true}}};
    auto committer = delta::Committer::Create(fs, nobus::env::SystemClock(), root, o);
    if (!committer.ok()) std::abort();
    store = std::make_unique<delta::FileLogStore>(fs, root);
    std::string log = Cat(root, "/_delta_log/");
    for (int64_t v = 1; v <= kCommits; ++v) {
      auto file = fs->Open(log + delta::CommitFileName(v), nobus::env::OpenMode::kTruncate);
      if (!file.ok() || !(*file)->Append(delta::SerializeCommit(AppendCommit(v))).ok())
        std::abort();
      (void)(*file)->Close();
    }
    auto at = delta::Snapshot::Load(store.get(), kCheckpointAt);
    if (!at.ok() || !delta::WriteCheckpoint(store.get(), *at, 1'735'689'600'000).ok()) std::abort();
  }
  ~BenchLog() { std::filesystem::remove_all(root); }
};

BenchLog* g_log = nullptr;

BenchLog& Log() {
  if (g_log == nullptr) g_log = new BenchLog();
  return *g_log;
}

void BM_ReplayJsonOnly(benchmark::State& state) {
  delta::JsonOnlyLogStore store(Log().store.get());
  for (auto _ : state) {
    auto snap = delta::Snapshot::Load(&store);
    if (!snap.ok() || snap->files().size() != kCommits) state.SkipWithError("replay failed");
  }
  state.counters["commits"] = kCommits + 1;
}

void BM_ReplayFromCheckpoint(benchmark::State& state) {
  for (auto _ : state) {
    auto snap = delta::Snapshot::Load(Log().store.get());
    if (!snap.ok() || snap->checkpoint_version() != kCheckpointAt)
      state.SkipWithError("replay failed");
  }
  auto size = nobus::env::PosixFileSystem()->Stat(
      Cat(Log().root, "/_delta_log/", delta::CheckpointFileName(kCheckpointAt)));
  state.counters["checkpoint_MB"] = size.ok() ? size->size_bytes / 1e6 : 0;
}

void BM_EncodeCheckpoint(benchmark::State& state) {
  auto snap = delta::Snapshot::Load(Log().store.get());
  if (!snap.ok()) return state.SkipWithError("load failed");
  for (auto _ : state) benchmark::DoNotOptimize(delta::EncodeCheckpoint(*snap, 1'735'689'600'000));
}

BENCHMARK(BM_ReplayJsonOnly)->Unit(benchmark::kMillisecond)->MinTime(3);
BENCHMARK(BM_ReplayFromCheckpoint)->Unit(benchmark::kMillisecond)->MinTime(2);
BENCHMARK(BM_EncodeCheckpoint)->Unit(benchmark::kMillisecond)->MinTime(2);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  delete g_log;
  benchmark::Shutdown();
  return 0;
}
