#include "env/forwarding_file_system.h"

#include <cstdlib>
#include <filesystem>

#include "env/mem_env.h"
#include "gtest/gtest.h"

namespace nobus::env {
namespace {

// A decorator as tests write them: one method overridden, the rest inherited.
class NoDeleteFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  absl::Status Delete(std::string_view path) override {
    ++deletes;
    return absl::PermissionDeniedError(Cat("injected: cannot delete ", path));
  }
  int deletes = 0;
};

TEST(ForwardingFileSystem, DefaultsToPosixAndForwardsEveryCall) {
  char tmpl[] = "/tmp/nobus_forwarding_fs_test_XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  ForwardingFileSystem fs;
  EXPECT_EQ(fs.base(), PosixFileSystem());

  const std::string dir = JoinPath(root, "d/e");
  ASSERT_TRUE(fs.CreateDirs(dir).ok());
  const std::string a = JoinPath(dir, "a");
  ASSERT_TRUE(WriteFileDurably(&fs, a, "hello").ok());
  EXPECT_EQ(ReadFile(PosixFileSystem(), a).value_or(""), "hello");  // really on disk
  EXPECT_EQ(ReadFile(&fs, a).value_or(""), "hello");
  EXPECT_EQ(fs.Stat(a)->size_bytes, 5u);

  const std::string b = JoinPath(dir, "b");
  ASSERT_TRUE(WriteFileDurably(&fs, b, "bee").ok());
  EXPECT_TRUE(absl::IsAlreadyExists(fs.RenameNoReplace(b, a)));
  ASSERT_TRUE(fs.RenameNoReplace(b, JoinPath(dir, "c")).ok());
  ASSERT_TRUE(fs.SyncDir(dir).ok());
  EXPECT_EQ(fs.ListDir(dir).value_or(std::vector<std::string>{}),
            (std::vector<std::string>{"a", "c"}));
  ASSERT_TRUE(fs.Delete(a).ok());
  ASSERT_TRUE(fs.Delete(JoinPath(dir, "c")).ok());
  ASSERT_TRUE(fs.DeleteDir(dir).ok());
  EXPECT_FALSE(std::filesystem::exists(dir));
  std::filesystem::remove_all(root);
}

TEST(ForwardingFileSystem, AnOverrideInterceptsOnlyItsMethod) {
  MemFileSystem mem;
  NoDeleteFileSystem fs(&mem);
  EXPECT_EQ(fs.base(), &mem);
  ASSERT_TRUE(fs.CreateDirs("/t").ok());
  ASSERT_TRUE(WriteFileDurably(&fs, "/t/a", "x").ok());
  EXPECT_EQ(ReadFile(&mem, "/t/a").value_or(""), "x");  // written through to the base
  EXPECT_TRUE(absl::IsPermissionDenied(fs.Delete("/t/a")));
  EXPECT_EQ(fs.deletes, 1);
  EXPECT_TRUE(mem.Exists("/t/a"));  // the base never saw the delete
  ASSERT_TRUE(mem.Delete("/t/a").ok());
  EXPECT_FALSE(fs.Exists("/t/a"));
}

}  // namespace
}  // namespace nobus::env
