#include "delta/committer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "delta/test_tables.h"
#include "env/fault_env.h"
#include "env/forwarding_file_system.h"
#include "env/mem_env.h"
#include "schema/delta_json.h"

namespace nobus::delta {
namespace {

using testing::Rows;
using testing::SmallTable;

// Forwards to a MemFileSystem; SyncDir of a `_delta_log` directory fails once when armed, after
// the entries are made durable: the commit landed but its writer cannot know.
class FailLogSyncFileSystem final : public env::ForwardingFileSystem {
 public:
  explicit FailLogSyncFileSystem(env::FileSystem* base) : ForwardingFileSystem(base) {}
  void Arm() { armed_ = true; }
  absl::Status SyncDir(std::string_view p) override {
    NOBUS_RETURN_IF_ERROR(base()->SyncDir(p));
    if (!armed_ || !p.ends_with("_delta_log")) return absl::OkStatus();
    armed_ = false;
    return absl::UnavailableError("injected: directory sync timed out");
  }

 private:
  bool armed_ = false;
};

class CommitterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Committer> Create(bool partitioned, StringMap config = {}) {
    auto c = Committer::Create(&fs_, &clock_, "/t", SmallTable(partitioned, std::move(config)));
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::unique_ptr<Committer> Open() {
    auto c = Committer::Open(&fs_, &clock_, "/t");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? std::move(*c) : nullptr;
  }
  CommitActions ReadCommit(int64_t version) {
    auto body = store_.Read(CommitFileName(version));
    EXPECT_TRUE(body.ok()) << body.status();
    auto actions = ParseCommit(body.value_or(""), "test");
    EXPECT_TRUE(actions.ok()) << actions.status();
    return actions.value_or(CommitActions{});
  }

  env::MemFileSystem fs_;
  env::ManualClock clock_;
  FileLogStore store_{&fs_, "/t"};
};

TEST_F(CommitterTest, CreateWritesProtocolMetadataAndDefaultConfiguration) {
  auto c = Create(true);
  CommitActions v0 = ReadCommit(0);
  ASSERT_TRUE(v0.protocol && v0.metadata && v0.commit_info);
  EXPECT_EQ(*v0.protocol, Protocol{});
  EXPECT_EQ(v0.metadata->id.size(), 36u);
  EXPECT_EQ(v0.metadata->partition_columns, std::vector<std::string>{"day"});
  EXPECT_EQ(v0.metadata->configuration.at("delta.logRetentionDuration"), "interval 2 days");
  EXPECT_EQ(v0.metadata->configuration.at("delta.checkpointInterval"), "10");
  EXPECT_EQ(v0.metadata->configuration.at("delta.checkpoint.writeStatsAsStruct"), "false");
  EXPECT_EQ(v0.metadata->created_time_ms, clock_.NowMillis());
  EXPECT_EQ(schema::ParseSchemaJson(v0.metadata->schema_string).value(), testing::SmallSchema());
  EXPECT_EQ(v0.commit_info->operation, "CREATE TABLE");
  EXPECT_TRUE(v0.commit_info->engine_info.starts_with("nobus/"));
  // The first commit reads no version (delta-rs's history() rejects readVersion -1).
  EXPECT_EQ(v0.commit_info->read_version, std::nullopt);
  EXPECT_EQ(store_.Read(CommitFileName(0)).value().find("readVersion"), std::string::npos);
}

TEST_F(CommitterTest, TimestampNtzColumnsMakeTheTableUseTheTimestampNtzFeature) {
  CreateTableOptions o = SmallTable(false);
  schema::DataType ntz = schema::Primitive(schema::TypeKind::kTimestampNtz);
  o.schema.fields.push_back({"at", schema::Array(schema::Struct({{"local", ntz}}))});
  ASSERT_TRUE(Committer::Create(&fs_, &clock_, "/t", o).ok());
  CommitActions v0 = ReadCommit(0);
  ASSERT_TRUE(v0.protocol);
  EXPECT_EQ(v0.protocol->min_reader_version, 3);
  EXPECT_EQ(v0.protocol->min_writer_version, 7);
  EXPECT_EQ(v0.protocol->reader_features, std::vector<std::string>{"timestampNtz"});
  EXPECT_EQ(v0.protocol->writer_features,
            (std::vector<std::string>{"appendOnly", "invariants", "timestampNtz"}));
  auto c = Open();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->snapshot().protocol(), *v0.protocol);
}

TEST_F(CommitterTest, CreateOnAnExistingTableIsAlreadyExists) {
  auto c = Create(false);
  auto again = Committer::Create(&fs_, &clock_, "/t", SmallTable(false));
  EXPECT_TRUE(absl::IsAlreadyExists(again.status())) << again.status();
}

TEST_F(CommitterTest, CreateRejectsAnUnknownPartitionColumn) {
  CreateTableOptions o = SmallTable(false);
  o.partition_columns = {"nope"};
  EXPECT_TRUE(absl::IsInvalidArgument(Committer::Create(&fs_, &clock_, "/t", o).status()));
}

TEST_F(CommitterTest, AppendCommitsAnAddWithExactSizeStatsAndTxn) {
  auto c = Create(false);
  auto result = c->AppendOnce("wal-1", 7, *Rows(*c, 1, 3));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 1);
  CommitActions v1 = ReadCommit(1);
  ASSERT_EQ(v1.adds.size(), 1u);
  const AddFile& add = v1.adds[0];
  EXPECT_TRUE(add.path.starts_with("part-00000-") && add.path.ends_with("-c000.zstd.parquet"))
      << add.path;
  EXPECT_EQ(static_cast<int64_t>(fs_.Stat("/t/" + add.path)->size_bytes), add.size_bytes);
  EXPECT_TRUE(add.data_change);
  auto stats = nlohmann::json::parse(add.stats.value_or("{}"));
  EXPECT_EQ(stats["numRecords"], 3);
  EXPECT_EQ(stats["minValues"]["id"], 1);
  ASSERT_EQ(v1.txns.size(), 1u);
  EXPECT_EQ(v1.txns[0], (Txn{"wal-1", 7, clock_.NowMillis()}));
  ASSERT_TRUE(v1.commit_info);
  EXPECT_EQ(v1.commit_info->operation, "STREAMING UPDATE");
  EXPECT_EQ(v1.commit_info->read_version, 0);
  EXPECT_EQ(v1.commit_info->is_blind_append, true);
  EXPECT_EQ(v1.commit_info->txn_id.size(), 36u);
}

