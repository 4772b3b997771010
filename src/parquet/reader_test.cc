#include "parquet/reader.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "env/env.h"

namespace nobus::parquet {
namespace {

std::string DatFile(const std::string& rel) {
  const char* shared = std::getenv("NOBUS_SHARED_DIR");
  return Cat(shared != nullptr ? shared : "../shared", "/testdata/dat/", rel);
}

std::string ReadDat(const std::string& rel) {
  auto bytes = env::ReadFile(env::PosixFileSystem(), DatFile(rel));
  return bytes.ok() ? *bytes : std::string();
}

constexpr char kCheckpoint[] =
    "with_checkpoint/delta/_delta_log/00000000000000000002.checkpoint.parquet";

TEST(ReaderTest, OpensSparkCheckpointSchema) {
  auto r = FileReader::Open(ReadDat(kCheckpoint));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_rows(), 4);
  auto key = r->FindColumn({"add", "partitionValues", "key_value", "key"});
  ASSERT_TRUE(key);
  EXPECT_EQ(r->columns()[*key].max_def_level, 3);
  EXPECT_EQ(r->columns()[*key].max_rep_level, 1);
  auto app_id = r->FindColumn({"txn", "appId"});
  ASSERT_TRUE(app_id);
  EXPECT_EQ(r->columns()[*app_id].max_def_level, 2);
}

TEST(ReaderTest, ReadsStringColumnWithNulls) {
  auto r = FileReader::Open(ReadDat(kCheckpoint));
  ASSERT_TRUE(r.ok()) << r.status();
  auto values = r->ReadColumn(*r->FindColumn({"add", "path"}));
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(values->num_entries, 4u);
  ASSERT_EQ(values->bytes.size(), 1u);  // one live add, three other actions
  EXPECT_NE(values->bytes[0].find(".parquet"), std::string::npos);
}

TEST(ReaderTest, ReadsIntColumnsAndRepeatedLevels) {
  auto r = FileReader::Open(ReadDat(kCheckpoint));
  ASSERT_TRUE(r.ok());
  auto reader_version = r->ReadColumn(*r->FindColumn({"protocol", "minReaderVersion"}));
  ASSERT_TRUE(reader_version.ok()) << reader_version.status();
  EXPECT_EQ(reader_version->ints, std::vector<int64_t>{1});
  auto parts = r->ReadColumn(*r->FindColumn({"metaData", "partitionColumns", "list", "element"}));
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->rep_levels.size(), parts->num_entries);
  EXPECT_TRUE(parts->bytes.empty());
}

TEST(ReaderTest, ReadsDataFileOfEveryPrimitiveType) {
  auto names = env::PosixFileSystem()->ListDir(DatFile("all_primitive_types/delta"));
  ASSERT_TRUE(names.ok());
  int files = 0;
  for (const std::string& name : *names) {
    if (name.size() < 8 || name.substr(name.size() - 8) != ".parquet" || name[0] == '.') continue;
    auto r = FileReader::Open(ReadDat("all_primitive_types/delta/" + name));
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    for (size_t c = 0; c < r->columns().size(); ++c) {
      auto v = r->ReadColumn(static_cast<int>(c));
      ASSERT_TRUE(v.ok()) << name << " column " << c << ": " << v.status();
      EXPECT_EQ(static_cast<int64_t>(v->num_entries), r->num_rows());
    }
    ++files;
  }
  EXPECT_GT(files, 0);
}

TEST(ReaderTest, RejectsNonParquet) {
  EXPECT_EQ(FileReader::Open("hello").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(FileReader::Open("PAR1\xff\xff\xff\x7fPAR1").status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(ReaderTest, TruncatedFileIsDataLoss) {
  std::string bytes = ReadDat(kCheckpoint);
  ASSERT_FALSE(bytes.empty());
  EXPECT_FALSE(FileReader::Open(bytes.substr(0, bytes.size() / 2)).ok());
}

// Random byte flips must yield errors or values, never a crash or a runaway allocation.
TEST(ReaderTest, SurvivesCorruptedBytes) {
  std::string original = ReadDat(kCheckpoint);
  ASSERT_FALSE(original.empty());
  std::mt19937 rng(42);
  for (int round = 0; round < 300; ++round) {
    std::string bytes = original;
    for (int flips = 0; flips < 4; ++flips) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto r = FileReader::Open(bytes);
    if (!r.ok()) continue;
    for (size_t c = 0; c < r->columns().size(); ++c) (void)r->ReadColumn(static_cast<int>(c));
  }
}

}  // namespace
}  // namespace nobus::parquet
