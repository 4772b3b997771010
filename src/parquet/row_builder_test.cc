#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "parquet/row_batch.h"
#include "parquet/test_util.h"

namespace nobus::parquet {
namespace {

using schema::Field;
using schema::Primitive;
using schema::TypeKind;

using testing::MakeBatch;

std::vector<int16_t> Levels(const std::vector<int16_t>& v) { return v; }

TEST(RowBuilderTest, StructLevels) {
  auto batch = MakeBatch({Field{"s", schema::Struct({Field{"x", Primitive(TypeKind::kInteger)}})}});
  RowBuilder b(batch.get());
  b.BeginRow();
  b.Null();
  ASSERT_TRUE(b.EndRow().ok());
  b.BeginRow();
  b.BeginStruct();
  b.Null();
  b.EndStruct();
  ASSERT_TRUE(b.EndRow().ok());
  b.BeginRow();
  b.BeginStruct();
  b.Int32(5);
  b.EndStruct();
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_EQ(batch->leaves()[0].max_def, 2);
  EXPECT_EQ(batch->leaf(0).def_levels, Levels({0, 1, 2}));
  EXPECT_EQ(batch->leaf(0).num_values, 1);
}

TEST(RowBuilderTest, ListLevelsFromSpec) {
  auto batch = MakeBatch({Field{"a", schema::Array(Primitive(TypeKind::kLong))}});
  ASSERT_EQ(batch->leaves()[0].path, (std::vector<std::string>{"a", "list", "element"}));
  ASSERT_EQ(batch->leaves()[0].display_path, "a.element");
  RowBuilder b(batch.get());
  b.BeginRow();
  b.Null();
  ASSERT_TRUE(b.EndRow().ok());
  b.BeginRow();
  b.BeginList();
  b.EndList();
  ASSERT_TRUE(b.EndRow().ok());
  b.BeginRow();
  b.BeginList();
  b.Null();
  b.EndList();
  ASSERT_TRUE(b.EndRow().ok());
  b.BeginRow();
  b.BeginList();
  b.Int64(1);
  b.Int64(2);
  b.EndList();
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_EQ(batch->leaves()[0].max_def, 3);
  EXPECT_EQ(batch->leaves()[0].max_rep, 1);
  EXPECT_EQ(batch->leaf(0).def_levels, Levels({0, 1, 2, 3, 3}));
  EXPECT_EQ(batch->leaf(0).rep_levels, Levels({0, 0, 0, 0, 1}));
  EXPECT_EQ(batch->leaf(0).num_values, 2);
}

TEST(RowBuilderTest, MapLevelsFromSpec) {
  auto batch = MakeBatch(
      {Field{"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kInteger))}});
  RowBuilder b(batch.get());
  b.BeginRow();
  b.BeginMap();
  b.String("a");
  b.Int32(1);
  b.String("b");
  b.Null();
  b.EndMap();
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_EQ(batch->leaves()[0].max_def, 2);
  EXPECT_EQ(batch->leaves()[1].max_def, 3);
  EXPECT_TRUE(batch->leaves()[0].required);
  EXPECT_EQ(batch->leaf(0).def_levels, Levels({2, 2}));
  EXPECT_EQ(batch->leaf(0).rep_levels, Levels({0, 1}));
  EXPECT_EQ(batch->leaf(1).def_levels, Levels({3, 2}));
  EXPECT_EQ(batch->leaf(1).rep_levels, Levels({0, 1}));
}

TEST(RowBuilderTest, NestedListRepetition) {
  auto batch = MakeBatch({Field{"n", schema::Array(schema::Array(Primitive(TypeKind::kInteger)))}});
  RowBuilder b(batch.get());
  b.BeginRow();
  b.BeginList();
  b.BeginList();
  b.Int32(1);
  b.Int32(2);
  b.EndList();
  b.BeginList();
  b.EndList();
  b.BeginList();
  b.Int32(3);
  b.EndList();
  b.EndList();
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_EQ(batch->leaf(0).rep_levels, Levels({0, 2, 1, 1}));
  EXPECT_EQ(batch->leaf(0).def_levels, Levels({5, 5, 3, 5}));
}

// A batch with one good row, for checking that a bad second row leaves it untouched.
class RollbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    batch_ = MakeBatch({
        Field{"id", Primitive(TypeKind::kLong), false},
        Field{"name", Primitive(TypeKind::kString)},
        Field{"small", Primitive(TypeKind::kShort)},
        Field{"tiny", Primitive(TypeKind::kByte)},
        Field{"price", schema::Decimal(5, 2)},
        Field{"tags", schema::Array(Primitive(TypeKind::kString))},
        Field{"s", schema::Struct({Field{"x", Primitive(TypeKind::kInteger)}})},
    });
    builder_ = std::make_unique<RowBuilder>(batch_.get());
    GoodRow();
    ASSERT_TRUE(builder_->EndRow().ok());
    before_ = Snapshot();
  }

  // Begins a row and gives valid values for the scalar columns id..price (tags and s follow).
  void ValidScalars() {
    RowBuilder& b = *builder_;
    b.BeginRow();
    b.Int64(2);
    b.String("bob");
    b.Int32(1);
    b.Int32(1);
    b.Decimal(1);
  }

  // Appends a valid row without ending it.
  void GoodRow() {
    RowBuilder& b = *builder_;
    b.BeginRow();
    b.Int64(1);
    b.String("alice");
    b.Int32(300);
    b.Int32(-3);
    b.Decimal(12345);
    b.BeginList();
    b.String("x");
    b.EndList();
    b.BeginStruct();
    b.Int32(7);
    b.EndStruct();
  }

  std::vector<std::string> Snapshot() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < batch_->leaves().size(); ++i) {
      const LeafBuffer& l = batch_->leaf(i);
      out.push_back(std::to_string(l.def_levels.size()) + "/" +
                    std::to_string(l.rep_levels.size()) + "/" + std::string(l.values.view()) + "/" +
                    std::to_string(l.offsets.size()) + "/" + std::to_string(l.num_values) + "/" +
                    std::to_string(l.num_levels));
    }
    return out;
  }