TEST_F(CommitterTest, PartitionedAppendWritesOneFilePerPartitionInHiveDirectories) {
  auto c = Create(true);
  auto rows = Rows(*c, 1, 2, "2025-01-01");
  auto null_day = rows->Builder({{"day", std::nullopt}});
  ASSERT_TRUE(null_day.ok());
  (*null_day)->BeginRow();
  (*null_day)->Int64(9);
  (*null_day)->Null();
  ASSERT_TRUE((*null_day)->EndRow().ok());
  ASSERT_TRUE(c->Append(*rows).ok());
  CommitActions v1 = ReadCommit(1);
  ASSERT_EQ(v1.adds.size(), 2u);
  std::map<std::optional<std::string>, std::string> dirs;
  for (const AddFile& a : v1.adds)
    dirs[a.partition_values.at("day")] = a.path.substr(0, a.path.find('/'));
  EXPECT_EQ(dirs[std::optional<std::string>("2025-01-01")], "day=2025-01-01");
  EXPECT_EQ(dirs[std::nullopt], "day=__HIVE_DEFAULT_PARTITION__");
  auto stats = nlohmann::json::parse(v1.adds[0].stats.value_or("{}"));
  EXPECT_FALSE(stats["nullCount"].contains("day"));
  EXPECT_TRUE(stats["nullCount"].contains("name"));
}

TEST(PartitionedRowsTest, RejectsValuesNotInDeltasStringForm) {
  schema::Schema s = testing::SmallSchema();
  s.fields.push_back({"n", schema::Primitive(schema::TypeKind::kShort), true});
  s.fields.push_back({"d", schema::Primitive(schema::TypeKind::kDate), true});
  auto rows = PartitionedRows::Create(s, {"n", "d"});
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE((*rows)->Builder({{"n", "12"}, {"d", "2025-01-31"}}).ok());
  EXPECT_TRUE((*rows)->Builder({{"n", std::nullopt}, {"d", ""}}).ok());
  EXPECT_TRUE(
      absl::IsInvalidArgument((*rows)->Builder({{"n", "40000"}, {"d", "2025-01-31"}}).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument((*rows)->Builder({{"n", "1"}, {"d", "31/01/2025"}}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*rows)->Builder({{"n", "1"}}).status()));
}

TEST_F(CommitterTest, EmptyRowsWithoutTxnCommitNothing) {
  auto c = Create(false);
  auto result = c->Append(*Rows(*c, 1, 0));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->version, 0);
  EXPECT_EQ(result->attempts, 0);
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(1)));
}

