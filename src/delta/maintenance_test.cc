// Compaction, VACUUM, history and table properties (compaction.h, vacuum.h, history.h, config.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "delta/compaction.h"
#include "delta/config.h"
#include "delta/history.h"
#include "delta/test_tables.h"
#include "delta/vacuum.h"
#include "env/mem_env.h"
#include "parquet/reader.h"
#include "parquet/row_batch.h"

namespace nobus::delta {
namespace {

using testing::Rows;
using testing::SmallTable;

constexpr int64_t kHourMs = 3'600'000;

class MaintenanceTest : public ::testing::Test {
 protected:
  std::unique_ptr<Committer> Create(bool partitioned, StringMap config = {}) {
    auto c = Committer::Create(&fs_, &clock_, "/t", SmallTable(partitioned, std::move(config)));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // The ids of every live file, read back from the Parquet files, sorted.
  std::vector<int64_t> Ids(const Snapshot& snap) {
    std::vector<int64_t> ids;
    for (const auto& [path, add] : snap.files()) {
      auto bytes = env::ReadFile(&fs_, "/t/" + path);
      EXPECT_TRUE(bytes.ok()) << path << ": " << bytes.status();
      auto reader = parquet::FileReader::Open(bytes.value_or(""));
      EXPECT_TRUE(reader.ok()) << reader.status();
      if (!reader.ok()) continue;
      auto col = reader->ReadColumn(*reader->FindColumn({"id"}));
      EXPECT_TRUE(col.ok());
      ids.insert(ids.end(), col->ints.begin(), col->ints.end());
      EXPECT_EQ(NumRecords(add.stats), reader->num_rows()) << path;
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Runs one compaction round of `mode`; returns the number of bins committed.
  int Compact(Committer* c, CompactionMode mode) {
    int bins = 0;
    for (const CompactionBin& bin : PlanCompaction(c->snapshot(), mode)) {
      auto add = RewriteFiles(&fs_, &clock_, "/t", c->snapshot().schema(), c->snapshot().metadata(), bin, {});
      EXPECT_TRUE(add.ok()) << add.status();
      std::vector<std::string> paths;
      for (const AddFile& f : bin.inputs) paths.push_back(f.path);
      auto result = c->Compact(paths, {*add}, mode == CompactionMode::kAuto);
      EXPECT_TRUE(result.ok()) << result.status();
      ++bins;
    }
    return bins;
  }

  static std::vector<int64_t> Range(int64_t first, int64_t n) {
    std::vector<int64_t> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(first + i);
    return out;
  }

  env::MemFileSystem fs_;
  env::ManualClock clock_;
  FileLogStore store_{&fs_, "/t"};
};

TEST_F(MaintenanceTest, FullCompactionMergesEachPartitionIntoOneFileWithTheSameRows) {
  auto c = Create(true);
  for (int i = 0; i < 12; ++i)
    ASSERT_TRUE(c->Append(*Rows(*c, i * 10, 10, i % 2 ? "2025-01-01" : "2025-01-02")).ok());
  ASSERT_EQ(c->snapshot().files().size(), 12u);
  EXPECT_EQ(CountSmallFiles(c->snapshot()), 12);
  EXPECT_EQ(Compact(c.get(), CompactionMode::kFull), 2);
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_EQ(snap->files().size(), 2u);
  for (const auto& [path, add] : snap->files()) {
    EXPECT_FALSE(add.data_change);
    EXPECT_EQ(NumRecords(add.stats), 60);
    EXPECT_NE(add.stats->find("\"minValues\""), std::string::npos);
    EXPECT_TRUE(path.starts_with("day=2025-01-0")) << path;
  }
  EXPECT_EQ(Ids(*snap), Range(0, 120));
  EXPECT_EQ(snap->CountRecords().records, 120);
  // The commit is Delta's OPTIMIZE: removes keep their stats, metrics name files and bytes.
  auto body = store_.Read(CommitFileName(snap->version()));
  auto actions = ParseCommit(*body, "v");
  ASSERT_TRUE(actions.ok());
  EXPECT_EQ(actions->commit_info->operation, "OPTIMIZE");
  EXPECT_EQ(actions->commit_info->operation_parameters.at("auto"), "false");
  EXPECT_EQ(actions->commit_info->operation_metrics.at("numRemovedFiles"), "6");
  ASSERT_EQ(actions->removes.size(), 6u);
  EXPECT_TRUE(NumRecords(actions->removes[0].stats).has_value());
  // Nothing left to do.
  EXPECT_EQ(Compact(c.get(), CompactionMode::kFull), 0);
}

TEST_F(MaintenanceTest, AutoCompactionWaitsForMinFilesAndDoublesFiles) {
  auto c = Create(false, {{kAutoCompactMinFilesKey, "4"}});
  int64_t next = 0;
  auto append = [&](int n) {
    for (int i = 0; i < n; ++i, next += 5) ASSERT_TRUE(c->Append(*Rows(*c, next, 5)).ok());
  };
  append(3);
  EXPECT_TRUE(PlanCompaction(c->snapshot(), CompactionMode::kAuto).empty());
  append(1);
  EXPECT_EQ(Compact(c.get(), CompactionMode::kAuto), 1);
  EXPECT_EQ(c->snapshot().files().size(), 1u);
  // A file larger than the small ones together is left alone when they merge...
  ASSERT_TRUE(c->Append(*Rows(*c, 1'000'000, 3000)).ok());
  append(4);
  auto plan = PlanCompaction(c->snapshot(), CompactionMode::kAuto);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].inputs.size(), 5u);  // the four new ones and the merged 20-row file
  for (const AddFile& f : plan[0].inputs) EXPECT_NE(NumRecords(f.stats), 3000);
  for (int round = 0; round < 20; ++round) {
    append(4);
    Compact(c.get(), CompactionMode::kAuto);
    EXPECT_LE(c->snapshot().files().size(), 8u) << "round " << round;
  }
  // ... and after many rounds the table holds few files with every row exactly once.
  EXPECT_LE(c->snapshot().files().size(), 8u);
  std::vector<int64_t> want = Range(0, next);
  for (int64_t id : Range(1'000'000, 3000)) want.push_back(id);
  EXPECT_EQ(Ids(c->snapshot()), want);
}

TEST_F(MaintenanceTest, AFileInAnotherLayoutIsNamedAndCanBeLeftOut) {
  auto c = Create(false);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->Append(*Rows(*c, i * 10, 10)).ok());
  // A file another engine wrote with `id` as INT32: readable by Delta readers, not by us.
  auto foreign = parquet::RowBatch::Create({{{"id", schema::Primitive(schema::TypeKind::kInteger)},
                                             {"name", schema::Primitive(schema::TypeKind::kString)},
                                             {"day", schema::Primitive(schema::TypeKind::kString)}}});
  ASSERT_TRUE(foreign.ok());
  parquet::RowBuilder b(foreign->get());
  b.BeginRow();
  b.Int32(99);
  b.String("x");
  b.String("2025-01-01");
  ASSERT_TRUE(b.EndRow().ok());
  auto add = WriteDataFile(&fs_, &clock_, "/t", "", {}, **foreign);
  ASSERT_TRUE(add.ok() && *add);
  ASSERT_TRUE(c->CommitAdds({**add}).ok());
  auto bins = PlanCompaction(c->snapshot(), CompactionMode::kFull);
  ASSERT_EQ(bins.size(), 1u);
  ASSERT_EQ(bins[0].inputs.size(), 4u);
  std::string bad;
  auto rewritten = RewriteFiles(&fs_, &clock_, "/t", c->snapshot().schema(),
                                c->snapshot().metadata(), bins[0], {}, {}, &bad);
  EXPECT_TRUE(absl::IsFailedPrecondition(rewritten.status())) << rewritten.status();
  EXPECT_EQ(bad, (*add)->path);
  bins = PlanCompaction(c->snapshot(), CompactionMode::kFull, {bad});
  ASSERT_EQ(bins.size(), 1u);
  EXPECT_EQ(bins[0].inputs.size(), 3u);
  // Nothing was left behind by the failed rewrite: only the four committed files exist.
  auto listed = fs_.ListDir("/t");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(std::count_if(listed->begin(), listed->end(),
                          [](const std::string& n) { return n.ends_with(".parquet"); }),
            4);
}

TEST_F(MaintenanceTest, AutoCompactionCanBeTurnedOffAndPropertiesAreValidated) {
  EXPECT_TRUE(ValidateProperties({{kTargetFileSizeKey, "64mb"}, {"owner", "ops"}}).ok());
  EXPECT_EQ(TargetFileSize(Metadata{.configuration = {{kTargetFileSizeKey, "64mb"}}}), 64 << 20);
  EXPECT_EQ(TargetFileSize(Metadata{}), 128 << 20);
  absl::Status st = ValidateProperties({{kTargetFileSizeKey, "12 parsecs"}});
  EXPECT_TRUE(absl::IsInvalidArgument(st));
  EXPECT_NE(st.message().find("delta.targetFileSize"), std::string::npos) << st;
  st = ValidateProperties({{"delta.enableChangeDataFeed", "true"}});
  EXPECT_NE(st.message().find("not one nobus supports"), std::string::npos) << st;
  EXPECT_TRUE(absl::IsInvalidArgument(
      ValidateProperties({{kDeletedFileRetentionKey, "forever"}})));

  auto c = Create(false, {{kAutoCompactKey, "false"}});
  EXPECT_FALSE(AutoCompactEnabled(c->snapshot().metadata()));
  auto set = c->SetProperties({{kAutoCompactKey, "true"}, {kTargetFileSizeKey, "2mb"}});
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_TRUE(AutoCompactEnabled(c->snapshot().metadata()));
  EXPECT_EQ(TargetFileSize(c->snapshot().metadata()), 2 << 20);
  EXPECT_TRUE(absl::IsInvalidArgument(c->SetProperties({{kAutoCompactKey, "maybe"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Committer::Create(&fs_, &clock_, "/u", SmallTable(false, {{"delta.appendOnly", "x"}}))
          .status()));
}

TEST_F(MaintenanceTest, VacuumKeepsWhatTheRetentionWindowNeedsAndDeletesTheRest) {
  auto c = Create(false);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c->Append(*Rows(*c, i * 10, 10)).ok());
  ASSERT_EQ(Compact(c.get(), CompactionMode::kFull), 1);
  // An orphan, as a crashed writer leaves it.
  ASSERT_TRUE(env::WriteFileDurably(&fs_, "/t/part-00000-orphan-c000.zstd.parquet", "x").ok());
  VacuumOptions dry{.dry_run = true};
  auto plan = Vacuum(c.get(), dry);
  ASSERT_TRUE(plan.ok()) << plan.status();
  // The four compacted files are tombstoned just now: kept. The orphan is old (MemFileSystem
  // times are near the epoch): deleted.
  EXPECT_EQ(plan->files, std::vector<std::string>{"part-00000-orphan-c000.zstd.parquet"});
  EXPECT_EQ(plan->orphans, 1);
  EXPECT_TRUE(fs_.Exists("/t/part-00000-orphan-c000.zstd.parquet"));
  EXPECT_FALSE(plan->start_version);

  // A retention below the table's needs force.
  VacuumOptions short_retention{.retention_ms = kHourMs};
  auto refused = Vacuum(c.get(), short_retention);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_NE(refused.status().message().find("delta.deletedFileRetentionDuration"),
            std::string::npos);

  clock_.AdvanceMicros(8 * 24 * kHourMs * 1000);
  auto done = Vacuum(c.get(), {});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->files.size(), 5u);
  ASSERT_TRUE(done->start_version && done->end_version);
  EXPECT_EQ(*done->end_version, *done->start_version + 1);
  EXPECT_FALSE(fs_.Exists("/t/part-00000-orphan-c000.zstd.parquet"));
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(Ids(*snap), Range(0, 40));  // every live file is still there

  auto history = ReadHistory(&store_, *snap, 0);
  ASSERT_TRUE(history.ok()) << history.status();
  ASSERT_EQ(history->size(), static_cast<size_t>(snap->version() + 1));
  EXPECT_EQ((*history)[0].operation, "VACUUM END");
  EXPECT_EQ((*history)[1].operation, "VACUUM START");
  EXPECT_EQ((*history)[1].operation_metrics.at("numFilesToDelete"), "5");
  EXPECT_EQ((*history)[2].operation, "OPTIMIZE");
  EXPECT_EQ((*history)[2].files_removed, 4);
  EXPECT_EQ((*history)[2].rows_removed, 40);
  EXPECT_EQ((*history)[2].rows_added, 40);
  EXPECT_EQ((*history)[3].operation, "WRITE");
  EXPECT_EQ((*history)[3].rows_added, 10);
  // Rows at each version, walked back from the latest count.
  for (const HistoryEntry& e : *history) {
    auto at = Snapshot::Load(&store_, e.version);
    ASSERT_TRUE(at.ok());
    EXPECT_EQ(e.table_rows, at->CountRecords().records) << "version " << e.version;
  }
  auto limited = ReadHistory(&store_, *snap, 2);
  ASSERT_TRUE(limited.ok());
  EXPECT_EQ(limited->size(), 2u);
}

TEST_F(MaintenanceTest, VacuumNeverDeletesAFreshUntrackedFileEvenWhenForced) {
  auto dir = std::filesystem::temp_directory_path() / ("nobus-vacuum-" + NewUuid());
  std::string root = dir.string();
  auto c = Committer::Create(env::PosixFileSystem(), env::SystemClock(), root, SmallTable(false));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE((*c)->Append(*Rows(**c, 1, 3)).ok());
  std::string live = (*c)->snapshot().files().begin()->first;
  auto merged = WriteDataFiles(env::PosixFileSystem(), env::SystemClock(), root, *Rows(**c, 1, 3));
  ASSERT_TRUE(merged.ok());
  ASSERT_TRUE((*c)->Compact({live}, *merged).ok());
  // Written just now and not committed: what a live writer holds before its commit lands.
  std::string pending = root + "/part-00000-pending-c000.zstd.parquet";
  ASSERT_TRUE(env::WriteFileDurably(env::PosixFileSystem(), pending, "x").ok());
  auto result = Vacuum(c->get(), {.retention_ms = 0, .force = true});
  ASSERT_TRUE(result.ok()) << result.status();
  // The tombstoned file goes (retention 0, forced); the fresh untracked file stays.
  EXPECT_EQ(result->files, std::vector<std::string>{live});
  EXPECT_TRUE(std::filesystem::exists(pending));
  EXPECT_FALSE(std::filesystem::exists(root + "/" + live));
  // Once older than the grace period it is an orphan and goes too.
  std::filesystem::last_write_time(pending, std::filesystem::file_time_type::clock::now() -
                                                std::chrono::hours(2));
  result = Vacuum(c->get(), {.retention_ms = 0, .force = true});
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->orphans, 1);
  EXPECT_FALSE(std::filesystem::exists(pending));
  std::filesystem::remove_all(dir);
}

TEST_F(MaintenanceTest, AVersionLogRetentionRemovedFailsWithAClearError) {
  auto c = Create(false, {{kCheckpointIntervalKey, "2"}, {kLogRetentionKey, "interval 1 hour"}});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c->Append(*Rows(*c, i, 1)).ok());
  // MemFileSystem's file times are near the epoch: every log file is past the retention, and the
  // checkpoint at 2 made commits 0 and 1 redundant.
  ASSERT_TRUE(CleanupExpiredLogs(&store_, c->snapshot().metadata(), clock_.NowMillis()).ok());
  auto old = Snapshot::Load(&store_, 0);
  EXPECT_TRUE(absl::IsNotFound(old.status())) << old.status();
  EXPECT_NE(old.status().message().find("oldest readable version is 2"), std::string::npos)
      << old.status();
  EXPECT_TRUE(Snapshot::Load(&store_, 2).ok());
}

}  // namespace
}  // namespace nobus::delta