  void ExpectRejected(const std::string& column) {
    absl::Status st = builder_->EndRow();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    EXPECT_NE(st.message().find("row 1,"), std::string_view::npos) << st;
    EXPECT_NE(st.message().find("'" + column + "'"), std::string_view::npos) << st;
    EXPECT_EQ(batch_->num_rows(), 1);
    EXPECT_EQ(Snapshot(), before_);
    GoodRow();
    EXPECT_TRUE(builder_->EndRow().ok());
    EXPECT_EQ(batch_->num_rows(), 2);
  }

  std::unique_ptr<RowBatch> batch_;
  std::unique_ptr<RowBuilder> builder_;
  std::vector<std::string> before_;
};

TEST_F(RollbackTest, WrongType) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Int64(2);
  b.Int64(3);
  ExpectRejected("name");
}

TEST_F(RollbackTest, NullInNotNullField) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Null();
  ExpectRejected("id");
}

TEST_F(RollbackTest, DecimalOutOfPrecision) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Int64(2);
  b.String("bob");
  b.Int32(1);
  b.Int32(1);
  b.Decimal(100000);
  ExpectRejected("price");
}

TEST_F(RollbackTest, ShortOutOfRange) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Int64(2);
  b.String("bob");
  b.Int32(40000);
  ExpectRejected("small");
}

TEST_F(RollbackTest, ByteOutOfRange) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Int64(2);
  b.String("bob");
  b.Int32(1);
  b.Int32(-129);
  ExpectRejected("tiny");
}

TEST_F(RollbackTest, InvalidUtf8) {
  RowBuilder& b = *builder_;
  ValidScalars();
  b.BeginList();
  b.String("ok");
  b.String("\xC3\x28");
  ExpectRejected("tags.element");
}

TEST_F(RollbackTest, MissingStructField) {
  RowBuilder& b = *builder_;
  ValidScalars();
  b.Null();
  b.BeginStruct();
  b.EndStruct();
  ExpectRejected("s.x");
}

TEST_F(RollbackTest, ExtraTopLevelValue) {
  GoodRow();
  builder_->Int32(9);
  ExpectRejected("");
}

TEST_F(RollbackTest, MissingTopLevelField) {
  RowBuilder& b = *builder_;
  b.BeginRow();
  b.Int64(2);
  ExpectRejected("name");
}

TEST_F(RollbackTest, UnbalancedEndList) {
  RowBuilder& b = *builder_;
  ValidScalars();
  b.BeginList();
  b.EndStruct();
  ExpectRejected("tags");
}

TEST_F(RollbackTest, RowEndsInsideOpenList) {
  RowBuilder& b = *builder_;
  ValidScalars();
  b.BeginList();
  b.String("a");
  ExpectRejected("tags");
}

TEST_F(RollbackTest, AbortRowDropsPartialRow) {
  GoodRow();
  builder_->AbortRow();
  EXPECT_EQ(Snapshot(), before_);
}

TEST(RowBuilderTest, ClearKeepsBatchUsable) {
  auto batch = MakeBatch({Field{"s", Primitive(TypeKind::kString)}});
  RowBuilder b(batch.get());
  b.BeginRow();
  b.String("abc");
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_GT(batch->ByteSize(), 0);
  batch->Clear();
  EXPECT_EQ(batch->num_rows(), 0);
  EXPECT_EQ(batch->ByteSize(), 0);
  b.BeginRow();
  b.String("d");
  ASSERT_TRUE(b.EndRow().ok());
  EXPECT_EQ(batch->leaf(0).values.view(), "d");
  EXPECT_EQ(batch->leaf(0).offsets, (std::vector<uint32_t>{0, 1}));
}

}  // namespace
}  // namespace nobus::parquet
