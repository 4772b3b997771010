// Fault handling of the ingest service (table/health.h): the free-space guard, WAL reopening after
// a failed fdatasync, and stuck-table isolation, each driven step by step on a ManualClock.
#include <gtest/gtest.h>

#include <filesystem>

#include "env/fault_env.h"
#include "env/mem_env.h"
#include "table/ingest_service.h"
#include "table/test_util.h"

namespace nobus::table::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

bool HasReason(const NodeHealth& h, const std::string& code) {
  for (const NotReadyReason& r : h.not_ready)
    if (r.code == code) return true;
  return false;
}

// Appends ids [first, first + n) one request each; returns the ids whose ack was OK.
std::vector<int64_t> AppendEach(IngestService* service, const LiveTable& table, int64_t first,
                                int n) {
  std::vector<int64_t> acked;
  for (int64_t id = first; id < first + n; ++id)
    if (AppendDurably(service, table, MakeBlob(id, 1)).ok()) acked.push_back(id);
  return acked;
}

// The free-space guard on the real disk, whose reported space the tests set (FaultFileSystem).
class DiskGuardTest : public ::testing::Test {
 protected:
  std::unique_ptr<IngestService> Open(uint64_t pause_bytes, uint64_t resume_bytes,
                                      double pause_percent = 0, double resume_percent = 0) {
    IngestOptions options = TestOptions();
    options.health.pause_below_free_bytes = pause_bytes;
    options.health.resume_above_free_bytes = resume_bytes;
    options.health.pause_below_free_percent = pause_percent;
    options.health.resume_above_free_percent = resume_percent;
    return OpenService(&fs_, &clock_, dir_.path(), options);
  }
  void SetFree(uint64_t free_mib) {
    fs_.SetDiskSpace(env::DiskSpace{.free_bytes = free_mib * kMiB, .total_bytes = 1024 * kMiB});
  }

  TempDir dir_;
  env::FaultFileSystem fs_{env::PosixFileSystem()};
  env::ManualClock clock_;
};

TEST_F(DiskGuardTest, PausesAdmissionAndResumesAboveTheHigherWatermark) {
  auto service = Open(100 * kMiB, 200 * kMiB);
  auto t = CreateAndOpen(service.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service.get(), *t, MakeBlob(0, 5)).ok());

  SetFree(50);
  service->CheckHealth();
  NodeHealth h = service->Health();
  EXPECT_TRUE(h.admission_paused);
  EXPECT_TRUE(HasReason(h, "disk_low"));
  absl::Status refused = AppendDurably(service.get(), *t, MakeBlob(5, 5));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_NE(refused.message().find(env::JoinPath(dir_.path(), "wal")), std::string::npos)
      << refused;
  EXPECT_NE(refused.message().find("50 MiB free"), std::string::npos) << refused;
  // What is held still commits while paused.
  ASSERT_TRUE(service->FlushAll().ok());

  SetFree(150);
  service->CheckHealth();  // above the pause watermark, below the resume one: still paused
  EXPECT_TRUE(service->Health().admission_paused);
  SetFree(250);
  service->CheckHealth();
  EXPECT_FALSE(service->Health().admission_paused);
  EXPECT_TRUE(service->Health().not_ready.empty());
  ASSERT_TRUE(AppendDurably(service.get(), *t, MakeBlob(5, 5)).ok());
  ASSERT_TRUE(service->FlushAll().ok());
  EXPECT_EQ(ReadIds(service->catalog()->TableDir(Name("main.s.t"))), Range(0, 10));
}

// The guard never lets the node hold more uncommitted rows than the disk could still take: the
// pause watermark grows with them (plus a WAL segment), so their commits can always land.
TEST_F(DiskGuardTest, PauseWatermarkCoversTheRowsTheNodeHolds) {
  auto service = Open(1 * kMiB, 2 * kMiB);
  auto t = CreateAndOpen(service.get(), "main.s.t");
  SetFree(3);
  int64_t id = 0;
  while (service->Health().disks.empty() || !service->Health().admission_paused) {
    ASSERT_TRUE(AppendDurably(service.get(), *t, MakeBlob(id, 1000)).ok());  // ~25 KB each
    id += 1000;
    service->CheckHealth();
    ASSERT_LT(id, 1'000'000) << "never paused";
  }
  EXPECT_GT(service->Health().disks[0].pause_below_bytes, 3 * kMiB);  // configured: 1 MiB
  ASSERT_TRUE(service->FlushAll().ok());  // commits free the hold
  service->CheckHealth();
  EXPECT_FALSE(service->Health().admission_paused);
  EXPECT_EQ(ReadIds(service->catalog()->TableDir(Name("main.s.t"))), Range(0, id));
}

