#include "table/ingest_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "env/mem_env.h"
#include "table/test_util.h"

// In the helpers' namespace, so test_util.h needs no using-declarations.
namespace nobus::table::testing {
namespace {

class IngestServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    service_ = OpenService(&fs_, &clock_, dir_.path(), options_);
    ASSERT_NE(service_, nullptr);
  }
  std::string TableDir(std::string_view name) {
    return service_->catalog()->TableDir(Name(name));
  }
  int64_t Version(std::string_view name) { return LoadSnapshot(TableDir(name)).version(); }
  std::optional<int64_t> Txn(std::string_view name) {
    return LoadSnapshot(TableDir(name)).TxnVersion(service_->wal_id());
  }

  TempDir dir_;
  FlakyFileSystem fs_;
  env::ManualClock clock_;
  MetricsRegistry metrics_;
  IngestOptions options_ = TestOptions(&metrics_);
  std::unique_ptr<IngestService> service_;
};

TEST_F(IngestServiceTest, NodeIdIsCreatedOnceAndNamesTheWal) {
  std::string id = service_->wal_id();
  ASSERT_EQ(id.size(), std::string("nobus-wal-").size() + 36);
  EXPECT_TRUE(id.starts_with("nobus-wal-"));
  auto file = env::ReadFile(&fs_, dir_.Sub("node_id"));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(*file, id.substr(10) + "\n");
  ASSERT_TRUE(service_->Close().ok());
  Open();
  EXPECT_EQ(service_->wal_id(), id);
}

TEST_F(IngestServiceTest, CorruptNodeIdIsDataLoss) {
  ASSERT_TRUE(service_->Close().ok());
  ASSERT_TRUE(env::WriteFileDurably(&fs_, dir_.Sub("node_id"), "garbage\n").ok());
  auto service = IngestService::Open(&fs_, &clock_, dir_.path(), options_);
  EXPECT_EQ(service.status().code(), absl::StatusCode::kDataLoss) << service.status();
}

TEST_F(IngestServiceTest, OpenMissingTableIsNotFound) {
  auto table = service_->OpenTable(Name("main.s.nope"));
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IngestServiceTest, OpenTableIsShared) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  auto again = service_->OpenTable(Name("Main.S.T"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), t.get());
  EXPECT_EQ(t->info().name.ToString(), "main.s.t");
}

TEST_F(IngestServiceTest, AckedRowsLandAtFlushWithLastLsnAsTxn) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(4, 2)).ok());
  EXPECT_EQ(Version("main.s.t"), 0);  // acked, buffered, not committed yet
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(Version("main.s.t"), 1);
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 5));
  // Two records of two payloads each: LSNs 1..4; the batch's last LSN is the txn version.
  EXPECT_EQ(Txn("main.s.t"), 4);
  EXPECT_EQ(LoadSnapshot(TableDir("main.s.t")).CountRecords().records, 5);
}

std::vector<std::string> FileSuffixes(const delta::Snapshot& snapshot) {
  std::vector<std::string> out;
  for (const auto& [path, add] : snapshot.files()) out.push_back(path.substr(path.find("c000.")));
  return out;
}

TEST_F(IngestServiceTest, CommitsUseTheConfiguredCodecAndCompactionRewritesWithZstd) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_THAT(FileSuffixes(LoadSnapshot(TableDir("main.s.t"))),
              ::testing::ElementsAre("c000.snappy.parquet"));  // the default
  t.reset();
  ASSERT_TRUE(service_->Close().ok());
  options_.data_files.codec = parquet::Codec::kZstd;
  Open();
  t = *service_->OpenTable(Name("main.s.t"));
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(4, 2)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_THAT(FileSuffixes(LoadSnapshot(TableDir("main.s.t"))),
              ::testing::UnorderedElementsAre("c000.snappy.parquet", "c000.zstd.parquet"));
  ASSERT_TRUE(service_->Optimize(Name("main.s.t")).ok());
  EXPECT_THAT(FileSuffixes(LoadSnapshot(TableDir("main.s.t"))),
              ::testing::ElementsAre("c000.zstd.parquet"));
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 5));
}

