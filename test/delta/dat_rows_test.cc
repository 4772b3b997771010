// DAT rows check: for every DAT case, the live files of our snapshot, read by DuckDB with the
// partition columns injected from the log, hold exactly the expected rows (as a multiset).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "dat_cases.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "table_reader.h"

namespace nobus::delta {
namespace {

using testing::DatDir;

class DatRowsTest : public ::testing::TestWithParam<std::string> {};

TEST_P(DatRowsTest, LiveFilesHoldTheExpectedRows) {
  std::string dir = Cat(DatDir(), "/", GetParam());
  FileLogStore store(env::PosixFileSystem(), dir + "/delta");
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

INSTANTIATE_TEST_SUITE_P(Cases, DatRowsTest, ::testing::ValuesIn(testing::kDatCases));

}  // namespace
}  // namespace nobus::delta