// While the disk is low every table's commits may fail: that does not isolate any of them.
TEST(HealthTest, CommitsFailingWhileTheDiskIsLowDoNotMakeATableStuck) {
  TempDir dir;
  FlakyFileSystem flaky;
  env::FaultFileSystem fs(&flaky);
  env::ManualClock clock;
  IngestOptions options = TestOptions();
  options.health.stuck_table_after_ms = 1000;
  auto service = OpenService(&fs, &clock, dir.path(), options);
  auto t = CreateAndOpen(service.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service.get(), *t, MakeBlob(0, 5)).ok());
  fs.SetDiskSpace(env::DiskSpace{.free_bytes = 10 * kMiB, .total_bytes = 1024 * kMiB});
  service->CheckHealth();
  flaky.fail_table_writes = true;  // as ENOSPC would
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(service->FlushAll().ok());
    clock.AdvanceMicros(5'000'000);
  }
  EXPECT_EQ(service->TableStatus(Name("main.s.t"))->state, "failing");
  fs.SetDiskSpace(std::nullopt);
  flaky.fail_table_writes = false;
  service->CheckHealth();
  ASSERT_TRUE(service->FlushAll().ok());
  EXPECT_EQ(service->TableStatus(Name("main.s.t"))->state, "ok");
  EXPECT_EQ(ReadIds(service->catalog()->TableDir(Name("main.s.t"))), Range(0, 5));
}