TEST_F(IngestServiceTest, FlushWithNothingBufferedCommitsNothing) {
  CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(Version("main.s.t"), 0);
}

TEST_F(IngestServiceTest, BadBlobsAreInvalidArgument) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  auto append = [&](std::string blob, int64_t rows) {
    Acks acks;
    return service_->Append(*t, std::move(blob), rows, acks.Callback());
  };
  EXPECT_EQ(append(MakeBlob(1, 2), 3).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(append(MakeBlob(1, 0), 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(append("garbage", 1).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(IngestServiceTest, AppendToDroppedTableIsNotFound) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(service_->DropTable(Name("main.s.t")).ok());
  Acks acks;
  absl::Status st = service_->Append(*t, MakeBlob(1, 1), 1, acks.Callback());
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound) << st;
  EXPECT_EQ(service_->OpenTable(Name("main.s.t")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(IngestServiceTest, DropDiscardsBufferedRowsAndRecreatedTableStartsEmpty) {
  auto old_table = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *old_table, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(service_->DropTable(Name("main.s.t")).ok());
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  EXPECT_NE(t->info().table_id, old_table->info().table_id);
  Acks acks;
  EXPECT_EQ(service_->Append(*old_table, MakeBlob(9, 1), 1, acks.Callback()).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(10, 2)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(10, 2));
}

TEST_F(IngestServiceTest, DropMissingTableIsNotFound) {
  EXPECT_EQ(service_->DropTable(Name("main.s.t")).code(), absl::StatusCode::kNotFound);
}

TEST_F(IngestServiceTest, CloseCommitsAndThenRefusesAppends) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(service_->Close().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 3));
  Acks acks;
  EXPECT_EQ(service_->Append(*t, MakeBlob(4, 1), 1, acks.Callback()).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(service_->Close().ok());  // idempotent
}

TEST_F(IngestServiceTest, PartitionedTable) {
  auto t = CreateAndOpen(service_.get(), "main.s.p", {"day"});
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 2, "2025-01-01")).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(3, 2, "2025-01-02")).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(5, 1, std::nullopt)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  delta::Snapshot snapshot = LoadSnapshot(TableDir("main.s.p"));
  std::set<std::optional<std::string>> days;
  for (const auto& [path, add] : snapshot.files()) days.insert(add.partition_values.at("day"));
  EXPECT_EQ(days, (std::set<std::optional<std::string>>{"2025-01-01", "2025-01-02", std::nullopt}));
  EXPECT_EQ(ReadIds(TableDir("main.s.p")), Range(1, 5));
}

TEST_F(IngestServiceTest, TimedFlushWaitsForTheIntervalByTheClock) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 1)).ok());
  ASSERT_TRUE(service_->FlushDue().ok());
  clock_.AdvanceMicros(999'000);
  ASSERT_TRUE(service_->FlushDue().ok());
  EXPECT_EQ(Version("main.s.t"), 0);
  clock_.AdvanceMicros(1'000);
  ASSERT_TRUE(service_->FlushDue().ok());
  EXPECT_EQ(Version("main.s.t"), 1);
}

TEST_F(IngestServiceTest, BufferPastThresholdIsFlushedEarly) {
  ASSERT_TRUE(service_->Close().ok());
  options_.flush_threshold_bytes = 1;
  Open();
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 1)).ok());
  ASSERT_TRUE(service_->FlushDue().ok());  // the clock did not move
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 1));
}

TEST_F(IngestServiceTest, BufferBelowThresholdWaitsForTheInterval) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 1)).ok());
  ASSERT_TRUE(service_->FlushDue().ok());
  EXPECT_EQ(Version("main.s.t"), 0);
}

TEST_F(IngestServiceTest, WalSegmentsAreReleasedOnceCommitted) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(i * 10, 10)).ok());
  ASSERT_GT(CountSegments(dir_.Sub("wal")), 2u);
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(CountSegments(dir_.Sub("wal")), 1u);  // only the active segment remains
}

