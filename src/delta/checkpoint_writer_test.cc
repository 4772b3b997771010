#include "delta/checkpoint_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "delta/test_tables.h"
#include "env/mem_env.h"

namespace nobus::delta {
namespace {

using testing::Rows;
using testing::SmallTable;

constexpr int64_t kDayMicros = 24LL * 3600 * 1'000'000;

// Hides checkpoints and `_last_checkpoint`, so snapshots replay from JSON commits alone.
class CheckpointWriterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Committer> Create(bool partitioned, StringMap config = {}) {
    auto c = Committer::Create(&fs_, &clock_, "/t", SmallTable(partitioned, std::move(config)));
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  void Append(Committer& c, int n) {
    for (int i = 0; i < n; ++i) {
      auto r = c.AppendOnce("wal-1", c.snapshot().version() + 100,
                            *Rows(c, i * 10, 2, i % 2 ? "a" : std::optional<std::string>()));
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_TRUE(r->checkpoint_status.ok()) << r->checkpoint_status;
    }
  }

  env::MemFileSystem fs_;
  env::ManualClock clock_;
  FileLogStore store_{&fs_, "/t"};
};

TEST_F(CheckpointWriterTest, SchemaHasSparksColumnsInOrder) {
  auto batch = parquet::RowBatch::Create(CheckpointSchema(false));
  ASSERT_TRUE(batch.ok());
  std::vector<std::string> paths;
  for (const auto& leaf : (*batch)->leaves()) {
    std::string p;
    for (const std::string& part : leaf.path) p += (p.empty() ? "" : ".") + part;
    paths.push_back(p);
  }
  ASSERT_EQ(paths.size(), 34u);
  EXPECT_EQ(paths[0], "txn.appId");
  EXPECT_EQ(paths[4], "add.partitionValues.key_value.key");
  EXPECT_EQ(paths[33], "protocol.minWriterVersion");
  EXPECT_EQ((*batch)->leaves()[0].max_def, 2);
  EXPECT_EQ((*batch)->leaves()[4].max_def, 3);
  EXPECT_TRUE((*batch)->leaves()[4].required);
  EXPECT_EQ((*batch)->leaves()[5].max_def, 4);
}

TEST_F(CheckpointWriterTest, CheckpointFollowsTheCommitAtTheInterval) {
  auto c = Create(true);
  Append(*c, 9);
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/" + CheckpointFileName(9)));
  Append(*c, 1);
  ASSERT_TRUE(fs_.Exists("/t/_delta_log/" + CheckpointFileName(10)));
  auto hint = nlohmann::json::parse(*store_.Read(kLastCheckpointName));
  EXPECT_EQ(hint["version"], 10);
  EXPECT_EQ(hint["size"], 1 + 1 + 1 + 10);  // protocol, metaData, txn, adds
  EXPECT_EQ(hint["numOfAddFiles"], 10);
  EXPECT_EQ(hint["sizeInBytes"], fs_.Stat("/t/_delta_log/" + CheckpointFileName(10))->size_bytes);
  EXPECT_FALSE(hint.contains("parts"));
}

TEST_F(CheckpointWriterTest, CheckpointReplayEqualsJsonReplay) {
  auto c =
      Create(true, {{"delta.checkpointInterval", "3"}, {"delta.enableExpiredLogCleanup", "false"}});
  Append(*c, 2);
  std::vector<std::string> two;
  for (const auto& [path, add] : c->snapshot().files()) two.push_back(path);
  two.pop_back();
  auto compacted = c->Compact(two, {});
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  ASSERT_TRUE(compacted->checkpoint_status.ok()) << compacted->checkpoint_status;
  ASSERT_EQ(c->snapshot().version(), 3);
  JsonOnlyLogStore json_only(&store_);
  auto from_checkpoint = Snapshot::Load(&store_);
  auto from_json = Snapshot::Load(&json_only);
  ASSERT_TRUE(from_checkpoint.ok()) << from_checkpoint.status();
  ASSERT_TRUE(from_json.ok());
  EXPECT_EQ(from_checkpoint->checkpoint_version(), std::optional<int64_t>(3));
  EXPECT_EQ(from_checkpoint->protocol(), from_json->protocol());
  EXPECT_EQ(from_checkpoint->metadata(), from_json->metadata());
  EXPECT_EQ(from_checkpoint->txns(), from_json->txns());
  ASSERT_EQ(from_checkpoint->files().size(), from_json->files().size());
  for (const auto& [path, add] : from_json->files()) {
    AddFile expected = add;
    expected.data_change = false;
    EXPECT_EQ(from_checkpoint->files().at(path), expected);
  }
  ASSERT_EQ(from_checkpoint->tombstones().size(), 1u);
  EXPECT_EQ(from_checkpoint->tombstones().begin()->second, from_json->tombstones().begin()->second);
}

TEST_F(CheckpointWriterTest, ExpiredTombstonesAreLeftOut) {
  auto c = Create(false);
  Append(*c, 1);
  ASSERT_TRUE(c->Compact({c->snapshot().files().begin()->first}, {}).ok());
  auto fresh = EncodeCheckpoint(c->snapshot(), clock_.NowMillis());
  clock_.AdvanceMicros(8 * kDayMicros);
  auto later = EncodeCheckpoint(c->snapshot(), clock_.NowMillis());
  ASSERT_TRUE(fresh.ok() && later.ok());
  EXPECT_EQ(ParseCheckpoint(fresh->bytes, "x")->removes.size(), 1u);
  EXPECT_EQ(ParseCheckpoint(later->bytes, "x")->removes.size(), 0u);
}

TEST_F(CheckpointWriterTest, TxnsTheWriterExpiresAreLeftOut) {
  auto c = Create(false);
  auto rows = c->NewRows();
  ASSERT_TRUE(rows.ok());
  auto appended = c->AppendOnce("keep", 1, **rows, {Txn{"drop", 7, 5}, Txn{"also-keep", 2, 5}});
  ASSERT_TRUE(appended.ok()) << appended.status();
  TxnExpiry expiry = [](const Txn& t, const Metadata&, int64_t) { return t.app_id == "drop"; };
  auto encoded = EncodeCheckpoint(c->snapshot(), clock_.NowMillis(), expiry);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  auto parsed = ParseCheckpoint(encoded->bytes, "x");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  std::vector<std::string> ids;
  for (const Txn& t : parsed->txns) ids.push_back(t.app_id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"also-keep", "keep"}));
}

