// DAT rows check: for every DAT case, the live files of our snapshot, read by DuckDB with the
// partition columns injected from the log, hold exactly the expected rows (as a multiset).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "table_reader.h"

namespace nobus::delta {
namespace {

std::string DatDir() {
  const char* shared = std::getenv("NOBUS_SHARED_DIR");
  return Cat(shared != nullptr ? shared : "../shared", "/testdata/dat");
}

class DatRowsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DatRowsTest, LiveFilesHoldTheExpectedRows) {
  std::string dir = Cat(DatDir(), "/", GetParam());
  LocalLogStore store(env::PosixFileSystem(), dir + "/delta");
  auto snap = Snapshot::Load(&store);
  ASSERT_TRUE(snap.ok()) << snap.status();
  std::string content = dir + "/expected/latest/table_content";
  auto names = env::PosixFileSystem()->ListDir(content);
  ASSERT_TRUE(names.ok()) << names.status();
  std::vector<std::string> expected;
  for (const std::string& n : *names)
    if (n.ends_with(".parquet")) expected.push_back(Cat(content, "/", n));
  ASSERT_FALSE(expected.empty());
  auto result = testing::ReadTableWithDuckdb(*snap, dir + "/delta", expected);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ((*result)["rows"], (*result)["expected_rows"]);
  EXPECT_EQ((*result)["missing"], 0) << result->dump();
  EXPECT_EQ((*result)["extra"], 0) << result->dump();
}

INSTANTIATE_TEST_SUITE_P(Cases, DatRowsTest,
                         ::testing::Values("all_primitive_types", "basic_append",
                                           "basic_partitioned", "multi_partitioned",
                                           "multi_partitioned_2", "nested_types", "no_replay",
                                           "no_stats", "stats_as_struct", "with_checkpoint",
                                           "with_schema_change"));

}  // namespace
}  // namespace nobus::delta