TEST_F(IngestServiceTest, ReleaseWaitsForTheLeastCommittedTable) {
  ASSERT_TRUE(service_->Close().ok());
  options_.flush_threshold_bytes = 2048;
  Open();
  auto slow = CreateAndOpen(service_.get(), "main.s.slow");
  auto busy = CreateAndOpen(service_.get(), "main.s.busy");
  ASSERT_TRUE(AppendDurably(service_.get(), *slow, MakeBlob(1, 1)).ok());  // small: stays
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(AppendDurably(service_.get(), *busy, MakeBlob(i * 10, 10)).ok());
  size_t before = CountSegments(dir_.Sub("wal"));
  ASSERT_GT(before, 2u);
  ASSERT_TRUE(service_->FlushDue().ok());
  EXPECT_GE(Version("main.s.busy"), 1);
  EXPECT_EQ(Version("main.s.slow"), 0);
  EXPECT_EQ(CountSegments(dir_.Sub("wal")), before);  // slow's record is in the first segment
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(CountSegments(dir_.Sub("wal")), 1u);
}

TEST_F(IngestServiceTest, FailedCommitKeepsRowsAndSucceedsLater) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  fs_.fail_table_writes = true;
  absl::Status st = service_->FlushAll();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("main.s.t"), std::string::npos) << st;
  EXPECT_EQ(Version("main.s.t"), 0);
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(4, 1)).ok());
  fs_.fail_table_writes = false;
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 4));
  EXPECT_NE(metrics_.Render().find("nobus_commit_failures_total{table=\"main.s.t\"} 1\n"),
            std::string::npos);
}

TEST_F(IngestServiceTest, FailedCommitIsRetriedAfterAnIntervalNotAtOnce) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 1)).ok());
  clock_.AdvanceMicros(1'000'000);
  fs_.fail_table_writes = true;
  EXPECT_FALSE(service_->FlushDue().ok());
  fs_.fail_table_writes = false;
  ASSERT_TRUE(service_->FlushDue().ok());  // too early for the retry
  EXPECT_EQ(Version("main.s.t"), 0);
  clock_.AdvanceMicros(1'000'000);
  ASSERT_TRUE(service_->FlushDue().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 1));
}

TEST_F(IngestServiceTest, CommitThatLandedDespiteAnErrorIsNotRepeated) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  fs_.hide_next_commit = true;
  EXPECT_FALSE(service_->FlushAll().ok());
  EXPECT_EQ(Version("main.s.t"), 1);  // it landed
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(4, 2)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(1, 5));
}

TEST_F(IngestServiceTest, MetricsDescribeCommitsAndVanishWithTheTable) {
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(1, 3)).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(4, 2)).ok());
  EXPECT_NE(metrics_.Render().find("nobus_table_buffered_bytes{table=\"main.s.t\"} "),
            std::string::npos);
  clock_.AdvanceMicros(250'000);
  ASSERT_TRUE(service_->FlushAll().ok());
  std::string text = metrics_.Render();
  for (const char* line : {
           "nobus_table_rows_committed_total{table=\"main.s.t\"} 5\n",
           "nobus_table_last_commit_version{table=\"main.s.t\"} 1\n",
           "nobus_table_buffered_bytes{table=\"main.s.t\"} 0\n",
           "nobus_table_commit_seconds_count{table=\"main.s.t\"} 1\n",
           "nobus_table_time_to_table_seconds_count{table=\"main.s.t\"} 2\n",
           "nobus_table_time_to_table_seconds_sum{table=\"main.s.t\"} 0.5\n",
           "nobus_wal_segments 1\n",
       }) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " in\n" << text;
  }
  EXPECT_NE(text.find("nobus_wal_bytes_written_total "), std::string::npos);
  EXPECT_EQ(text.find("nobus_wal_bytes_written_total 0\n"), std::string::npos);
  ASSERT_TRUE(service_->DropTable(Name("main.s.t")).ok());
  EXPECT_EQ(metrics_.Render().find("main.s.t"), std::string::npos);
}

