// Recovery of IngestService: a crash is simulated by copying the data directory while the service
// runs (everything acked is synced by then, and no commit runs during the copy), then opening a
// second service on the copy.
#include <gtest/gtest.h>

#include "env/mem_env.h"
#include "table/ingest_service.h"
#include "table/test_util.h"

// In the helpers' namespace, so test_util.h needs no using-declarations.
namespace nobus::table::testing {
namespace {

class IngestRecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    live_ = OpenService(&fs_, &clock_, dir_.Sub("live"), TestOptions());
    ASSERT_NE(live_, nullptr);
  }
  // Copies the data directory as a crash right now would leave it; returns the copy's path.
  std::string CrashCopyDir() {
    std::string copy = dir_.Sub(Cat("crash", copies_++));
    CopyTree(dir_.Sub("live"), copy);
    return copy;
  }
  std::unique_ptr<IngestService> Open(const std::string& data_dir) {
    return OpenService(&fs_, &clock_, data_dir, TestOptions());
  }
  std::unique_ptr<IngestService> CrashCopy() { return Open(CrashCopyDir()); }
  static std::string TableDir(IngestService* s, std::string_view name) {
    return s->catalog()->TableDir(Name(name));
  }

  TempDir dir_;
  FlakyFileSystem fs_;
  env::ManualClock clock_;
  std::unique_ptr<IngestService> live_;
  int copies_ = 0;
};

TEST_F(IngestRecoveryTest, AckedRowsLandExactlyOnceAfterACrash) {
  auto t = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(4, 2)).ok());
  std::string copy = CrashCopyDir();
  auto recovered = Open(copy);
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(recovered->wal_id(), live_->wal_id());
  std::string table = TableDir(recovered.get(), "main.s.t");
  EXPECT_EQ(ReadIds(table), Range(1, 5));
  EXPECT_EQ(LoadSnapshot(table).TxnVersion(recovered->wal_id()), 4);
  int64_t version = LoadSnapshot(table).version();
  // Opening again replays nothing new.
  ASSERT_TRUE(recovered->Close().ok());
  recovered = Open(copy);
  ASSERT_NE(recovered, nullptr);
  ASSERT_TRUE(recovered->FlushAll().ok());
  EXPECT_EQ(LoadSnapshot(table).version(), version);
  EXPECT_EQ(ReadIds(table), Range(1, 5));
}

TEST_F(IngestRecoveryTest, BatchesCommittedBeforeTheCrashAreNotReplayed) {
  auto t = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(1, 5)).ok());
  ASSERT_TRUE(live_->FlushAll().ok());
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(6, 3)).ok());
  auto recovered = CrashCopy();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.t")), Range(1, 8));
}

TEST_F(IngestRecoveryTest, RecoveredRowsOfSeveralTablesAndPartitions) {
  auto a = CreateAndOpen(live_.get(), "main.s.a", {"day"});
  auto b = CreateAndOpen(live_.get(), "main.s.b");
  ASSERT_TRUE(AppendDurably(live_.get(), *a, MakeBlob(1, 2, "2025-01-01")).ok());
  ASSERT_TRUE(AppendDurably(live_.get(), *b, MakeBlob(100, 2)).ok());
  ASSERT_TRUE(AppendDurably(live_.get(), *a, MakeBlob(3, 2, "2025-01-02")).ok());
  auto recovered = CrashCopy();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.a")), Range(1, 4));
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.b")), Range(100, 2));
  EXPECT_EQ(LoadSnapshot(TableDir(recovered.get(), "main.s.a")).files().size(), 2u);
}

TEST_F(IngestRecoveryTest, DroppedAndRecreatedTableDoesNotGetOldRows) {
  auto old_table = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *old_table, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(live_->DropTable(Name("main.s.t")).ok());
  auto t = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(10, 2)).ok());
  auto recovered = CrashCopy();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.t")), Range(10, 2));
}

TEST_F(IngestRecoveryTest, RowsOfADroppedTableAreSkipped) {
  auto gone = CreateAndOpen(live_.get(), "main.s.gone");
  auto kept = CreateAndOpen(live_.get(), "main.s.kept");
  ASSERT_TRUE(AppendDurably(live_.get(), *gone, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(AppendDurably(live_.get(), *kept, MakeBlob(5, 1)).ok());
  ASSERT_TRUE(live_->DropTable(Name("main.s.gone")).ok());
  auto recovered = CrashCopy();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.kept")), Range(5, 1));
  auto tables = recovered->catalog()->ListAll();
  ASSERT_TRUE(tables.ok());
  EXPECT_EQ(tables->size(), 1u);
}

TEST_F(IngestRecoveryTest, TableCreatedAfterWalReleaseRecovers) {
  auto early = CreateAndOpen(live_.get(), "main.s.early");
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(AppendDurably(live_.get(), *early, MakeBlob(i * 10, 10)).ok());
  ASSERT_TRUE(live_->FlushAll().ok());  // releases the segments holding LSN 1 onwards
  ASSERT_EQ(CountSegments(dir_.Sub("live/wal")), 1u);
  auto late = CreateAndOpen(live_.get(), "main.s.late");  // no txn: it never committed
  ASSERT_TRUE(AppendDurably(live_.get(), *late, MakeBlob(1000, 2)).ok());
  auto recovered = CrashCopy();
  ASSERT_NE(recovered, nullptr);
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.late")), Range(1000, 2));
  EXPECT_EQ(ReadIds(TableDir(recovered.get(), "main.s.early")), Range(0, 400));
}

TEST_F(IngestRecoveryTest, LostWalIsRefused) {
  auto t = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(1, 1)).ok());
  ASSERT_TRUE(live_->Close().ok());
  std::filesystem::remove_all(dir_.Sub("live/wal"));
  auto service = IngestService::Open(&fs_, &clock_, dir_.Sub("live"), TestOptions());
  EXPECT_EQ(service.status().code(), absl::StatusCode::kFailedPrecondition) << service.status();
  EXPECT_NE(service.status().message().find("main.s.t"), std::string::npos);
}

TEST_F(IngestRecoveryTest, RecoveryKeepsRowsWhenTheCommitFails) {
  auto t = CreateAndOpen(live_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(live_.get(), *t, MakeBlob(1, 2)).ok());
  std::string copy = CrashCopyDir();
  fs_.fail_table_writes = true;
  auto recovered = Open(copy);  // opens although the recovered rows cannot be committed yet
  ASSERT_NE(recovered, nullptr);
  std::string table = TableDir(recovered.get(), "main.s.t");
  EXPECT_EQ(LoadSnapshot(table).version(), 0);
  fs_.fail_table_writes = false;
  ASSERT_TRUE(recovered->FlushAll().ok());
  EXPECT_EQ(ReadIds(table), Range(1, 2));
}

}  // namespace
}  // namespace nobus::table::testing
