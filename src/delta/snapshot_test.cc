#include "delta/snapshot.h"

#include <gtest/gtest.h>

#include "env/mem_env.h"

namespace nobus::delta {
namespace {

constexpr char kSchema[] =
    R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":true,"metadata":{}}]})";

CommitActions CreateTable() {
  CommitActions a;
  a.protocol = Protocol{};
  a.metadata = Metadata{.id = "t", .schema_string = kSchema};
  return a;
}

CommitActions Append(const std::string& path, int64_t lsn) {
  CommitActions a;
  a.txns.push_back(Txn{"wal-1", lsn, std::nullopt});
  a.adds.push_back(AddFile{.path = path, .size_bytes = 10});
  return a;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void Put(int64_t version, const std::string& body) {
    ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(version), body).ok());
  }
  void Put(int64_t version, const CommitActions& a) { Put(version, SerializeCommit(a)); }

  env::MemFileSystem fs_;
  FileLogStore store_{&fs_, "/t"};
};

TEST_F(SnapshotTest, ReplaysCommitsInOrder) {
  Put(0, CreateTable());
  Put(1, Append("a.parquet", 5));
  CommitActions compact = Append("b.parquet", 9);
  compact.removes.push_back(RemoveFile{.path = "a.parquet", .deletion_timestamp_ms = 1, .data_change = false});
  Put(2, compact);
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->version(), 2);
  EXPECT_EQ(snap->files().size(), 1u);
  EXPECT_TRUE(snap->files().contains("b.parquet"));
  EXPECT_TRUE(snap->tombstones().contains("a.parquet"));
  EXPECT_EQ(snap->TxnVersion("wal-1"), 9);
  EXPECT_EQ(snap->schema().fields[0].name, "id");
}

TEST_F(SnapshotTest, LoadsAnOlderVersion) {
  Put(0, CreateTable());
  Put(1, Append("a.parquet", 5));
  auto snap = Snapshot::Load(&store_, 0);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(snap->version(), 0);
  EXPECT_TRUE(snap->files().empty());
  EXPECT_TRUE(absl::IsNotFound(Snapshot::Load(&store_, 7).status()));
}

TEST_F(SnapshotTest, ApplyAdvancesOneVersion) {
  Put(0, CreateTable());
  auto snap = Snapshot::Load(&store_);
  ASSERT_TRUE(snap.ok());
  ASSERT_TRUE(snap->Apply(Append("a.parquet", 1), 1).ok());
  EXPECT_EQ(snap->version(), 1);
  EXPECT_FALSE(snap->Apply(Append("b.parquet", 2), 3).ok());
}

TEST_F(SnapshotTest, GapInVersionsNamesTheMissingFile) {
  Put(0, CreateTable());
  Put(2, Append("a.parquet", 5));
  auto snap = Snapshot::Load(&store_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(snap.status().message().find(CommitFileName(1)), std::string::npos) << snap.status();
}

TEST_F(SnapshotTest, TruncatedCommitIsDataLossNamingTheFile) {
  Put(0, CreateTable());
  Put(1, R"({"add":{"path":"a.parquet","partitionValues":{},"si)");
  auto snap = Snapshot::Load(&store_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(snap.status().message().find(CommitFileName(1)), std::string::npos) << snap.status();
}

TEST_F(SnapshotTest, MissingCheckpointNamedByLastCheckpointIsDataLoss) {
  Put(0, CreateTable());
  ASSERT_TRUE(store_.Replace(kLastCheckpointName, R"({"version":0,"size":2})").ok());
  auto snap = Snapshot::Load(&store_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(snap.status().message().find(CheckpointFileName(0)), std::string::npos) << snap.status();
}

TEST_F(SnapshotTest, UnreadableLastCheckpointIsIgnored) {
  Put(0, CreateTable());
  ASSERT_TRUE(store_.Replace(kLastCheckpointName, "{garbage").ok());
  EXPECT_TRUE(Snapshot::Load(&store_).ok());
}

TEST_F(SnapshotTest, CorruptCheckpointIsDataLoss) {
  Put(0, CreateTable());
  ASSERT_TRUE(store_.Replace(CheckpointFileName(0), "PAR1 not really parquet PAR1").ok());
  auto snap = Snapshot::Load(&store_);
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(snap.status().message().find(CheckpointFileName(0)), std::string::npos) << snap.status();
}

TEST_F(SnapshotTest, LogWithoutCommitZeroOrCheckpointIsDataLoss) {
  Put(1, CreateTable());
  EXPECT_EQ(Snapshot::Load(&store_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, MissingMetadataIsDataLoss) {
  CommitActions a;
  a.protocol = Protocol{};
  Put(0, a);
  EXPECT_EQ(Snapshot::Load(&store_).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, RefusesColumnMappingTable) {
  CommitActions a = CreateTable();
  a.protocol = Protocol{2, 5, std::nullopt, std::nullopt};
  Put(0, a);
  auto snap = Snapshot::Load(&store_);
  EXPECT_EQ(snap.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(snap.status().message().find("column mapping"), std::string::npos);
}

TEST(ProtocolTest, AcceptsPlainProtocols) {
  EXPECT_TRUE(CheckProtocolSupported(Protocol{1, 1, std::nullopt, std::nullopt}).ok());
  EXPECT_TRUE(CheckProtocolSupported(Protocol{1, 2, std::nullopt, std::nullopt}).ok());
}

TEST(ProtocolTest, RefusesWriterVersionsThreeToSix) {
  for (int w = 3; w <= 6; ++w)
    EXPECT_EQ(CheckProtocolSupported(Protocol{1, w, std::nullopt, std::nullopt}).code(),
              absl::StatusCode::kFailedPrecondition);
}

TEST(ProtocolTest, AcceptsTableFeaturesWeSupport) {
  Protocol p{3, 7, std::vector<std::string>{"timestampNtz"},
             std::vector<std::string>{"timestampNtz", "appendOnly"}};
  EXPECT_TRUE(CheckProtocolSupported(p).ok());
}

TEST(ProtocolTest, RefusesUnsupportedFeatureByName) {
  Protocol p{3, 7, std::vector<std::string>{"deletionVectors"}, std::vector<std::string>{"deletionVectors"}};
  absl::Status s = CheckProtocolSupported(p);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("deletionVectors"), std::string::npos);
}

TEST(ProtocolTest, RefusesFutureVersions) {
  EXPECT_FALSE(CheckProtocolSupported(Protocol{4, 8, std::nullopt, std::nullopt}).ok());
  EXPECT_FALSE(CheckProtocolSupported(Protocol{3, 6, std::nullopt, std::nullopt}).ok());
}

}  // namespace
}  // namespace nobus::delta