TEST_F(DiskGuardTest, PercentWatermarkAppliesToLargeDisks) {
  auto service = Open(256 * kMiB, 384 * kMiB, 1, 2);
  fs_.SetDiskSpace(env::DiskSpace{.free_bytes = 900 * kMiB, .total_bytes = 100'000 * kMiB});
  service->CheckHealth();  // 0.9 % free of ~98 GiB: below 1 %
  EXPECT_TRUE(service->Health().admission_paused);
  ASSERT_EQ(service->Health().disks.size(), 2u);
  EXPECT_EQ(service->Health().disks[0].pause_below_bytes, 1000 * kMiB);
}

// The WAL's fdatasync fails (EIO) and keeps failing for a while: acks stop, the node is not
// ready, reopening waits for the disk, then succeeds by itself; after a power loss every acked
// record is in the table exactly once.
TEST(HealthTest, WalReopensAfterFailedSyncsAndLosesNothingAcked) {
  env::MemFileSystem mem;
  env::FaultFileSystem fs(&mem);
  env::ManualClock clock;
  IngestOptions options = TestOptions();
  std::vector<int64_t> acked;
  std::string table_dir;
  {
    auto service = OpenService(&fs, &clock, "/data", options);
    auto t = CreateAndOpen(service.get(), "main.s.t");
    table_dir = service->catalog()->TableDir(Name("main.s.t"));
    for (int64_t id : AppendEach(service.get(), *t, 0, 10)) acked.push_back(id);
    ASSERT_EQ(acked.size(), 10u);

    fs.SetFailSyncs(absl::InternalError("fdatasync: Input/output error"));
    absl::Status failed = AppendDurably(service.get(), *t, MakeBlob(10, 1));
    EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
    service->CheckHealth();  // notices the failure; the first reopen fails (syncs still fail)
    NodeHealth h = service->Health();
    EXPECT_TRUE(HasReason(h, "wal_failed")) << h.wal_error;
    EXPECT_EQ(h.wal_reopens, 0);
    absl::Status refused = AppendDurably(service.get(), *t, MakeBlob(11, 1));
    EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
    EXPECT_NE(refused.message().find("being reopened"), std::string::npos) << refused;

    fs.SetFailSyncs(absl::OkStatus());
    service->CheckHealth();  // within the backoff: no attempt yet
    EXPECT_TRUE(HasReason(service->Health(), "wal_failed"));
    clock.AdvanceMicros(2'000'000);
    service->CheckHealth();
    h = service->Health();
    EXPECT_TRUE(h.not_ready.empty()) << h.not_ready[0].message;
    EXPECT_EQ(h.wal_reopens, 1);
    for (int64_t id : AppendEach(service.get(), *t, 20, 10)) acked.push_back(id);
    ASSERT_EQ(acked.size(), 20u);
    ASSERT_TRUE(service->FlushAll().ok());
    ASSERT_TRUE(service->Close().ok());
  }
  fs.SimulatePowerLoss();
  auto service = OpenService(&fs, &clock, "/data", options);
  ASSERT_TRUE(service->FlushAll().ok());
  std::vector<int64_t> ids = ReadIds(table_dir, &fs);
  // Ids 10 and 11 were never acked: they may be missing (never durable), not duplicated.
  std::vector<int64_t> expected = acked;
  std::sort(expected.begin(), expected.end());
  std::vector<int64_t> acked_found;
  for (int64_t id : ids)
    if (std::binary_search(expected.begin(), expected.end(), id)) acked_found.push_back(id);
  EXPECT_EQ(acked_found, expected);
  EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end()) << "a duplicate id";
}

// One table's storage disappears: it is isolated (its appends fail fast, its rows leave memory
// but stay in the WAL), the other table keeps committing, and once the storage is back a retry
// commits every acked row of the stuck table exactly once.
TEST(HealthTest, StuckTableIsIsolatedAndCommitsOnceWritableAgain) {
  TempDir dir;
  env::ManualClock clock;
  MetricsRegistry metrics;
  IngestOptions options = TestOptions(&metrics);
  options.health.stuck_table_after_ms = 2000;
  auto service = OpenService(env::PosixFileSystem(), &clock, dir.path(), options);
  auto stuck = CreateAndOpen(service.get(), "main.s.stuck");
  auto other = CreateAndOpen(service.get(), "main.s.other");
  const std::string stuck_dir = service->catalog()->TableDir(Name("main.s.stuck"));
  ASSERT_TRUE(AppendDurably(service.get(), *stuck, MakeBlob(0, 10)).ok());
  ASSERT_TRUE(AppendDurably(service.get(), *other, MakeBlob(0, 10)).ok());

  std::filesystem::rename(stuck_dir, stuck_dir + ".away");
  EXPECT_FALSE(service->FlushAll().ok());  // the other table committed; this one failed
  EXPECT_EQ(ReadIds(service->catalog()->TableDir(Name("main.s.other"))), Range(0, 10));
  ASSERT_TRUE(AppendDurably(service.get(), *stuck, MakeBlob(10, 10)).ok());  // only failing
  EXPECT_EQ(service->TableStatus(Name("main.s.stuck"))->state, "failing");
  clock.AdvanceMicros(3'000'000);
  EXPECT_FALSE(service->FlushAll().ok());
  absl::StatusOr<TableHealth> h = service->TableStatus(Name("main.s.stuck"));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->state, "stuck");
  EXPECT_EQ(h->parked_records, 2);
  EXPECT_EQ(h->buffered_bytes, 0);  // out of memory, in the WAL
  EXPECT_NE(h->last_error.find("does not exist"), std::string::npos) << h->last_error;
  EXPECT_EQ(service->Health().stuck_tables, std::vector<std::string>{"main.s.stuck"});
  EXPECT_TRUE(service->Health().not_ready.empty());  // a stuck table does not make the node unready
  absl::Status refused = AppendDurably(service.get(), *stuck, MakeBlob(20, 10));
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("is stuck"), std::string::npos) << refused;

  // The rest of the node flows, and the WAL keeps what the stuck table needs.
  ASSERT_TRUE(AppendDurably(service.get(), *other, MakeBlob(10, 10)).ok());
  EXPECT_FALSE(service->FlushAll().ok());  // the stuck table's retry fails again
  EXPECT_EQ(ReadIds(service->catalog()->TableDir(Name("main.s.other"))), Range(0, 20));
  EXPECT_NE(metrics.Render().find("nobus_table_stuck{table=\"main.s.stuck\"} 1"),
            std::string::npos);

  std::filesystem::rename(stuck_dir + ".away", stuck_dir);
  ASSERT_TRUE(service->RetryTable(Name("main.s.stuck")).ok());
  EXPECT_EQ(service->TableStatus(Name("main.s.stuck"))->state, "ok");
  EXPECT_EQ(ReadIds(stuck_dir), Range(0, 20));
  ASSERT_TRUE(AppendDurably(service.get(), *stuck, MakeBlob(20, 10)).ok());
  ASSERT_TRUE(service->FlushAll().ok());
  EXPECT_EQ(ReadIds(stuck_dir), Range(0, 30));
  ASSERT_TRUE(service->Close().ok());
  // A restart replays nothing twice.
  service = OpenService(env::PosixFileSystem(), &clock, dir.path(), options);
  ASSERT_TRUE(service->FlushAll().ok());
  EXPECT_EQ(ReadIds(stuck_dir), Range(0, 30));
}

