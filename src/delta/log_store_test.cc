#include "delta/log_store.h"

#include <gtest/gtest.h>

#include "env/mem_env.h"

namespace nobus::delta {
namespace {

class LogStoreTest : public ::testing::Test {
 protected:
  env::MemFileSystem fs_;
  FileLogStore store_{&fs_, "/t"};
};

TEST(LogFileNameTest, FormatsAndParsesVersions) {
  EXPECT_EQ(CommitFileName(42), "00000000000000000042.json");
  EXPECT_EQ(CheckpointFileName(2), "00000000000000000002.checkpoint.parquet");
  auto f = ParseLogFileName("00000000000000000042.json");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, LogFileName::Kind::kCommit);
  EXPECT_EQ(f->version, 42);
  EXPECT_FALSE(ParseLogFileName("00000000000000000002.checkpoint.0000000001.0000000002.parquet"));
  EXPECT_FALSE(ParseLogFileName(".00000000000000000000.json.crc"));
  EXPECT_FALSE(ParseLogFileName("0000000000000000004x.json"));
  EXPECT_FALSE(ParseLogFileName("_last_checkpoint"));
}

TEST_F(LogStoreTest, PutIfAbsentCreatesTheCommit) {
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(0), "abc\n").ok());
  auto body = store_.Read(CommitFileName(0));
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "abc\n");
}

TEST_F(LogStoreTest, SecondPutOfTheSameVersionLosesTheRace) {
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(0), "first").ok());
  absl::Status s = store_.PutIfAbsent(CommitFileName(0), "second");
  EXPECT_TRUE(absl::IsAlreadyExists(s)) << s;
  EXPECT_EQ(*store_.Read(CommitFileName(0)), "first");
}

TEST_F(LogStoreTest, LeavesNoTemporaryFiles) {
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(0), "a").ok());
  ASSERT_FALSE(store_.PutIfAbsent(CommitFileName(0), "b").ok());
  auto names = store_.ListNames();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{CommitFileName(0)});
}

TEST_F(LogStoreTest, CommitSurvivesPowerLoss) {
  ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(0), "durable").ok());
  fs_.SimulatePowerLoss();
  auto body = store_.Read(CommitFileName(0));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "durable");
}

TEST_F(LogStoreTest, ListSeparatesCommitsAndCheckpoints) {
  for (int v : {2, 0, 1}) ASSERT_TRUE(store_.PutIfAbsent(CommitFileName(v), "x").ok());
  ASSERT_TRUE(store_.Replace(CheckpointFileName(1), "p").ok());
  ASSERT_TRUE(store_.Replace(kLastCheckpointName, "{}").ok());
  auto listing = store_.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(listing->checkpoints, std::vector<int64_t>{1});
}

TEST_F(LogStoreTest, MissingLogIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(store_.ListNames().status()));
  EXPECT_TRUE(absl::IsNotFound(store_.Read(CommitFileName(0)).status()));
}

}  // namespace
}  // namespace nobus::delta