TEST_F(IngestServiceTest, ConcurrentAppendsToManyTables) {
  constexpr int kTables = 4, kThreads = 8, kAppends = 40, kRows = 3;
  std::vector<std::shared_ptr<const LiveTable>> tables;
  for (int i = 0; i < kTables; ++i)
    tables.push_back(CreateAndOpen(service_.get(), Cat("main.s.t", i)));
  std::atomic<bool> stop{false};
  std::thread flusher([&] {
    while (!stop) EXPECT_TRUE(service_->FlushAll().ok());
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kThreads; ++w) {
    writers.emplace_back([&, w] {
      Acks acks;
      for (int i = 0; i < kAppends; ++i) {
        int64_t first = (w * kAppends + i) * kRows;
        const LiveTable& table = *tables[(w + i) % kTables];
        EXPECT_TRUE(service_->Append(table, MakeBlob(first, kRows), kRows, acks.Callback()).ok());
      }
      EXPECT_TRUE(acks.Wait(kAppends).ok());
    });
  }
  for (auto& w : writers) w.join();
  stop = true;
  flusher.join();
  ASSERT_TRUE(service_->FlushAll().ok());
  std::vector<int64_t> all;
  for (int i = 0; i < kTables; ++i) {
    std::vector<int64_t> ids = ReadIds(TableDir(Cat("main.s.t", i)));
    for (int64_t id : ids) EXPECT_EQ((id / kRows / kAppends + (id / kRows) % kAppends) % kTables, i);
    all.insert(all.end(), ids.begin(), ids.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Range(0, kThreads * kAppends * kRows));
}

TEST_F(IngestServiceTest, LargeBufferIsCommittedInBatchesOfTheThreshold) {
  const int64_t blob_bytes = static_cast<int64_t>(MakeBlob(0, 10).size());
  ASSERT_TRUE(service_->Close().ok());
  options_.flush_threshold_bytes = 2 * blob_bytes;
  options_.flush_interval_ms = 3'600'000;  // the threshold alone triggers the flusher thread
  options_.background_flush = true;
  Open();
  auto t = CreateAndOpen(service_.get(), "main.s.t");
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(AppendDurably(service_.get(), *t, MakeBlob(i * 10, 10)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 50));
  // No commit carried more than two blobs: at least three commits for five blobs.
  EXPECT_GE(Version("main.s.t"), 3);
  EXPECT_EQ(Txn("main.s.t"), 10);
}

TEST_F(IngestServiceTest, ASlowTableDoesNotHoldUpTheCommitsOfOthers) {
  ASSERT_TRUE(service_->Close().ok());
  options_.flush_threshold_bytes = 1;      // every append asks for a commit at once
  options_.flush_interval_ms = 3'600'000;  // (the manual clock never makes one due)
  options_.background_flush = true;
  options_.commit_threads = 2;
  Open();
  auto slow = CreateAndOpen(service_.get(), "main.s.slow");
  auto fast = CreateAndOpen(service_.get(), "main.s.fast");
  fs_.StallDirSyncs(TableDir("main.s.slow"));
  ASSERT_TRUE(AppendDurably(service_.get(), *slow, MakeBlob(0, 10)).ok());
  fs_.WaitForStalledSyncs(1);  // the slow table's commit hangs in a directory sync
  ASSERT_TRUE(AppendDurably(service_.get(), *fast, MakeBlob(100, 10)).ok());
  // With one commit at a time the fast table would wait for the slow one forever.
  for (int i = 0; i < 6000 && Version("main.s.fast") < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(ReadIds(TableDir("main.s.fast")), Range(100, 10));
  EXPECT_EQ(Version("main.s.slow"), 0);
  fs_.ReleaseDirSyncs();
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.slow")), Range(0, 10));
}

TEST_F(IngestServiceTest, FlushAllCommitsManyTablesOnTheWorkers) {
  ASSERT_TRUE(service_->Close().ok());
  options_.background_flush = true;
  options_.commit_threads = 4;
  Open();
  constexpr int kTables = 40;
  std::vector<std::shared_ptr<const LiveTable>> tables;
  for (int i = 0; i < kTables; ++i) {
    tables.push_back(CreateAndOpen(service_.get(), Cat("main.s.t", i)));
    ASSERT_TRUE(AppendDurably(service_.get(), *tables.back(), MakeBlob(i * 10, 10)).ok());
  }
  ASSERT_TRUE(service_->FlushAll().ok());
  for (int i = 0; i < kTables; ++i) {
    EXPECT_EQ(ReadIds(TableDir(Cat("main.s.t", i))), Range(i * 10, 10));
    EXPECT_EQ(Version(Cat("main.s.t", i)), 1);
  }
}

TEST_F(IngestServiceTest, IdleTablesCloseAndReopenOnDemandWhileHeldOnesStayOpen) {
  ASSERT_TRUE(service_->Close().ok());
  options_.background_flush = true;
  options_.idle_table_close_ms = 1000;
  Open();
  auto idle = CreateAndOpen(service_.get(), "main.s.idle");
  auto held = CreateAndOpen(service_.get(), "main.s.held");
  ASSERT_TRUE(AppendDurably(service_.get(), *idle, MakeBlob(0, 10)).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *held, MakeBlob(100, 10)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  idle.reset();  // nothing holds main.s.idle any more; `held` stays (a stream would)
  clock_.AdvanceMicros(2'000'000);
  auto open_tables = [&] {
    std::string m = metrics_.Render();
    size_t at = m.find("\nnobus_tables_open ");
    return at == std::string::npos ? -1 : std::stoi(m.substr(at + 19));
  };
  // Waits for the close itself: the gauge may already read 1 from a round that ran between the
  // two opens. The counter moves after the gauge is set.
  auto closed_one = [&] {
    return metrics_.Render().find("nobus_tables_closed_idle_total 1") != std::string::npos;
  };
  for (int i = 0; i < 6000 && !closed_one(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(closed_one());
  EXPECT_EQ(open_tables(), 1);
  // Reopened from its Delta log on demand: appends and commits continue where they were.
  auto reopened = service_->OpenTable(Name("main.s.idle"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  ASSERT_TRUE(AppendDurably(service_.get(), **reopened, MakeBlob(10, 10)).ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *held, MakeBlob(110, 10)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.idle")), Range(0, 20));
  EXPECT_EQ(ReadIds(TableDir("main.s.held")), Range(100, 20));
  EXPECT_EQ(Version("main.s.idle"), 2);
}

class BufferCapTest : public IngestServiceTest {
 protected:
  void SetUp() override {
    options_.max_buffered_bytes = blob_bytes_;  // room for one blob at a time
    Open();
    table_ = CreateAndOpen(service_.get(), "main.s.t");
  }
  // Appends `rows` rows on another thread; the result arrives in `result` once Append returns.
  std::thread AppendInBackground(int64_t first, std::atomic<int>* result, int rows = 10) {
    return std::thread([this, first, result, rows] {
      absl::Status st = AppendDurably(service_.get(), *table_, MakeBlob(first, rows));
      result->store(static_cast<int>(st.code()));
    });
  }
  std::string Metrics() { return metrics_.Render(); }
  // Closes the service, lets `change` edit the options, opens it again with main.s.t.
  void Reopen(const std::function<void(IngestOptions&)>& change) {
    table_ = nullptr;
    ASSERT_TRUE(service_->Close().ok());
    change(options_);
    Open();
    table_ = *service_->OpenTable(Name("main.s.t"));
  }

  const int64_t blob_bytes_ = static_cast<int64_t>(MakeBlob(0, 10).size());
  std::shared_ptr<const LiveTable> table_;
};

constexpr int kPending = -1;

TEST_F(BufferCapTest, AppendWaitsForRoomUntilACommitFreesIt) {
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  EXPECT_NE(Metrics().find(Cat("nobus_buffered_bytes ", blob_bytes_, "\n")), std::string::npos);
  std::atomic<int> result{kPending};
  std::thread writer = AppendInBackground(10, &result);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(result.load(), kPending);  // still waiting: nothing was committed
  ASSERT_TRUE(service_->FlushAll().ok());
  writer.join();
  EXPECT_EQ(result.load(), 0);
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 20));
  std::string text = Metrics();
  EXPECT_NE(text.find("nobus_buffered_bytes 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nobus_backpressure_waits_total 1\n"), std::string::npos) << text;
}

// Waiting appends are admitted in arrival order: a small append that would fit does not pass a
// large one already waiting for room (which a stream of small ones could otherwise starve).
TEST_F(BufferCapTest, AppendsAreAdmittedInArrivalOrder) {
  ASSERT_NO_FATAL_FAILURE(Reopen([&](IngestOptions& o) {
    o.max_buffered_bytes = 2 * blob_bytes_ + blob_bytes_ / 2;  // 10 rows + 10 more fit
  }));
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  std::atomic<int> large{kPending}, small{kPending};
  std::thread large_writer = AppendInBackground(100, &large, 20);  // does not fit: waits
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(large.load(), kPending);
  std::thread small_writer = AppendInBackground(10, &small);  // would fit, but queues behind
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(small.load(), kPending) << "a later, smaller append passed the waiting one";
  ASSERT_TRUE(service_->FlushAll().ok());  // room for the large one; then the small one is full
  large_writer.join();
  EXPECT_EQ(large.load(), 0);
  ASSERT_TRUE(service_->FlushAll().ok());
  small_writer.join();
  EXPECT_EQ(small.load(), 0);
  ASSERT_TRUE(service_->FlushAll().ok());
  std::vector<int64_t> want = Range(0, 20);
  for (int64_t id : Range(100, 20)) want.push_back(id);
  std::vector<int64_t> got = ReadIds(TableDir("main.s.t"));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, want);
}

// A table holding half the node's buffer while its commits fail is isolated at once (stuck),
// so the node's buffers do not stay full: its appends fail fast with Unavailable.
TEST_F(BufferCapTest, AppendFailsUnavailableWhenCommitsStayStuck) {
  ASSERT_NO_FATAL_FAILURE(Reopen([&](IngestOptions& o) { o.buffer_full_timeout_ms = 50; }));
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  fs_.fail_table_writes = true;
  EXPECT_FALSE(service_->FlushAll().ok());
  Acks acks;
  absl::Status st = service_->Append(*table_, MakeBlob(10, 10), 10, acks.Callback());
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_NE(st.message().find("is stuck"), std::string::npos) << st;
  fs_.fail_table_writes = false;  // the parked rows are read back from the WAL and commit
  ASSERT_TRUE(service_->FlushAll().ok());
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(10, 10)).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 20));
}

TEST_F(BufferCapTest, DroppingATableFreesItsRoom) {
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  ASSERT_TRUE(service_->DropTable(Name("main.s.t")).ok());
  auto other = CreateAndOpen(service_.get(), "main.s.other");
  ASSERT_TRUE(AppendDurably(service_.get(), *other, MakeBlob(0, 10)).ok());  // no wait
  EXPECT_NE(Metrics().find("nobus_backpressure_waits_total 0\n"), std::string::npos);
}

TEST_F(BufferCapTest, CloseReleasesAWaitingAppendWithUnavailable) {
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  std::atomic<int> result{kPending};
  std::thread writer = AppendInBackground(10, &result);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_TRUE(service_->Close().ok());
  writer.join();
  EXPECT_EQ(result.load(), static_cast<int>(absl::StatusCode::kUnavailable));
  Open();
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 10));  // the acked blob, committed by Close
}

// What AppendOrQueue's callbacks reported, in order ("admitted 10", "durable 10", ...).
class Events {
 public:
  AdmittedCallback Admitted(int64_t first) {
    return [this, first](absl::Status st) { Log(Cat("admitted ", first), st); };
  }
  DurableLsnCallback Durable(int64_t first) {
    return [this, first](absl::StatusOr<wal::Lsn> lsn) { Log(Cat("durable ", first), lsn.status()); };
  }
  std::vector<std::string> WaitFor(size_t n) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return log_.size() >= n; });
    return log_;
  }
  std::vector<std::string> Now() {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }

 private:
  void Log(std::string what, const absl::Status& st) {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back(st.ok() ? std::move(what) : Cat(what, ": ", st.ToString()));
    cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
};

