// Tables written by nobus, read back by DuckDB (live files from our snapshot, partition columns
// injected from the log): flat, partitioned with a null partition, nested, checkpointed, and after
// a compaction. Our checkpoints are also read by all three independent Parquet readers.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "delta/table.h"
#include "env/env.h"
#include "table_reader.h"

namespace nobus::delta {
namespace {

using nlohmann::json;
using schema::TypeKind;

schema::Schema FlatSchema() {
  return {{{"id", schema::Primitive(TypeKind::kLong), true},
           {"name", schema::Primitive(TypeKind::kString), true},
           {"day", schema::Primitive(TypeKind::kDate), true}}};
}

schema::Schema NestedSchema() {
  schema::DataType s =
      schema::Struct({{"x", schema::Primitive(TypeKind::kInteger), true},
                      {"tags", schema::Array(schema::Primitive(TypeKind::kString)), true}});
  return {
      {{"id", schema::Primitive(TypeKind::kLong), true},
       {"s", s, true},
       {"m", schema::Map(schema::Primitive(TypeKind::kString), schema::Primitive(TypeKind::kLong)),
        true}}};
}

class TableRowsTest : public ::testing::Test {
 protected:
  std::string root() const { return dir_.path() + "/t"; }
  std::unique_ptr<Committer> Create(schema::Schema s, std::vector<std::string> partitions,
                                    StringMap config = {}) {
    CreateTableOptions options;
    options.schema = std::move(s);
    options.partition_columns = std::move(partitions);
    options.configuration = std::move(config);
    auto c = Committer::Create(env::PosixFileSystem(), env::SystemClock(), root(), options);
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }
  // Appends ids [first, first+n) with day 2025-01-0<1 + id % 2>, or null for id % 3 == 0 when
  // `null_days`. Days are days since the epoch in the data files and strings in partition values.
  void AppendFlat(Committer& c, int64_t first, int n, bool null_days) {
    auto rows = c.NewRows();
    ASSERT_TRUE(rows.ok());
    bool partitioned = !c.snapshot().metadata().partition_columns.empty();
    for (int64_t id = first; id < first + n; ++id) {
      std::optional<std::string> day = Cat("2025-01-0", 1 + id % 2);
      if (null_days && id % 3 == 0) day.reset();
      PartitionValues pv;
      if (partitioned) pv["day"] = day;
      auto b = (*rows)->Builder(pv);
      ASSERT_TRUE(b.ok());
      (*b)->BeginRow();
      (*b)->Int64(id);
      (*b)->String(Cat("n", id));
      if (!partitioned) (*b)->Int32(static_cast<int32_t>(20089 + id % 2));
      ASSERT_TRUE((*b)->EndRow().ok());
      expected_.push_back(
          {{"id", id}, {"name", Cat("n", id)}, {"day", day ? json(*day) : json(nullptr)}});
    }
    auto result = c.AppendOnce("wal-test", c.snapshot().version() + 1, **rows);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(result->checkpoint_status.ok()) << result->checkpoint_status;
  }
  void ExpectRows(const Snapshot& snap) {
    auto got = testing::ReadTableWithDuckdb(snap, root());
    ASSERT_TRUE(got.ok()) << got.status();
    std::multiset<json> rows, want(expected_.begin(), expected_.end());
    for (const json& text : (*got)["json_rows"]) rows.insert(json::parse(text.get<std::string>()));
    EXPECT_EQ(rows, want) << got->dump();
  }
  std::unique_ptr<Snapshot> Load() {
    FileLogStore store(env::PosixFileSystem(), root());
    auto snap = Snapshot::Load(&store);
    EXPECT_TRUE(snap.ok()) << snap.status();
    return std::make_unique<Snapshot>(std::move(*snap));
  }

