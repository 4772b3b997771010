// IngestService's table upkeep (maintenance.cc): OPTIMIZE, VACUUM, history, table properties and
// the background maintenance thread, each with ingest going on.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "delta/config.h"
#include "env/mem_env.h"
#include "table/ingest_service.h"
#include "table/test_util.h"

namespace nobus::table::testing {
namespace {

class MaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = OpenService(fs_, &clock_, dir_.path(), options_);
    ASSERT_NE(service_, nullptr);
    table_ = CreateAndOpen(service_.get(), "main.s.events");
    ASSERT_NE(table_, nullptr);
  }
  std::string Root() { return service_->catalog()->TableDir(Name("main.s.events")); }
  // `batches` commits of `rows` rows each, ids continuing from next_.
  void Ingest(int batches, int rows) {
    for (int i = 0; i < batches; ++i, next_ += rows) {
      ASSERT_TRUE(AppendDurably(service_.get(), *table_, MakeBlob(next_, rows)).ok());
      ASSERT_TRUE(service_->FlushAll().ok());
    }
  }

  TempDir dir_;
  env::FileSystem* fs_ = env::PosixFileSystem();
  env::ManualClock clock_{env::SystemClock()->NowMicros()};  // real file times make sense to it
  MetricsRegistry metrics_;
  IngestOptions options_ = TestOptions(&metrics_);
  std::unique_ptr<IngestService> service_;
  std::shared_ptr<const LiveTable> table_;
  int64_t next_ = 0;
};

TEST_F(MaintenanceTest, OptimizeMergesEveryCommitIntoOneFileAndIngestGoesOn) {
  Ingest(30, 7);
  ASSERT_EQ(LoadSnapshot(Root()).files().size(), 30u);
  auto report = service_->Optimize(Name("main.s.events"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_before, 30);
  EXPECT_EQ(report->files_after, 1);
  EXPECT_EQ(report->files_removed, 30);
  EXPECT_EQ(report->commits, 1);
  EXPECT_GT(report->bytes_before, report->bytes_after);
  EXPECT_EQ(ReadIds(Root()), Range(0, next_));
  EXPECT_NE(metrics_.Render().find("nobus_table_live_files{table=\"main.s.events\"} 1\n"),
            std::string::npos)
      << metrics_.Render();
  // The ingest committer carries on past the OPTIMIZE commit.
  Ingest(3, 5);
  EXPECT_EQ(LoadSnapshot(Root()).files().size(), 4u);
  EXPECT_EQ(ReadIds(Root()), Range(0, next_));
  EXPECT_EQ(metrics_.Render().find("nobus_commit_failures_total{table=\"main.s.events\"} 1"),
            std::string::npos);

  auto history = service_->History(Name("main.s.events"), 5);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), 5u);
  EXPECT_EQ((*history)[0].operation, "STREAMING UPDATE");
  EXPECT_EQ((*history)[3].operation, "OPTIMIZE");
  EXPECT_EQ((*history)[3].files_removed, 30);
  EXPECT_EQ((*history)[3].table_rows, 30 * 7);
  EXPECT_EQ((*history)[0].table_rows, next_);
  const std::string node = service_->wal_id().substr(std::string("nobus-wal-").size());
  EXPECT_NE((*history)[3].engine_info.find("node/" + node), std::string::npos)
      << (*history)[3].engine_info;
}

TEST_F(MaintenanceTest, PropertiesAreValidatedAndSetWithoutFailingIngest) {
  absl::Status bad = service_->SetTableProperties(Name("main.s.events"),
                                                  {{"delta.targetFileSize", "huge"}});
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  Ingest(2, 3);
  ASSERT_TRUE(service_
                  ->SetTableProperties(Name("main.s.events"),
                                       {{"delta.autoOptimize.autoCompact", "false"},
                                        {"owner", "telemetry"}})
                  .ok());
  Ingest(2, 3);
  auto info = service_->catalog()->Get(Name("main.s.events"));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->properties.at("delta.autoOptimize.autoCompact"), "false");
  EXPECT_EQ(info->properties.at("owner"), "telemetry");
  EXPECT_EQ(ReadIds(Root()), Range(0, next_));
  EXPECT_EQ(metrics_.Render().find("nobus_commit_failures_total{table=\"main.s.events\"} 1"),
            std::string::npos);
  EXPECT_TRUE(absl::IsNotFound(
      service_->SetTableProperties(Name("main.s.nope"), {{"owner", "x"}})));
}

TEST_F(MaintenanceTest, VacuumThroughTheServiceRefusesAShortRetentionUnlessForced) {
  Ingest(4, 2);
  ASSERT_TRUE(service_->Optimize(Name("main.s.events")).ok());
  clock_.AdvanceMicros(2'000'000);
  auto refused = service_->Vacuum(Name("main.s.events"), {.retention_ms = 0});
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  auto dry = service_->Vacuum(Name("main.s.events"), {.retention_ms = 0, .dry_run = true, .force = true});
  ASSERT_TRUE(dry.ok()) << dry.status();
  EXPECT_EQ(dry->files.size(), 4u);
  auto done = service_->Vacuum(Name("main.s.events"), {.retention_ms = 0, .force = true});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->files.size(), 4u);
  EXPECT_EQ(ReadIds(Root()), Range(0, next_));
  EXPECT_NE(metrics_.Render().find("nobus_table_files_vacuumed_total{table=\"main.s.events\"} 4"),
            std::string::npos);
  auto history = service_->History(Name("main.s.events"), 2);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ((*history)[0].operation, "VACUUM END");
  EXPECT_TRUE(absl::IsNotFound(service_->Optimize(Name("main.s.nope")).status()));
}

TEST(MaintenanceThreadTest, SmallFilesAreCompactedInTheBackgroundWhileIngesting) {
  TempDir dir;
  MetricsRegistry metrics;
  IngestOptions options = TestOptions(&metrics);
  options.background_flush = true;
  options.flush_interval_ms = 5;
  options.maintenance.check_interval_ms = 20;
  auto service = OpenService(env::PosixFileSystem(), env::SystemClock(), dir.path(), options);
  ASSERT_NE(service, nullptr);
  auto info = service->catalog()->Create(Name("main.s.t"), TestSchema(), {},
                                         {{"nobus.autoCompact.minNumFiles", "4"}});
  ASSERT_TRUE(info.ok()) << info.status();
  auto table = service->OpenTable(Name("main.s.t"));
  ASSERT_TRUE(table.ok());
  int64_t next = 0;
  int64_t optimize_seen = 0;
  // Keep committing small batches until the maintenance thread has compacted a few times.
  for (int round = 0; round < 2000 && optimize_seen < 3; ++round, next += 3) {
    ASSERT_TRUE(AppendDurably(service.get(), **table, MakeBlob(next, 3)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto history = service->History(Name("main.s.t"), 0);
    ASSERT_TRUE(history.ok()) << history.status();
    optimize_seen = 0;
    for (const auto& e : *history) optimize_seen += e.operation == "OPTIMIZE";
  }
  ASSERT_TRUE(service->Close().ok());
  EXPECT_GE(optimize_seen, 3);
  EXPECT_EQ(ReadIds(info->storage_location), Range(0, next));
  EXPECT_NE(metrics.Render().find("nobus_table_compactions_total{table=\"main.s.t\"}"),
            std::string::npos);
}

}  // namespace
}  // namespace nobus::table::testing