// AppendOrQueue never waits: while the buffers are full the appends queue (in order) and are
// admitted by the admission thread as commits free room, each reported to its callback.
TEST_F(BufferCapTest, AppendOrQueueQueuesInsteadOfWaitingAndAdmitsInOrder) {
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  Events events;
  for (int64_t first : {10, 20}) {
    auto a = service_->AppendOrQueue(*table_, MakeBlob(first, 10), 10,
                                     events.Durable(first), events.Admitted(first));
    ASSERT_TRUE(a.ok()) << a.status();
    EXPECT_EQ(*a, Admission::kQueued);  // returned at once: nothing was committed
  }
  EXPECT_TRUE(events.Now().empty());
  // Room for one blob: 10 goes, 20 still waits. (Its durable callback may come first: the WAL
  // can sync it before the admission thread reports it.)
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_THAT(events.WaitFor(2), ::testing::UnorderedElementsAre("admitted 10", "durable 10"));
  ASSERT_TRUE(service_->FlushAll().ok());
  std::vector<std::string> log = events.WaitFor(4);
  EXPECT_THAT(std::vector<std::string>(log.begin() + 2, log.end()),
              ::testing::UnorderedElementsAre("admitted 20", "durable 20"));
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 30));
  EXPECT_NE(Metrics().find("nobus_backpressure_waits_total 2\n"), std::string::npos);
}

