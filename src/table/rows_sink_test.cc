#include "table/rows_sink.h"

#include <gtest/gtest.h>

#include "table/test_util.h"

namespace nobus::table {
namespace {

using testing::MakeBlob;
using testing::TestSchema;

std::unique_ptr<delta::PartitionedRows> NewRows(std::vector<std::string> partition_columns) {
  auto rows = delta::PartitionedRows::Create(TestSchema(), partition_columns);
  EXPECT_TRUE(rows.ok()) << rows.status();
  return std::move(*rows);
}

absl::Status Replay(delta::PartitionedRows* rows, std::string_view blob) {
  NOBUS_ASSIGN_OR_RETURN(auto sink, RowsSink::Create(rows));
  return schema::ReplayRows(TestSchema(), rows->partition_columns(), blob, sink.get());
}

// The string values of leaf `leaf` of a batch.
std::vector<std::string> Strings(const parquet::RowBatch& batch, size_t leaf) {
  const parquet::LeafBuffer& b = batch.leaf(leaf);
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < b.offsets.size(); ++i)
    out.push_back(std::string(b.values.view().substr(b.offsets[i], b.offsets[i + 1] - b.offsets[i])));
  return out;
}

TEST(RowsSinkTest, UnpartitionedRowsGoToOneBatch) {
  auto rows = NewRows({});
  ASSERT_TRUE(Replay(rows.get(), MakeBlob(1, 3)).ok());
  ASSERT_EQ(rows->groups().size(), 1u);
  const parquet::RowBatch& batch = *rows->groups().begin()->second.batch;
  EXPECT_EQ(batch.num_rows(), 3);
  EXPECT_EQ(Strings(batch, 1), (std::vector<std::string>{"name-1", "name-2", "name-3"}));
}

TEST(RowsSinkTest, PartitionColumnAfterDataColumnsRoutesEachRow) {
  auto rows = NewRows({"day"});
  ASSERT_TRUE(Replay(rows.get(), MakeBlob(1, 2, "2025-01-01")).ok());
  ASSERT_TRUE(Replay(rows.get(), MakeBlob(10, 1, "2025-01-02")).ok());
  ASSERT_TRUE(Replay(rows.get(), MakeBlob(20, 1, std::nullopt)).ok());
  ASSERT_EQ(rows->groups().size(), 3u);
  auto group = [&](std::optional<std::string> day) -> const parquet::RowBatch& {
    return *rows->groups().at(delta::PartitionValues{{"day", day}}).batch;
  };
  EXPECT_EQ(Strings(group("2025-01-01"), 1), (std::vector<std::string>{"name-1", "name-2"}));
  EXPECT_EQ(Strings(group("2025-01-02"), 1), (std::vector<std::string>{"name-10"}));
  EXPECT_EQ(Strings(group(std::nullopt), 1), (std::vector<std::string>{"name-20"}));
  // The partition column is not stored in the files.
  EXPECT_EQ(group("2025-01-01").leaves().size(), 2u);
}

TEST(RowsSinkTest, PartitionedNestedValuesReplayInOrder) {
  auto schema = *schema::ParseDdl("tags ARRAY<STRING>, day DATE, s STRUCT<x INT, y DOUBLE>");
  auto rows = *delta::PartitionedRows::Create(schema, {"day"});
  std::string blob;
  schema::RowBlobWriter w(&blob);
  w.BeginRow();
  w.BeginList(2);
  w.String("a");
  w.String("bb");
  w.EndList();
  w.Int32(20089);  // 2025-01-01
  w.BeginStruct();
  w.Int32(7);
  w.Double(2.5);
  w.EndStruct();
  w.EndRow();
  auto sink = *RowsSink::Create(rows.get());
  ASSERT_TRUE(schema::ReplayRows(schema, {"day"}, blob, sink.get()).ok());
  ASSERT_EQ(rows->groups().size(), 1u);
  const auto& [values, group] = *rows->groups().begin();
  EXPECT_EQ(values.at("day"), "2025-01-01");
  EXPECT_EQ(Strings(*group.batch, 0), (std::vector<std::string>{"a", "bb"}));
  EXPECT_EQ(group.batch->leaf(1).values.size(), 4u);  // x: one int32
  EXPECT_EQ(group.batch->leaf(2).values.size(), 8u);  // y: one double
}

TEST(RowsSinkTest, RowBuilderErrorIsReturned) {
  auto rows = NewRows({"day"});
  std::string blob;
  schema::RowBlobWriter w(&blob);
  w.BeginRow();
  w.Int64(1);
  w.String("\xff\xfe");  // not UTF-8: RowBuilder rejects the row
  w.String("2025-01-01");
  w.EndRow();
  absl::Status st = Replay(rows.get(), blob);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
}

}  // namespace
}  // namespace nobus::table
