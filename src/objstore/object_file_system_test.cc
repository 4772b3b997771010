// ObjectFileSystem on FakeS3: the FileSystem contract as far as an object store keeps it, and the
// Delta committer on top of it (commits as conditional PUTs, races between writers, commits whose
// outcome the writer cannot know).
#include "objstore/object_file_system.h"

#include <gtest/gtest.h>

#include "delta/committer.h"
#include "delta/test_tables.h"
#include "env/mem_env.h"
#include "objstore/fake_s3.h"

namespace nobus::objstore {
namespace {

using delta::testing::Rows;
using delta::testing::SmallTable;

const Credentials kKeys{"test-key", "test-secret", ""};

class ObjectFileSystemTest : public ::testing::Test {
 protected:
  std::unique_ptr<ObjectFileSystem> NewFs(uint64_t part_bytes = 16 << 20) {
    S3Options o;
    o.endpoint = fake_.endpoint();
    o.bucket = "bucket";
    o.credentials = kKeys;
    o.backoff_ms = 1;
    ObjectFileSystemOptions fo;
    fo.prefix = "warehouse";
    fo.part_bytes = part_bytes;
    return std::make_unique<ObjectFileSystem>(std::make_unique<S3Client>(o), fo);
  }
  FakeS3 fake_{"bucket", kKeys};
  std::unique_ptr<ObjectFileSystem> fs_ = NewFs();
  env::ManualClock clock_;
};

TEST_F(ObjectFileSystemTest, AFileIsUploadedBySyncAndSealedAfterIt) {
  auto f = fs_->Open("/t/small", env::OpenMode::kCreateNew);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append("abc").ok());
  EXPECT_TRUE(fake_.Objects().empty()) << "nothing is sent before Sync";
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ(fake_.Objects()["warehouse/t/small"], "abc");
  EXPECT_TRUE(absl::IsFailedPrecondition((*f)->Append("d")));
  EXPECT_TRUE((*f)->Close().ok());
}

TEST_F(ObjectFileSystemTest, ALargeFileGoesUpInPartsAndReadsBackByRanges) {
  fs_ = NewFs(/*part_bytes=*/8);  // multipart from the ninth byte on
  std::string data;
  for (int i = 0; i < 50; ++i) data += static_cast<char>('a' + i % 26);
  {
    auto f = fs_->Open("t/big", env::OpenMode::kTruncate);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(data.substr(0, 20)).ok());
    ASSERT_TRUE((*f)->WriteAt(20, data.substr(20)).ok());
    EXPECT_TRUE(absl::IsUnimplemented((*f)->WriteAt(3, "x")));
    ASSERT_TRUE((*f)->Close().ok()) << "Close uploads what Sync did not";
  }
  EXPECT_EQ(fake_.Objects()["warehouse/t/big"], data);
  EXPECT_GE(fake_.requests("PUT"), 7) << "parts of 8 bytes";
  auto f = fs_->Open("t/big", env::OpenMode::kRead);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*(*f)->Size(), 50u);
  char buf[16];
  auto n = (*f)->ReadAt(45, sizeof(buf), buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), data.substr(45));
  EXPECT_EQ(*(*f)->ReadAt(50, 4, buf), 0u);
}

TEST_F(ObjectFileSystemTest, DirectoriesExistWhereKeysLieBelowThem) {
  ASSERT_TRUE(fs_->CreateDirs("/t/_delta_log").ok());
  EXPECT_TRUE(absl::IsNotFound(fs_->ListDir("/t").status())) << "an empty directory is not there";
  ASSERT_TRUE(env::WriteFileDurably(fs_.get(), "/t/_delta_log/0.json", "{}").ok());
  ASSERT_TRUE(env::WriteFileDurably(fs_.get(), "/t/day=1/a.parquet", "x").ok());
  ASSERT_TRUE(env::WriteFileDurably(fs_.get(), "/t/b.parquet", "yy").ok());
  EXPECT_EQ(*fs_->ListDir("/t"), (std::vector<std::string>{"_delta_log", "b.parquet", "day=1"}));
  EXPECT_EQ(*fs_->ListDir("/"), (std::vector<std::string>{"t"}));
  EXPECT_TRUE(fs_->Stat("/t")->is_dir);
  EXPECT_EQ(fs_->Stat("/t/b.parquet")->size_bytes, 2u);
  EXPECT_TRUE(absl::IsNotFound(fs_->Stat("/t/none").status()));
}