// A table whose directory is missing when the node starts, while the WAL still holds acked rows
// of it, is not mistaken for a dropped table (whose rows would be discarded): the start fails
// naming it. Restored, the rows land once; declared dropped, they are discarded.
TEST(HealthTest, MissingTableDirectoryAtStartIsNotADrop) {
  TempDir dir;
  env::ManualClock clock;
  IngestOptions options = TestOptions();
  std::string table_id;
  {
    auto service = OpenService(env::PosixFileSystem(), &clock, dir.path(), options);
    auto gone = CreateAndOpen(service.get(), "main.s.gone");
    auto other = CreateAndOpen(service.get(), "main.s.other");
    table_id = gone->info().table_id;
    ASSERT_TRUE(AppendDurably(service.get(), *gone, MakeBlob(0, 10)).ok());
    ASSERT_TRUE(AppendDurably(service.get(), *other, MakeBlob(0, 10)).ok());
  }  // closed: committed. Now a crash with acked rows only in the WAL:
  TempDir copy;
  {
    auto service = OpenService(env::PosixFileSystem(), &clock, dir.path(), options);
    auto gone = service->OpenTable(Name("main.s.gone"));
    ASSERT_TRUE(AppendDurably(service.get(), **gone, MakeBlob(10, 10)).ok());
    CopyTree(dir.path(), copy.Sub("data"));
  }
  const std::string data = copy.Sub("data");
  const std::string table_dir = env::JoinPath(data, "tables/main/s/gone");
  std::filesystem::rename(table_dir, copy.Sub("gone.away"));

  auto refused = IngestService::Open(env::PosixFileSystem(), &clock, data, options);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_NE(refused.status().message().find("'main.s.gone' (table id " + table_id),
            std::string::npos) << refused.status();
  EXPECT_NE(refused.status().message().find(".dropped-ids"), std::string::npos);

  std::filesystem::rename(copy.Sub("gone.away"), table_dir);
  {
    auto service = OpenService(env::PosixFileSystem(), &clock, data, options);
    ASSERT_NE(service, nullptr);
    ASSERT_TRUE(service->FlushAll().ok());
    EXPECT_EQ(ReadIds(table_dir), Range(0, 20));
  }
  // Declared dropped by the operator: the start discards that table's rows.
  TempDir copy2;
  CopyTree(copy.Sub("data"), copy2.Sub("data"));
  std::filesystem::remove_all(env::JoinPath(copy2.Sub("data"), "tables/main/s/gone"));
  ASSERT_TRUE(env::WriteFileDurably(env::PosixFileSystem(),
                                    env::JoinPath(copy2.Sub("data"), "tables/.dropped-ids"),
                                    table_id + "\n")
                  .ok());
  EXPECT_NE(OpenService(env::PosixFileSystem(), &clock, copy2.Sub("data"), options), nullptr);
}

// Dropping through nobus records the drop: a restart discards the dropped table's WAL records
// without complaint.
TEST(HealthTest, DroppedTableRecordsAreDiscardedAtStart) {
  TempDir dir;
  env::ManualClock clock;
  IngestOptions options = TestOptions();
  auto service = OpenService(env::PosixFileSystem(), &clock, dir.path(), options);
  auto t = CreateAndOpen(service.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service.get(), *t, MakeBlob(0, 10)).ok());
  t = nullptr;
  ASSERT_TRUE(service->DropTable(Name("main.s.t")).ok());
  TempDir copy;
  CopyTree(dir.path(), copy.Sub("data"));  // a crash: the WAL still holds the dropped rows
  EXPECT_NE(OpenService(env::PosixFileSystem(), &clock, copy.Sub("data"), options), nullptr);
}

// A WAL batch that takes longer than slow_sync_ms makes the node not ready until the disk has
// been fast for slow_disk_clear_ms.
TEST(HealthTest, SlowSyncMakesTheNodeNotReadyForAWhile) {
  env::MemFileSystem mem;
  env::FaultFileSystem fs(&mem);
  env::ManualClock clock;
  IngestOptions options = TestOptions();
  options.health.slow_sync_ms = 500;
  options.health.slow_disk_clear_ms = 5000;
  auto service = OpenService(&fs, &clock, "/data", options);
  auto t = CreateAndOpen(service.get(), "main.s.t");
  fs.PauseSyncs();
  Acks acks;
  ASSERT_TRUE(service->Append(*t, MakeBlob(0, 1), 1, acks.Callback()).ok());
  fs.WaitForBlockedSyncs(1);
  clock.AdvanceMicros(1'000'000);
  service->CheckHealth();
  NodeHealth h = service->Health();
  ASSERT_TRUE(HasReason(h, "slow_disk"));
  EXPECT_GE(h.sync_running_ms, 1000);
  fs.ResumeSyncs();
  ASSERT_TRUE(acks.Wait(1).ok());
  clock.AdvanceMicros(1'000'000);
  service->CheckHealth();
  EXPECT_TRUE(HasReason(service->Health(), "slow_disk"));  // not yet fast for 5 s
  clock.AdvanceMicros(5'000'000);
  service->CheckHealth();
  EXPECT_TRUE(service->Health().not_ready.empty());
}

}  // namespace
}  // namespace nobus::table::testing
