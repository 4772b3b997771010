// The stream-id file of `nobus ingest --stream-id-file` (ingest.h): missing or blank means "create
// a stream", the id survives a power loss once written, stray words are refused.
#include <gtest/gtest.h>

#include "cli/ingest.h"
#include "env/mem_env.h"

namespace nobus::cli {
namespace {

TEST(StreamIdFileTest, MissingOrBlankMeansNone) {
  env::MemFileSystem fs;
  absl::StatusOr<std::string> id = ReadStreamIdFile(&fs, "/ids/events.stream");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "");
  ASSERT_TRUE(fs.CreateDirs("/ids").ok());
  ASSERT_TRUE(env::WriteFileDurably(&fs, "/ids/events.stream", " \n\n").ok());
  id = ReadStreamIdFile(&fs, "/ids/events.stream");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "");
}

TEST(StreamIdFileTest, WrittenIdIsDurableAndReadBackTrimmed) {
  env::MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/ids").ok());
  const std::string written = "main.default.events/1796502702027/ed434695297e9a18";
  ASSERT_TRUE(WriteStreamIdFile(&fs, "/ids/events.stream", written).ok());
  fs.SimulatePowerLoss();
  absl::StatusOr<std::string> id = ReadStreamIdFile(&fs, "/ids/events.stream");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, written);
  EXPECT_FALSE(fs.Exists("/ids/events.stream.tmp"));
}

TEST(StreamIdFileTest, SeveralWordsAreRefused) {
  env::MemFileSystem fs;
  ASSERT_TRUE(fs.CreateDirs("/ids").ok());
  ASSERT_TRUE(env::WriteFileDurably(&fs, "/ids/x", "a.b.c/1/ff\nsomething else\n").ok());
  EXPECT_TRUE(absl::IsInvalidArgument(ReadStreamIdFile(&fs, "/ids/x").status()));
}

}  // namespace
}  // namespace nobus::cli
