// Real processes on one table: several writers appending at once (each batch exactly once, a
// contiguous version sequence), and writers SIGKILLed at random points, then re-run with the same
// txn versions (the table replays and nothing lands twice). The writer is delta_append_child in
// NOBUS_BIN_DIR.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "delta/table.h"
#include "table_reader.h"

namespace nobus::delta {
namespace {

std::string ChildPath() {
  const char* dir = std::getenv("NOBUS_BIN_DIR");
  return Cat(dir != nullptr ? dir : "build/bin", "/delta_append_child");
}

pid_t Spawn(const std::string& root, const std::string& app, int64_t first, int64_t last) {
  // Built before fork: the child only makes async-signal-safe calls until execl.
  const std::string f = std::to_string(first), l = std::to_string(last), bin = ChildPath();
  pid_t pid = fork();
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    execl(bin.c_str(), bin.c_str(), root.c_str(), app.c_str(), f.c_str(), l.c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Every committed (appId, txn version) pair, from the commits themselves, with how often it landed.
std::map<std::pair<std::string, int64_t>, int> LandedBatches(LogStore* store,
                                                             const Snapshot& snap) {
  std::map<std::pair<std::string, int64_t>, int> landed;
  int64_t first = snap.checkpoint_version().value_or(0);
  for (int64_t v = 0; v <= snap.version(); ++v) {
    auto body = store->Read(CommitFileName(v));
    if (!body.ok()) {
      EXPECT_LT(v, first) << "commit " << v << " missing";
      continue;
    }
    auto actions = ParseCommit(*body, CommitFileName(v));
    EXPECT_TRUE(actions.ok()) << actions.status();
    for (const Txn& t : actions->txns) {
      ++landed[{t.app_id, t.version}];
      EXPECT_EQ(actions->adds.size(), 1u) << "commit " << v;
    }
  }
  return landed;
}

int64_t NumRecords(const Snapshot& snap) {
  int64_t n = 0;
  for (const auto& [path, add] : snap.files())
    n += nlohmann::json::parse(add.stats.value_or("{}")).value("numRecords", int64_t{0});
  return n;
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CreateTableOptions o;
    o.schema = {{{"id", schema::Primitive(schema::TypeKind::kLong), true},
                 {"name", schema::Primitive(schema::TypeKind::kString), true}}};
    o.configuration = {{"delta.checkpointInterval", "3"}};
    ASSERT_TRUE(Committer::Create(env::PosixFileSystem(), env::SystemClock(), root(), o).ok());
  }
  std::string root() const { return dir_.path() + "/t"; }
  absl::StatusOr<Snapshot> Load() { return Snapshot::Load(&store_); }

  testing::TempDir dir_;
  FileLogStore store_{env::PosixFileSystem(), dir_.path() + "/t"};
};

TEST_F(ProcessTest, ConcurrentWritersLandEveryBatchExactlyOnce) {
  constexpr int kWriters = 4, kBatches = 12;
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) pids.push_back(Spawn(root(), Cat("wal-", w), 1, kBatches));
  for (pid_t pid : pids) EXPECT_EQ(Wait(pid), 0);
  auto snap = Load();
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->version(), kWriters * kBatches);
  for (int w = 0; w < kWriters; ++w) EXPECT_EQ(snap->TxnVersion(Cat("wal-", w)), kBatches);
  auto landed = LandedBatches(&store_, *snap);
  EXPECT_EQ(landed.size(), static_cast<size_t>(kWriters * kBatches));
  for (const auto& [batch, count] : landed)
    EXPECT_EQ(count, 1) << batch.first << " " << batch.second;
  EXPECT_EQ(NumRecords(*snap), kWriters * kBatches * 5);
}

TEST_F(ProcessTest, KilledWritersRerunWithoutDuplicates) {
  constexpr int kBatches = 80;
  std::mt19937 rng(std::random_device{}());
  int killed = 0;
  for (int round = 0; round < 15; ++round) {
    std::vector<pid_t> pids = {Spawn(root(), "wal-a", 1, kBatches),
                               Spawn(root(), "wal-b", 1, kBatches)};
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 80));
    for (pid_t pid : pids) kill(pid, SIGKILL);
    for (pid_t pid : pids) killed += Wait(pid) == 128 + SIGKILL;
    ASSERT_TRUE(Load().ok()) << "round " << round << ": " << Load().status();
  }
  std::vector<pid_t> pids = {Spawn(root(), "wal-a", 1, kBatches),
                             Spawn(root(), "wal-b", 1, kBatches)};
  for (pid_t pid : pids) EXPECT_EQ(Wait(pid), 0);
  RecordProperty("writers_killed", killed);
  auto snap = Load();
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->TxnVersion("wal-a"), kBatches);
  EXPECT_EQ(snap->TxnVersion("wal-b"), kBatches);
  auto landed = LandedBatches(&store_, *snap);
  EXPECT_EQ(landed.size(), 2u * kBatches);
  for (const auto& [batch, count] : landed)
    EXPECT_EQ(count, 1) << batch.first << " " << batch.second;
  EXPECT_EQ(NumRecords(*snap), 2 * kBatches * 5);
  auto rows = testing::ReadTableWithDuckdb(*snap, root());
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ((*rows)["rows"], 2 * kBatches * 5);
}

}  // namespace
}  // namespace nobus::delta
