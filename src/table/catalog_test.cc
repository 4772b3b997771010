#include "table/catalog.h"

#include <gtest/gtest.h>

#include "env/mem_env.h"
#include "table/test_util.h"

namespace nobus::table {
namespace {

using testing::Name;
using testing::TempDir;
using testing::TestSchema;

TEST(TableNameTest, ParsesAndLowercases) {
  auto name = ParseTableName("Main.Sales.Orders_2");
  ASSERT_TRUE(name.ok()) << name.status();
  EXPECT_EQ(*name, (TableName{"main", "sales", "orders_2"}));
  EXPECT_EQ(name->ToString(), "main.sales.orders_2");
}

TEST(TableNameTest, NeedsThreeParts) {
  for (const char* bad : {"a.b", "a", "a.b.c.d", ""}) {
    auto name = ParseTableName(bad);
    EXPECT_EQ(name.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(name.status().message(),
              Cat("table name '", bad, "' must have three parts: catalog.schema.table"));
  }
}

TEST(TableNameTest, BadCharactersNameThePart) {
  auto name = ParseTableName("main.x-y.t");
  EXPECT_EQ(name.status().message(),
            "table name 'main.x-y.t': schema name 'x-y' may contain only letters, digits and '_'");
}

TEST(TableNameTest, EmptyPart) {
  auto name = ParseTableName("main..t");
  EXPECT_EQ(name.status().message(), "table name 'main..t': schema name is empty");
}

TEST(TableNameTest, PartLength) {
  EXPECT_TRUE(ValidateNamePart(std::string(255, 'a'), "table").ok());
  absl::Status st = ValidateNamePart(std::string(256, 'a'), "table");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("256 characters long; the limit is 255"), std::string::npos);
}

class CatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = Catalog::Open(fs_, &clock_, dir_.Sub("tables"));
    ASSERT_TRUE(c.ok()) << c.status();
    catalog_ = std::move(*c);
  }
  TableInfo Create(std::string_view name, std::vector<std::string> partitions = {}) {
    auto info = catalog_->Create(Name(name), TestSchema(), partitions);
    EXPECT_TRUE(info.ok()) << info.status();
    return info.ok() ? *info : TableInfo{};
  }
  std::vector<std::string> Names(const absl::StatusOr<std::vector<TableInfo>>& infos) {
    EXPECT_TRUE(infos.ok()) << infos.status();
    std::vector<std::string> out;
    if (infos.ok())
      for (const TableInfo& i : *infos) out.push_back(i.name.ToString());
    return out;
  }

  TempDir dir_;
  env::FileSystem* fs_ = env::PosixFileSystem();
  env::ManualClock clock_;
  std::unique_ptr<Catalog> catalog_;
};

TEST_F(CatalogTest, CreateThenGet) {
  TableInfo created = Create("main.sales.orders", {"day"});
  EXPECT_EQ(created.version, 0);
  EXPECT_EQ(created.storage_location, dir_.Sub("tables/main/sales/orders"));
  auto got = catalog_->Get(Name("MAIN.sales.Orders"));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->name, Name("main.sales.orders"));
  EXPECT_EQ(got->schema, TestSchema());
  EXPECT_EQ(got->partition_columns, (std::vector<std::string>{"day"}));
  EXPECT_EQ(got->table_id, created.table_id);
  EXPECT_FALSE(got->table_id.empty());
  EXPECT_EQ(got->created_at_ms, clock_.NowMillis());
}

TEST_F(CatalogTest, CreateTwiceIsAlreadyExists) {
  Create("main.s.t");
  auto again = catalog_->Create(Name("main.s.t"), TestSchema(), {});
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "table 'main.s.t' already exists");
}

TEST_F(CatalogTest, BadPartitionColumnIsInvalidArgument) {
  auto info = catalog_->Create(Name("main.s.t"), TestSchema(), {"nope"});
  EXPECT_EQ(info.status().code(), absl::StatusCode::kInvalidArgument) << info.status();
}