TEST_F(BufferCapTest, AppendOrQueueWithRoomAppendsAtOnce) {
  Events events;
  auto a = service_->AppendOrQueue(*table_, MakeBlob(0, 10), 10, events.Durable(0),
                                   events.Admitted(0));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, Admission::kAppended);
  EXPECT_EQ(events.WaitFor(1), std::vector<std::string>{"durable 0"});  // no admitted call
}

// A queued append that cannot be admitted is refused through its admitted callback with the
// reason, and its durable callback never runs; nothing else is lost.
TEST_F(BufferCapTest, QueuedAppendsAreRefusedThroughTheirCallback) {
  ASSERT_NO_FATAL_FAILURE(Reopen([&](IngestOptions& o) { o.buffer_full_timeout_ms = 50; }));
  auto other = CreateAndOpen(service_.get(), "main.s.other");
  ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(0, 10)).ok());
  Events events;
  ASSERT_TRUE(service_->AppendOrQueue(*other, MakeBlob(10, 10), 10, events.Durable(10),
                                      events.Admitted(10)).ok());
  std::vector<std::string> log = events.WaitFor(1);  // after buffer_full_timeout_ms
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("admitted 10: UNAVAILABLE", 0), 0u) << log[0];
  EXPECT_NE(log[0].find("stayed full for 50 ms"), std::string::npos) << log[0];

  ASSERT_TRUE(service_->AppendOrQueue(*other, MakeBlob(20, 10), 10, events.Durable(20),
                                      events.Admitted(20)).ok());
  ASSERT_TRUE(service_->DropTable(Name("main.s.other")).ok());  // the queued one's table goes
  log = events.WaitFor(2);
  EXPECT_EQ(log[1].rfind("admitted 20: NOT_FOUND", 0), 0u) << log[1];

  ASSERT_TRUE(service_->AppendOrQueue(*table_, MakeBlob(30, 10), 10, events.Durable(30),
                                      events.Admitted(30)).ok());
  ASSERT_TRUE(service_->Close().ok());
  log = events.WaitFor(3);
  EXPECT_EQ(log[2].rfind("admitted 30: UNAVAILABLE", 0), 0u) << log[2];
  EXPECT_NE(log[2].find("shutting down"), std::string::npos) << log[2];
  EXPECT_EQ(events.Now().size(), 3u);  // no durable callback for any of them
  Open();
  EXPECT_EQ(ReadIds(TableDir("main.s.t")), Range(0, 10));  // the acked rows
}

}  // namespace
}  // namespace nobus::table::testing