TEST_F(ObjectFileSystemTest, PutIfAbsentIsOneConditionalPutAndRenameMovesADirectory) {
  ASSERT_TRUE(fs_->PutIfAbsent("/t/_delta_log/0.json", "a").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(fs_->PutIfAbsent("/t/_delta_log/0.json", "b")));
  EXPECT_EQ(fake_.requests("PUT"), 2);
  ASSERT_TRUE(fs_->PutAtomically("/t/_delta_log/_last_checkpoint", "1").ok());
  ASSERT_TRUE(fs_->PutAtomically("/t/_delta_log/_last_checkpoint", "2").ok());
  ASSERT_TRUE(fs_->Rename("/t", "/.dropped/x").ok());
  auto objects = fake_.Objects();
  EXPECT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects["warehouse/.dropped/x/_delta_log/0.json"], "a");
  EXPECT_EQ(objects["warehouse/.dropped/x/_delta_log/_last_checkpoint"], "2");
}

TEST_F(ObjectFileSystemTest, ADeltaTableCommitsAndReadsBackOnTheObjectStore) {
  auto c = delta::Committer::Create(fs_.get(), &clock_, "/tables/t", SmallTable(true));
  ASSERT_TRUE(c.ok()) << c.status();
  for (int v = 1; v <= 12; ++v) {  // past the default checkpoint interval of 10
    auto r = (*c)->AppendOnce("wal-1", v, *Rows(**c, v * 10, 3));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->version, v);
  }
  auto reopened = delta::Committer::Open(NewFs().get(), &clock_, "/tables/t");
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->snapshot().version(), 12);
  EXPECT_EQ((*reopened)->snapshot().files().size(), 12u);
  auto objects = fake_.Objects();
  EXPECT_TRUE(objects.count("warehouse/tables/t/_delta_log/00000000000000000010.checkpoint.parquet"));
  EXPECT_TRUE(objects.count("warehouse/tables/t/_delta_log/_last_checkpoint"));
  for (const auto& [key, data] : objects)
    EXPECT_EQ(key.find(".tmp"), std::string::npos) << key << ": no temporaries on an object store";
}

TEST_F(ObjectFileSystemTest, TwoWritersOnTwoConnectionsBothLandEveryBatchOnce) {
  auto fs_b = NewFs();
  auto a = delta::Committer::Create(fs_.get(), &clock_, "/t", SmallTable(false));
  ASSERT_TRUE(a.ok());
  auto b = delta::Committer::Open(fs_b.get(), &clock_, "/t");
  ASSERT_TRUE(b.ok());
  for (int v = 1; v <= 5; ++v) {
    ASSERT_TRUE((*a)->AppendOnce("node-a", v, *Rows(**a, v, 1)).ok());
    auto r = (*b)->AppendOnce("node-b", v, *Rows(**b, 100 + v, 1));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->attempts, 2) << "b lost the version to a, rebased and retried";
  }
  ASSERT_TRUE((*a)->Refresh().ok());
  EXPECT_EQ((*a)->snapshot().version(), 10);
  EXPECT_EQ((*a)->snapshot().files().size(), 10u);
  EXPECT_EQ((*a)->snapshot().txn_versions().at("node-b"), 5);
}

TEST_F(ObjectFileSystemTest, ACommitWhoseAnswerWasLostIsRecognisedAsOursAndNotRepeated) {
  auto c = delta::Committer::Create(fs_.get(), &clock_, "/t", SmallTable(false));
  ASSERT_TRUE(c.ok());
  fake_.SetFaults([](const FakeCall& call) {
    bool commit = call.if_none_match && call.key.ends_with("01.json");
    return commit ? FakeFault{FakeFault::Kind::kApplyThenStatus, 503, "ServiceUnavailable"}
                  : FakeFault{};
  });
  auto r = (*c)->AppendOnce("wal-1", 1, *Rows(**c, 1, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 1);
  EXPECT_FALSE(r->already_committed);
  EXPECT_FALSE(fake_.Objects().count("warehouse/t/_delta_log/00000000000000000002.json"));
}

TEST_F(ObjectFileSystemTest, ACommitRefusedWith409IsRetriedAtTheNextFreeVersion) {
  auto c = delta::Committer::Create(fs_.get(), &clock_, "/t", SmallTable(false));
  ASSERT_TRUE(c.ok());
  std::atomic<int> conflicts{1};
  fake_.SetFaults([&](const FakeCall& call) {
    if (call.if_none_match && call.key.ends_with(".json") && conflicts.fetch_sub(1) > 0)
      return FakeFault{FakeFault::Kind::kStatus, 409, "ConditionalRequestConflict"};
    return FakeFault{};
  });
  auto r = (*c)->AppendOnce("wal-1", 1, *Rows(**c, 1, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->version, 1);
  EXPECT_EQ(r->attempts, 2);
}

}  // namespace
}  // namespace nobus::objstore