TEST_F(CheckpointWriterTest, CleanupDeletesLogsAndTemporariesOlderThanTheCutoffOncePerCutoff) {
  // MemFileSystem stamps files with tiny mtimes, so everything is older than the cutoff.
  auto c = Create(false, {{"delta.checkpointInterval", "2"}});
  ASSERT_TRUE(
      env::WriteFileDurably(&fs_, "/t/_delta_log/.00000000000000000003.json.x.tmp", "{").ok());
  Append(*c, 6);
  // The checkpoint at 2 cleaned up. Those at 4 and 6 had the same cutoff (it moves once a day), so
  // the committer did not list the log again.
  EXPECT_FALSE(fs_.Exists("/t/_delta_log/.00000000000000000003.json.x.tmp"));
  auto listing = store_.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(listing->checkpoints, (std::vector<int64_t>{2, 4, 6}));
  // A day later the cutoff has moved: the next checkpoint cleans up again.
  clock_.AdvanceMicros(kDayMicros);
  Append(*c, 2);
  listing = store_.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits, (std::vector<int64_t>{8}));
  EXPECT_EQ(listing->checkpoints, (std::vector<int64_t>{8}));
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->files().size(), 8u);
}

// A log store whose files have the modification times a test gives them, counting the lookups.
class AgedLogStore final : public LogStore {
 public:
  explicit AgedLogStore(LogStore* base) : base_(base) {}
  absl::StatusOr<std::string> Read(std::string_view name) override { return base_->Read(name); }
  absl::Status PutIfAbsent(std::string_view name, std::string_view data) override {
    return base_->PutIfAbsent(name, data);
  }
  absl::Status Replace(std::string_view name, std::string_view data) override {
    return base_->Replace(name, data);
  }
  absl::StatusOr<std::vector<std::string>> ListNames() override { return base_->ListNames(); }
  absl::Status Delete(std::string_view name) override { return base_->Delete(name); }
  absl::StatusOr<int64_t> ModificationTimeMs(std::string_view name) override {
    ++lookups;
    return mtime_ms.at(std::string(name));
  }