TEST_F(CatalogTest, GetMissingIsNotFound) {
  auto info = catalog_->Get(Name("main.s.t"));
  EXPECT_EQ(info.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(info.status().message(),
            "table 'main.s.t' does not exist; create it with POST /api/2.1/unity-catalog/tables");
}

TEST_F(CatalogTest, ListIsSortedAndFiltered) {
  Create("main.b.t2");
  Create("main.a.t1");
  Create("main.b.t1");
  Create("other.a.t1");
  EXPECT_EQ(Names(catalog_->List("main")),
            (std::vector<std::string>{"main.a.t1", "main.b.t1", "main.b.t2"}));
  EXPECT_EQ(Names(catalog_->List("MAIN", "b")),
            (std::vector<std::string>{"main.b.t1", "main.b.t2"}));
  EXPECT_TRUE(Names(catalog_->List("nothing")).empty());
  EXPECT_EQ(Names(catalog_->ListAll()),
            (std::vector<std::string>{"main.a.t1", "main.b.t1", "main.b.t2", "other.a.t1"}));
}

TEST_F(CatalogTest, ListSkipsHalfCreatedAndForeignDirectories) {
  Create("main.s.real");
  // Create interrupted before commit 0, and directories that are not table names.
  ASSERT_TRUE(fs_->CreateDirs(dir_.Sub("tables/main/s/half/_delta_log")).ok());
  ASSERT_TRUE(fs_->CreateDirs(dir_.Sub("tables/main/s/not-a-name/_delta_log")).ok());
  ASSERT_TRUE(env::WriteFileDurably(fs_, dir_.Sub("tables/main/s/stray.txt"), "x").ok());
  EXPECT_EQ(Names(catalog_->ListAll()), (std::vector<std::string>{"main.s.real"}));
  EXPECT_EQ(catalog_->Get(Name("main.s.half")).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, CreateOverHalfCreatedDirectory) {
  ASSERT_TRUE(fs_->CreateDirs(dir_.Sub("tables/main/s/t/_delta_log")).ok());
  Create("main.s.t");
  EXPECT_TRUE(catalog_->Get(Name("main.s.t")).ok());
}

TEST_F(CatalogTest, ListRejectsBadNames) {
  EXPECT_EQ(catalog_->List("a-b").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->List("a", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogTest, DropRemovesTheTable) {
  TableInfo info = Create("main.s.t");
  ASSERT_TRUE(catalog_->Drop(Name("main.s.t")).ok());
  EXPECT_FALSE(fs_->Exists(info.storage_location));
  EXPECT_EQ(catalog_->Get(Name("main.s.t")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Names(catalog_->ListAll()).empty());
  auto tombstones = fs_->ListDir(dir_.Sub("tables/.dropped"));
  ASSERT_TRUE(tombstones.ok());
  EXPECT_TRUE(tombstones->empty());
}

TEST_F(CatalogTest, DropMissingIsNotFound) {
  EXPECT_EQ(catalog_->Drop(Name("main.s.t")).code(), absl::StatusCode::kNotFound);
}

TEST_F(CatalogTest, RecreateAfterDropGetsNewTableId) {
  TableInfo first = Create("main.s.t");
  ASSERT_TRUE(catalog_->Drop(Name("main.s.t")).ok());
  TableInfo second = Create("main.s.t");
  EXPECT_NE(first.table_id, second.table_id);
  EXPECT_EQ(second.version, 0);
}

TEST_F(CatalogTest, OpenDeletesLeftoverTombstones) {
  TableInfo info = Create("main.s.t");
  // A drop interrupted after the rename: the table is gone, its files remain aside.
  ASSERT_TRUE(fs_->CreateDirs(dir_.Sub("tables/.dropped")).ok());
  ASSERT_TRUE(fs_->Rename(info.storage_location, dir_.Sub("tables/.dropped/left")).ok());
  auto reopened = Catalog::Open(fs_, &clock_, dir_.Sub("tables"));
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_FALSE(fs_->Exists(dir_.Sub("tables/.dropped/left")));
  EXPECT_TRUE(Names((*reopened)->ListAll()).empty());
}

TEST_F(CatalogTest, UppercaseNamesAreStoredLowercase) {
  auto info = catalog_->Create(TableName{"Main", "S", "T"}, TestSchema(), {});
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->name.ToString(), "main.s.t");
  EXPECT_TRUE(fs_->Exists(dir_.Sub("tables/main/s/t/_delta_log")));
}

}  // namespace
}  // namespace nobus::table
