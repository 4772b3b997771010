// Two ingest services (two nodes: their own data dirs and WALs) on one shared tables root: a
// persistent stream that fails over from node A to node B while A still holds acknowledged,
// uncommitted requests of it (doc/exactly-once.md "Several nodes"). Every request must land
// exactly once whichever node commits it first: at A's WAL replay after B committed, and when A
// commits after B on a stale snapshot (the concurrent commit aborts A's batch, which is rebuilt).
#include <gtest/gtest.h>

#include "common/metrics.h"
#include "env/mem_env.h"
#include "table/ingest_service.h"
#include "table/streams.h"
#include "table/test_util.h"

namespace nobus::table::testing {
namespace {

constexpr std::string_view kTable = "main.s.t";

class FailoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = Open(&fs_a_, dir_.Sub("a"));
    b_ = Open(&fs_b_, dir_.Sub("b"));
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
    table_a_ = CreateAndOpen(a_.get(), kTable);
    auto t = b_->OpenTable(Name(kTable));  // created through A, served by B
    ASSERT_TRUE(t.ok()) << t.status();
    table_b_ = *t;
  }

  // A node with its data dir (WAL, node id) at `data_dir` and the shared tables root.
  std::unique_ptr<IngestService> Open(FlakyFileSystem* fs, const std::string& data_dir,
                                      MetricsRegistry* metrics = nullptr) {
    IngestOptions o = TestOptions(metrics);
    o.tables_fs = fs;
    o.tables_root = dir_.Sub("tables");
    return OpenService(fs, &clock_, data_dir, std::move(o));
  }

  // Request `offset` of stream `id` carries the one row id 100 + offset.
  static absl::Status Send(IngestService* node, const LiveTable& table, const std::string& id,
                           int64_t from, int64_t to) {
    Acks acks;
    for (int64_t offset = from; offset <= to; ++offset)
      NOBUS_RETURN_IF_ERROR(
          node->Append(table, MakeBlob(100 + offset, 1), 1, acks.Callback(), StreamMark{id, offset}));
    return acks.Wait(static_cast<int>(to - from + 1));
  }

  // Node A "crashes" holding what it acknowledged: a copy of its data dir is what it restarts
  // from; the live one is closed without committing anything (its table writes fail).
  std::string CrashA() {
    std::string image = dir_.Sub("a-after-crash");
    CopyTree(dir_.Sub("a"), image);
    fs_a_.fail_table_writes = true;
    (void)a_->Close();
    table_a_.reset();
    a_.reset();
    fs_a_.fail_table_writes = false;
    return image;
  }

  std::string TableDir() { return b_->catalog()->TableDir(Name(kTable)); }

  TempDir dir_;
  FlakyFileSystem fs_a_, fs_b_;
  env::ManualClock clock_;
  std::unique_ptr<IngestService> a_, b_;
  std::shared_ptr<const LiveTable> table_a_, table_b_;
};

TEST_F(FailoverTest, ReplayLeavesOutWhatTheOtherNodeCommitted) {
  std::string id = *a_->CreateStream(*table_a_);
  ASSERT_TRUE(Send(a_.get(), *table_a_, id, 0, 4).ok());
  ASSERT_TRUE(a_->FlushAll().ok());
  ASSERT_TRUE(Send(a_.get(), *table_a_, id, 5, 9).ok());  // acknowledged, not committed
  // A gap on B is then retriable (server/stream_session.cc): A's WAL may fill it.
  EXPECT_TRUE(b_->OtherNodesMayWrite(*table_b_));
  std::string image = CrashA();

  // The client resumes on B: B reads the table's latest txn, not its own stale view.
  absl::StatusOr<std::optional<int64_t>> resumed = b_->ResumeStream(*table_b_, id);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(*resumed, 4);
  ASSERT_TRUE(Send(b_.get(), *table_b_, id, 5, 12).ok());  // it resends 5..9, then goes on
  ASSERT_TRUE(b_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(100, 13));

  // A comes back with its WAL: 5..9 are in the table already and are left out.
  MetricsRegistry metrics;
  auto restarted = Open(&fs_a_, image, &metrics);
  ASSERT_NE(restarted, nullptr);
  ASSERT_TRUE(restarted->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(100, 13));
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(id), 12);  // never lowered
  EXPECT_NE(metrics.Render().find("nobus_table_requests_committed_elsewhere_total{table=\"main.s.t\"} 5"),
            std::string::npos)
      << metrics.Render();
}