TEST_F(CommitterTest, AppendOnceSkipsABatchThatAlreadyLanded) {
  auto c = Create(false);
  ASSERT_TRUE(c->AppendOnce("wal-1", 7, *Rows(*c, 1, 3)).ok());
  auto reopened = Open();
  auto again = reopened->AppendOnce("wal-1", 7, *Rows(*reopened, 1, 3));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_committed);
  EXPECT_EQ(reopened->snapshot().version(), 1);
  EXPECT_EQ(reopened->snapshot().files().size(), 1u);
}

TEST_F(CommitterTest, ARerunWithTheSameTxnVersionsAddsOnlyTheMissingBatches) {
  auto first = Create(false);
  for (int64_t v = 1; v <= 5; ++v)
    ASSERT_TRUE(first->AppendOnce("wal-1", v, *Rows(*first, v * 10, 2)).ok());
  first.reset();  // the writer "crashes"; a new one replays batches 1..8
  auto rerun = Open();
  int skipped = 0;
  for (int64_t v = 1; v <= 8; ++v) {
    auto result = rerun->AppendOnce("wal-1", v, *Rows(*rerun, v * 10, 2));
    ASSERT_TRUE(result.ok()) << result.status();
    skipped += result->already_committed;
  }
  EXPECT_EQ(skipped, 5);
  EXPECT_EQ(rerun->snapshot().version(), 8);
  EXPECT_EQ(rerun->snapshot().files().size(), 8u);
  EXPECT_EQ(rerun->snapshot().CountRecords().records, 16);
}

TEST_F(CommitterTest, CommittedBatchesSurvivePowerLossWithTheirFiles) {
  auto c = Create(true);
  for (int64_t v = 1; v <= 3; ++v)
    ASSERT_TRUE(
        c->AppendOnce("wal-1", v, *Rows(*c, v, 1, v % 2 ? "a" : std::optional<std::string>()))
            .ok());
  fs_.SimulatePowerLoss();
  auto reopened = Open();
  ASSERT_EQ(reopened->snapshot().version(), 3);
  EXPECT_EQ(reopened->snapshot().TxnVersion("wal-1"), 3);
  for (const auto& [path, add] : reopened->snapshot().files()) {
    auto info = fs_.Stat("/t/" + path);
    ASSERT_TRUE(info.ok()) << path;
    EXPECT_EQ(static_cast<int64_t>(info->size_bytes), add.size_bytes);
  }
}

TEST_F(CommitterTest, AnAmbiguousPutThatLandedIsRecognisedAsOurs) {
  FailLogSyncFileSystem fs(&fs_);
  auto c = Committer::Create(&fs, &clock_, "/t", SmallTable(false));
  ASSERT_TRUE(c.ok());
  auto rows = Rows(**c, 1, 2);
  fs.Arm();
  auto result = (*c)->AppendOnce("wal-1", 1, *rows);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 1);
  EXPECT_FALSE(result->already_committed);
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(2)));
}

TEST_F(CommitterTest, AFailedPutReportsTheErrorAndARetryCommitsOnce) {
  env::FaultFileSystem fs(&fs_);
  auto c = Committer::Create(&fs, &clock_, "/t", SmallTable(false));
  ASSERT_TRUE(c.ok());
  auto adds = WriteDataFiles(&fs, &clock_, "/t", *Rows(**c, 1, 2));
  ASSERT_TRUE(adds.ok());
  fs.FailNthWrite(1, absl::UnavailableError("injected: write failed"));
  auto failed = (*c)->CommitAdds(*adds, Txn{"wal-1", 1, 0});
  EXPECT_TRUE(absl::IsUnavailable(failed.status())) << failed.status();
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(1)));
  ASSERT_TRUE((*c)->Refresh().ok());
  auto retried = (*c)->CommitAdds(*adds, Txn{"wal-1", 1, 0});
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->version, 1);
  EXPECT_EQ((*c)->snapshot().files().size(), 1u);
}