  std::map<std::string, int64_t> mtime_ms;
  int lookups = 0;

 private:
  LogStore* base_;
};

TEST_F(CheckpointWriterTest, CleanupStatsOnlyTheExpiredPrefixOfTheLog) {
  auto c = Create(false, {{"delta.checkpointInterval", "2"},
                          {"delta.enableExpiredLogCleanup", "false"}});
  Append(*c, 6);
  // Versions 0-3 expired, 4 and 6 fresh; 5 looks expired but comes after a fresh file, so it and
  // everything after it stay unexamined.
  AgedLogStore aged(&store_);
  const int64_t now_ms = clock_.NowMillis();
  for (int64_t v = 0; v <= 6; ++v) {
    const int64_t mtime = v == 4 || v == 6 ? now_ms : 0;
    aged.mtime_ms[CommitFileName(v)] = mtime;
    aged.mtime_ms[CheckpointFileName(v)] = mtime;
  }
  Metadata meta = c->snapshot().metadata();
  meta.configuration.erase("delta.enableExpiredLogCleanup");
  auto deleted = CleanupExpiredLogs(&aged, meta, now_ms);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(*deleted, 2);  // commits 0 and 1, made redundant by checkpoint 2
  EXPECT_EQ(aged.lookups, 6);  // 0, 1, 2, checkpoint 2, 3, and 4 (fresh: the end of the prefix)
  auto listing = store_.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits, (std::vector<int64_t>{2, 3, 4, 5, 6}));
  EXPECT_EQ(listing->checkpoints, (std::vector<int64_t>{2, 4, 6}));
}

TEST_F(CheckpointWriterTest, CleanupKeepsLogsNewerThanTheRetention) {
  clock_.AdvanceMicros(-clock_.NowMicros());  // the epoch: every file is younger than the cutoff
  auto c = Create(false, {{"delta.checkpointInterval", "2"}});
  Append(*c, 4);
  auto listing = store_.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits.size(), 5u);
}

TEST_F(CheckpointWriterTest, AStaleHintNamingADeletedCheckpointIsIgnored) {
  auto c = Create(false,
                  {{"delta.checkpointInterval", "2"}, {"delta.enableExpiredLogCleanup", "false"}});
  Append(*c, 4);
  ASSERT_TRUE(
      store_.Replace(kLastCheckpointName, SerializeLastCheckpoint(LastCheckpoint{2, {}, {}, {}}))
          .ok());
  ASSERT_TRUE(store_.Delete(CheckpointFileName(2)).ok());
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->checkpoint_version(), std::optional<int64_t>(4));
}

TEST(ConfigTest, ParsesSparkIntervals) {
  EXPECT_EQ(ParseIntervalMs("interval 2 days").value(), 2 * 86'400'000LL);
  EXPECT_EQ(ParseIntervalMs("interval 1 week").value(), 7 * 86'400'000LL);
  EXPECT_EQ(ParseIntervalMs("36 hours").value(), 36 * 3'600'000LL);
  EXPECT_FALSE(ParseIntervalMs("interval two days").ok());
  EXPECT_FALSE(ParseIntervalMs("interval -1 days").ok());
}

}  // namespace
}  // namespace nobus::delta