TEST_F(FailoverTest, AStaleCommitIsRebuiltWithoutTheOtherNodesRequests) {
  std::string id = *a_->CreateStream(*table_a_);
  ASSERT_TRUE(Send(a_.get(), *table_a_, id, 0, 4).ok());
  ASSERT_TRUE(a_->FlushAll().ok());
  ASSERT_TRUE(Send(a_.get(), *table_a_, id, 5, 9).ok());  // A holds them, unreachable for a while
  EXPECT_EQ(*b_->ResumeStream(*table_b_, id), 4);
  ASSERT_TRUE(Send(b_.get(), *table_b_, id, 5, 9).ok());
  ASSERT_TRUE(b_->FlushAll().ok());
  // A commits on its old snapshot: version taken, the winner carries the stream's txn, A rebuilds.
  ASSERT_TRUE(a_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(100, 10));
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(id), 9);
  // A's WAL is marked committed: a restart of A replays nothing into the table.
  std::string image = CrashA();
  auto restarted = Open(&fs_a_, image);
  ASSERT_NE(restarted, nullptr);
  ASSERT_TRUE(restarted->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(100, 10));
}

TEST_F(FailoverTest, ARetryOfAnIdempotentInsertOnAnotherNodeLandsOnce) {
  const std::string key = IdempotencyId(kTable, "00aa11bb22cc33dd");
  Acks acks;
  ASSERT_TRUE(a_->Append(*table_a_, MakeBlob(7, 1), 1, acks.Callback(), StreamMark{key, 42}).ok());
  ASSERT_TRUE(acks.Wait(1).ok());
  Acks again;  // the client's retry reached B before A committed
  ASSERT_TRUE(b_->Append(*table_b_, MakeBlob(7, 1), 1, again.Callback(), StreamMark{key, 42}).ok());
  ASSERT_TRUE(again.Wait(1).ok());
  ASSERT_TRUE(b_->FlushAll().ok());
  ASSERT_TRUE(a_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(7, 1));
}

TEST_F(FailoverTest, KafkaAndRetiredMarksAreNeverLeftOut) {
  delta::Snapshot snapshot;
  const std::string kafka = KafkaProducerId(kTable, 9);
  const std::string stream = NewStreamId(kTable, 1);
  delta::CommitActions commit;
  commit.txns = {delta::Txn{kafka, 50, 0}, delta::Txn{stream, kRetiredStreamVersion, 0}};
  ASSERT_TRUE(snapshot.Apply(commit, 0).ok());
  EXPECT_FALSE(CommittedByTable(StreamMark{kafka, 10}, snapshot));   // numbered per node
  EXPECT_FALSE(CommittedByTable(StreamMark{stream, 10}, snapshot));  // retired: keep the rows
  EXPECT_FALSE(CommittedByTable(StreamMark{NewStreamId(kTable, 2), 0}, snapshot));  // unknown
  const std::string key = IdempotencyId(kTable, "0011");
  commit.txns = {delta::Txn{key, 42, 0}};
  ASSERT_TRUE(snapshot.Apply(commit, 1).ok());
  EXPECT_TRUE(CommittedByTable(StreamMark{key, 42}, snapshot));
  EXPECT_FALSE(CommittedByTable(StreamMark{key, 43}, snapshot));  // the key reused after it expired
}

}  // namespace
}  // namespace nobus::table::testing