TEST_F(CommitterTest, AnIdleWriterRefreshesBeforeCleanupCouldHaveDeletedItsNextVersion) {
  auto idle = Create(false);
  auto busy = Open();
  ASSERT_TRUE(busy->AppendOnce("wal-b", 1, *Rows(*busy, 1, 1)).ok());
  ASSERT_TRUE(busy->Checkpoint().ok());
  ASSERT_TRUE(store_.Delete(CommitFileName(1)).ok());  // as cleanup does once commit 1 is old
  clock_.AdvanceMicros(3LL * 24 * 3600 * 1'000'000);
  auto result = idle->AppendOnce("wal-a", 1, *Rows(*idle, 2, 1));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 2);
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(1)));
}

TEST_F(CommitterTest, LosingTheRaceRetriesAtTheNextVersion) {
  auto a = Create(false);
  auto b = Open();
  ASSERT_TRUE(a->AppendOnce("wal-a", 1, *Rows(*a, 1, 1)).ok());
  auto result = b->AppendOnce("wal-b", 1, *Rows(*b, 2, 1));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 2);
  EXPECT_EQ(result->attempts, 2);
  EXPECT_EQ(ReadCommit(2).commit_info->read_version, 0);
  EXPECT_EQ(b->snapshot().files().size(), 2u);
}

TEST_F(CommitterTest, AWinnerWithOurTxnMeansTheBatchAlreadyLanded) {
  auto a = Create(false);
  auto b = Open();
  ASSERT_TRUE(a->AppendOnce("wal-1", 5, *Rows(*a, 1, 1)).ok());
  auto result = b->AppendOnce("wal-1", 5, *Rows(*b, 1, 1));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->already_committed);
  EXPECT_EQ(result->version, 1);
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(2)));
}

TEST_F(CommitterTest, AConcurrentMetadataChangeAborts) {
  auto c = Create(false);
  CommitActions change;
  change.metadata = c->snapshot().metadata();
  change.metadata->configuration["x"] = "y";
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(1), SerializeCommit(change)).ok());
  auto result = c->Append(*Rows(*c, 1, 1));
  EXPECT_TRUE(absl::IsFailedPrecondition(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("MetadataChanged"), std::string_view::npos);
}

TEST_F(CommitterTest, AnUnsupportedProtocolIsRefusedBeforeCommitting) {
  auto c = Create(false);
  CommitActions upgrade;
  upgrade.protocol = Protocol{3, 7, std::vector<std::string>{"deletionVectors"},
                              std::vector<std::string>{"deletionVectors"}};
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(1), SerializeCommit(upgrade)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(c->Append(*Rows(*c, 1, 1)).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(Committer::Open(&fs_, &clock_, "/t").status()));
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CommitFileName(2)));
}

TEST_F(CommitterTest, CompactReplacesFilesWithoutDataChange) {
  auto c = Create(false);
  ASSERT_TRUE(c->Append(*Rows(*c, 1, 2)).ok());
  ASSERT_TRUE(c->Append(*Rows(*c, 3, 2)).ok());
  std::vector<std::string> old;
  for (const auto& [path, add] : c->snapshot().files()) old.push_back(path);
  auto merged = WriteDataFiles(&fs_, &clock_, "/t", *Rows(*c, 1, 4));
  ASSERT_TRUE(merged.ok());
  auto result = c->Compact(old, *merged);
  ASSERT_TRUE(result.ok()) << result.status();
  CommitActions v3 = ReadCommit(3);
  ASSERT_EQ(v3.removes.size(), 2u);
  EXPECT_FALSE(v3.removes[0].data_change);
  EXPECT_EQ(v3.removes[0].extended_file_metadata, true);
  EXPECT_FALSE(v3.adds[0].data_change);
  EXPECT_EQ(v3.commit_info->operation, "OPTIMIZE");
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ(snap->files().size(), 1u);
  EXPECT_EQ(snap->tombstones().size(), 2u);
}

TEST_F(CommitterTest, CompactingAFileAConcurrentCompactionRemovedAborts) {
  auto a = Create(false);
  ASSERT_TRUE(a->Append(*Rows(*a, 1, 2)).ok());
  auto b = Open();
  std::string path = a->snapshot().files().begin()->first;
  ASSERT_TRUE(a->Compact({path}, {}).ok());
  EXPECT_TRUE(absl::IsAborted(b->Compact({path}, {}).status()));
}

}  // namespace
}  // namespace nobus::delta
