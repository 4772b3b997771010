#include "env/env.h"

#include <cstdlib>
#include <filesystem>

#include "env/mem_env.h"
#include "gtest/gtest.h"

namespace nobus::env {
namespace {

// The same contract tests run on the POSIX and in-memory file systems.
class FileSystemTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      fs_ = PosixFileSystem();
      char tmpl[] = "/tmp/nobus_env_test_XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl), nullptr);
      root_ = tmpl;
    } else {
      mem_ = std::make_unique<MemFileSystem>();
      fs_ = mem_.get();
      root_ = "/t";
      ASSERT_TRUE(fs_->CreateDirs(root_).ok());
    }
  }
  void TearDown() override {
    if (GetParam()) std::filesystem::remove_all(root_);
  }
  std::string P(std::string_view name) { return JoinPath(root_, name); }

  std::unique_ptr<MemFileSystem> mem_;
  FileSystem* fs_ = nullptr;
  std::string root_;
};

TEST_P(FileSystemTest, WriteReadAppendTruncate) {
  auto f = fs_->Open(P("a"), OpenMode::kCreateNew);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE((*f)->Append("hello").ok());
  ASSERT_TRUE((*f)->WriteAt(10, "x").ok());
  EXPECT_EQ(*(*f)->Size(), 11u);
  char buf[32];
  auto n = (*f)->ReadAt(3, 32, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), std::string("lo\0\0\0\0\0x", 8));
  ASSERT_TRUE((*f)->Truncate(2).ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*ReadFile(fs_, P("a")), "he");
  EXPECT_EQ(fs_->Open(P("a"), OpenMode::kCreateNew).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(fs_->Open(P("missing"), OpenMode::kRead).status().code(), absl::StatusCode::kNotFound);
}

TEST_P(FileSystemTest, DiskSpaceOfAnExistingPath) {
  auto space = fs_->GetDiskSpace(root_);
  ASSERT_TRUE(space.ok()) << space.status();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->free_bytes, space->total_bytes);
  EXPECT_FALSE(fs_->GetDiskSpace(P("missing")).ok());
  if (mem_ == nullptr) return;
  mem_->SetCapacity(1000);
  ASSERT_TRUE(WriteFileDurably(fs_, P("f"), std::string(300, 'x')).ok());
  EXPECT_EQ(fs_->GetDiskSpace(root_)->free_bytes, 700u);
}

TEST_P(FileSystemTest, RenameNoReplaceIsPutIfAbsent) {
  ASSERT_TRUE(WriteFileDurably(fs_, P("tmp1"), "one").ok());
  ASSERT_TRUE(WriteFileDurably(fs_, P("tmp2"), "two").ok());
  ASSERT_TRUE(fs_->RenameNoReplace(P("tmp1"), P("final")).ok());
  EXPECT_FALSE(fs_->Exists(P("tmp1")));
  EXPECT_EQ(fs_->RenameNoReplace(P("tmp2"), P("final")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(fs_, P("final")), "one");
  EXPECT_EQ(*ReadFile(fs_, P("tmp2")), "two");  // the loser is left alone
  EXPECT_TRUE(absl::IsNotFound(fs_->RenameNoReplace(P("tmp1"), P("other"))));
}

TEST_P(FileSystemTest, ListDirAndStatAndReplace) {
  ASSERT_TRUE(fs_->CreateDirs(P("d/e")).ok());
  ASSERT_TRUE(WriteFileDurably(fs_, P("d/b"), "12").ok());
  ASSERT_TRUE(fs_->PutAtomically(P("d/a"), "1").ok());
  ASSERT_TRUE(fs_->PutAtomically(P("d/a"), "123").ok());
  auto names = fs_->ListDir(P("d"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a", "b", "e"}));
  EXPECT_EQ(fs_->Stat(P("d/a"))->size_bytes, 3u);
  EXPECT_TRUE(fs_->Stat(P("d/e"))->is_dir);
  ASSERT_TRUE(fs_->Delete(P("d/a")).ok());
  EXPECT_FALSE(fs_->Exists(P("d/a")));
}

TEST_P(FileSystemTest, PutIfAbsentWritesOnceAndLeavesNoTemporaries) {
  ASSERT_TRUE(fs_->CreateDirs(P("log")).ok());
  ASSERT_TRUE(fs_->PutIfAbsent(P("log/1.json"), "first").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(fs_->PutIfAbsent(P("log/1.json"), "second")));
  EXPECT_EQ(*ReadFile(fs_, P("log/1.json")), "first");
  EXPECT_EQ(*fs_->ListDir(P("log")), (std::vector<std::string>{"1.json"}));
  EXPECT_TRUE(absl::IsNotFound(fs_->PutIfAbsent(P("none/1.json"), "x")));
}

INSTANTIATE_TEST_SUITE_P(PosixAndMem, FileSystemTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Posix" : "Mem"; });

TEST(MemFileSystem, PowerLossKeepsOnlySyncedDataAndSyncedNames) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/d").ok());
  auto f = *fs.Open("/d/synced", OpenMode::kCreateNew);
  ASSERT_TRUE(f->Append("durable").ok());
  ASSERT_TRUE(f->Sync().ok());
  ASSERT_TRUE(fs.SyncDir("/d").ok());
  ASSERT_TRUE(f->Append("-lost").ok());
  auto g = *fs.Open("/d/unnamed", OpenMode::kCreateNew);
  ASSERT_TRUE(g->Append("x").ok());
  ASSERT_TRUE(g->Sync().ok());  // contents synced, but the name never was
  fs.SimulatePowerLoss();
  EXPECT_EQ(*ReadFile(&fs, "/d/synced"), "durable");
  EXPECT_FALSE(fs.Exists("/d/unnamed"));
}

}  // namespace
}  // namespace nobus::env