  testing::TempDir dir_;
  std::vector<json> expected_;
};

TEST_F(TableRowsTest, FlatTable) {
  auto c = Create(FlatSchema(), {});
  AppendFlat(*c, 0, 5, false);
  AppendFlat(*c, 5, 3, false);
  ExpectRows(*Load());
}

TEST_F(TableRowsTest, PartitionedTableWithANullPartition) {
  auto c = Create(FlatSchema(), {"day"});
  AppendFlat(*c, 0, 7, true);
  AppendFlat(*c, 7, 4, true);
  auto snap = Load();
  EXPECT_EQ(snap->files().size(), 6u);
  ExpectRows(*snap);
}

TEST_F(TableRowsTest, NestedTable) {
  auto c = Create(NestedSchema(), {});
  auto rows = c->NewRows();
  ASSERT_TRUE(rows.ok());
  auto b = *(*rows)->Builder({});
  for (int64_t id = 0; id < 3; ++id) {
    b->BeginRow();
    b->Int64(id);
    b->BeginStruct();
    b->Int32(static_cast<int32_t>(id * 10));
    b->BeginList();
    b->String("a");
    b->String(Cat("t", id));
    b->EndList();
    b->EndStruct();
    b->BeginMap();
    b->String("k");
    b->Int64(id);
    b->EndMap();
    ASSERT_TRUE(b->EndRow().ok());
    expected_.push_back(
        {{"id", id}, {"s", {{"x", id * 10}, {"tags", {"a", Cat("t", id)}}}}, {"m", {{"k", id}}}});
  }
  ASSERT_TRUE(c->Append(**rows).ok());
  ExpectRows(*Load());
}

TEST_F(TableRowsTest, TableReplayedFromOurCheckpoint) {
  auto c = Create(FlatSchema(), {"day"}, {{"delta.checkpointInterval", "2"}});
  for (int i = 0; i < 5; ++i) AppendFlat(*c, i * 4, 4, true);
  auto snap = Load();
  EXPECT_EQ(snap->checkpoint_version(), std::optional<int64_t>(4));
  ExpectRows(*snap);
}

TEST_F(TableRowsTest, CheckpointIsReadByIndependentReaders) {
  auto c = Create(FlatSchema(), {"day"}, {{"delta.checkpointInterval", "2"}});
  for (int i = 0; i < 2; ++i) AppendFlat(*c, i * 4, 4, true);
  std::string file = Cat(root(), "/_delta_log/", CheckpointFileName(2));
  auto doc = testing::ReadParquetWithAllReaders(file);
  ASSERT_TRUE(doc.ok()) << doc.status();
  const json& rows = (*doc)["duckdb"]["rows"];
  ASSERT_EQ(rows.size(), 3u + c->snapshot().files().size());  // protocol, metaData, txn, adds
  int adds = 0;
  for (const json& row : rows) {
    if (row["add"].is_null()) continue;
    ++adds;
    EXPECT_EQ(row["add"]["dataChange"], false);
    EXPECT_TRUE(c->snapshot().files().contains(row["add"]["path"].get<std::string>()))
        << row.dump();
    EXPECT_TRUE(row["add"]["stats"].is_string());
  }
  EXPECT_EQ(adds, static_cast<int>(c->snapshot().files().size()));
  EXPECT_EQ((*doc)["duckdb"]["rows"], (*doc)["hyparquet"]["rows"]);
  EXPECT_EQ((*doc)["duckdb"]["rows"], (*doc)["parquet_wasm"]["rows"]);
}

TEST_F(TableRowsTest, CheckpointSchemaIsSparksNodeForNode) {
  auto c = Create(FlatSchema(), {"day"}, {{"delta.checkpointInterval", "1"}});
  AppendFlat(*c, 0, 2, true);
  const char* shared = std::getenv("NOBUS_SHARED_DIR");
  std::string spark = Cat(shared != nullptr ? shared : "../shared",
                          "/testdata/dat/with_checkpoint/delta/_delta_log/", CheckpointFileName(2));
  auto ours =
      testing::ReadParquetWithAllReaders(Cat(root(), "/_delta_log/", CheckpointFileName(1)));
  auto theirs = testing::ReadParquetWithAllReaders(spark);
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  const json& a = (*ours)["duckdb"]["schema"];
  const json& b = (*theirs)["duckdb"]["schema"];
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "schema node " << i;
}

TEST_F(TableRowsTest, TableAfterCompaction) {
  auto c = Create(FlatSchema(), {});
  AppendFlat(*c, 0, 3, false);
  AppendFlat(*c, 3, 3, false);
  std::vector<std::string> old;
  for (const auto& [path, add] : c->snapshot().files()) old.push_back(path);
  auto rows = c->NewRows();
  ASSERT_TRUE(rows.ok());
  auto b = *(*rows)->Builder({});
  for (int64_t id = 0; id < 6; ++id) {
    b->BeginRow();
    b->Int64(id);
    b->String(Cat("n", id));
    b->Int32(static_cast<int32_t>(20089 + id % 2));
    ASSERT_TRUE(b->EndRow().ok());
  }
  auto merged = WriteDataFiles(env::PosixFileSystem(), env::SystemClock(), root(), **rows);
  ASSERT_TRUE(merged.ok()) << merged.status();
  auto compacted = c->Compact(old, *merged);
  ASSERT_TRUE(compacted.ok()) << compacted.status();
  auto snap = Load();
  EXPECT_EQ(snap->files().size(), 1u);
  EXPECT_EQ(snap->tombstones().size(), 2u);
  ExpectRows(*snap);
}

}  // namespace
}  // namespace nobus::delta
