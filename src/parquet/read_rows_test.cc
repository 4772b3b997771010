#include "parquet/read_rows.h"

#include <gtest/gtest.h>

#include "env/mem_env.h"
#include "parquet/test_util.h"
#include "parquet/writer.h"

namespace nobus::parquet {
namespace {

using schema::Field;
using schema::Primitive;
using schema::TypeKind;

std::vector<Field> RichFields() {
  return {Field{"id", Primitive(TypeKind::kLong), false},
          Field{"name", Primitive(TypeKind::kString)},
          Field{"tags", schema::Array(Primitive(TypeKind::kString))},
          Field{"s", schema::Struct({Field{"x", Primitive(TypeKind::kInteger)},
                                     Field{"y", Primitive(TypeKind::kDouble)}})},
          Field{"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kLong))},
          Field{"big", schema::Decimal(30, 2)},
          Field{"small", schema::Decimal(9, 3)},
          Field{"flag", Primitive(TypeKind::kBoolean)},
          Field{"f", Primitive(TypeKind::kFloat)},
          Field{"day", Primitive(TypeKind::kDate)},
          Field{"bin", Primitive(TypeKind::kBinary)}};
}

// Row i of the rich schema; every third row has nulls, every fifth empty collections.
void AddRow(RowBuilder& b, int i) {
  b.BeginRow();
  b.Int64(i);
  if (i % 3 == 0) b.Null(); else b.String("name-" + std::to_string(i));
  if (i % 3 == 0) {
    b.Null();
  } else {
    b.BeginList();
    for (int k = 0; k < i % 5; ++k) b.String("t" + std::to_string(k));
    b.EndList();
  }
  b.BeginStruct();
  b.Int32(i * 7);
  if (i % 2 == 0) b.Null(); else b.Double(i / 4.0);
  b.EndStruct();
  b.BeginMap();
  for (int k = 0; k < i % 4; ++k) {
    b.String("k" + std::to_string(k));
    if (k == 1) b.Null(); else b.Int64(k * 100 + i);
  }
  b.EndMap();
  b.Decimal(static_cast<__int128>(i) * 1'000'000'000'000LL - 5);
  b.Decimal(-i);
  b.Bool(i % 2 == 1);
  b.Float(static_cast<float>(i) / 3.0f);
  b.Int32(19000 + i);
  if (i % 3 == 0) b.Null(); else b.Binary(std::string("\0\x01\xff", 3) + std::to_string(i));
  ASSERT_TRUE(b.EndRow().ok());
}

std::unique_ptr<RowBatch> Rows(int from, int to) {
  auto batch = testing::MakeBatch(RichFields());
  RowBuilder b(batch.get());
  for (int i = from; i < to; ++i) AddRow(b, i);
  return batch;
}

std::string WriteToString(env::MemFileSystem* fs, const std::string& path, const RowBatch& batch) {
  auto r = WriteFileAt(fs, path, batch);
  EXPECT_TRUE(r.ok()) << r.status();
  auto bytes = env::ReadFile(fs, path);
  EXPECT_TRUE(bytes.ok());
  return bytes.ok() ? *bytes : std::string();
}

void ExpectSameLeaves(const RowBatch& got, const RowBatch& want) {
  ASSERT_EQ(got.num_rows(), want.num_rows());
  ASSERT_EQ(got.leaves().size(), want.leaves().size());
  for (size_t i = 0; i < want.leaves().size(); ++i) {
    SCOPED_TRACE(want.leaves()[i].display_path);
    EXPECT_EQ(got.leaf(i).def_levels, want.leaf(i).def_levels);
    EXPECT_EQ(got.leaf(i).rep_levels, want.leaf(i).rep_levels);
    EXPECT_EQ(got.leaf(i).values.view(), want.leaf(i).values.view());
    EXPECT_EQ(got.leaf(i).offsets, want.leaf(i).offsets);
    EXPECT_EQ(got.leaf(i).num_values, want.leaf(i).num_values);
    EXPECT_EQ(got.leaf(i).num_levels, want.leaf(i).num_levels);
  }
}

TEST(ReadRowsTest, TwoFilesReadBackEqualTheRowsTheyWereWrittenFrom) {
  env::MemFileSystem fs;
  std::string a = WriteToString(&fs, "/a.parquet", *Rows(0, 37));
  std::string b = WriteToString(&fs, "/b.parquet", *Rows(37, 100));
  auto merged = testing::MakeBatch(RichFields());
  for (std::string* bytes : {&a, &b}) {
    auto file = FileReader::Open(*bytes);
    ASSERT_TRUE(file.ok()) << file.status();
    ASSERT_TRUE(AppendFileRows(*file, merged.get()).ok());
  }
  ExpectSameLeaves(*merged, *Rows(0, 100));
}

TEST(ReadRowsTest, StreamedFileEqualsOneShotFile) {
  env::MemFileSystem fs;
  auto one_shot = WriteToString(&fs, "/one.parquet", *Rows(0, 60));
  auto file = fs.Open("/streamed.parquet", env::OpenMode::kCreateNew);
  ASSERT_TRUE(file.ok());
  auto writer = FileWriter::Open(file->get(), Rows(0, 0)->schema());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE((*writer)->Add(*Rows(0, 25)).ok());
  ASSERT_TRUE((*writer)->Add(*Rows(25, 60)).ok());
  auto result = (*writer)->Finish();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_rows, 60);
  EXPECT_EQ(result->num_row_groups, 2);
  ASSERT_TRUE((*file)->Close().ok());
  auto streamed = env::ReadFile(&fs, "/streamed.parquet");
  ASSERT_TRUE(streamed.ok());
  auto merged = testing::MakeBatch(RichFields());
  auto reader = FileReader::Open(*streamed);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_TRUE(AppendFileRows(*reader, merged.get()).ok());
  ExpectSameLeaves(*merged, *Rows(0, 60));
  // The statistics cover both batches like those of one batch.
  auto all = Rows(0, 60);
  auto one = WriteFileAt(&fs, "/one-again.parquet", *all);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(DeltaStatsJson(*all, *result), DeltaStatsJson(*all, *one));
  EXPECT_FALSE(one_shot.empty());
}

TEST(ReadRowsTest, ManyRowGroupsReadWholeOrOneByOne) {
  env::MemFileSystem fs;
  WriterOptions small;
  small.row_group_size_bytes = 2000;
  auto rows = Rows(0, 300);
  ASSERT_TRUE(WriteFileAt(&fs, "/many.parquet", *rows, small).ok());
  auto bytes = env::ReadFile(&fs, "/many.parquet");
  ASSERT_TRUE(bytes.ok());
  auto reader = FileReader::Open(*bytes);
  ASSERT_TRUE(reader.ok());
  ASSERT_GT(reader->num_row_groups(), 3);
  auto whole = Rows(0, 5);  // appended after rows already there
  ASSERT_TRUE(AppendFileRows(*reader, whole.get()).ok());
  auto want = Rows(0, 5);
  {
    RowBuilder b(want.get());
    for (int i = 0; i < 300; ++i) AddRow(b, i);
  }
  ExpectSameLeaves(*whole, *want);
  auto one_by_one = testing::MakeBatch(RichFields());
  for (int rg = 0; rg < reader->num_row_groups(); ++rg)
    ASSERT_TRUE(AppendRowGroupRows(*reader, rg, one_by_one.get()).ok());
  ExpectSameLeaves(*one_by_one, *rows);
  EXPECT_TRUE(absl::IsInvalidArgument(
      AppendRowGroupRows(*reader, reader->num_row_groups(), one_by_one.get())));
}

TEST(ReadRowsTest, FileOfAnotherSchemaIsRefusedAndLeavesTheBatchAlone) {
  env::MemFileSystem fs;
  auto other = testing::MakeBatch({Field{"id", Primitive(TypeKind::kInteger)}});
  RowBuilder ob(other.get());
  ob.BeginRow();
  ob.Int32(1);
  ASSERT_TRUE(ob.EndRow().ok());
  std::string bytes = WriteToString(&fs, "/other.parquet", *other);
  auto batch = Rows(0, 3);
  auto reader = FileReader::Open(bytes);
  ASSERT_TRUE(reader.ok());
  absl::Status st = AppendFileRows(*reader, batch.get());
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  ExpectSameLeaves(*batch, *Rows(0, 3));

  auto narrow = testing::MakeBatch({Field{"id", Primitive(TypeKind::kLong)}});
  st = AppendFileRows(*reader, narrow.get());
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("physical type"), std::string::npos) << st;
  EXPECT_EQ(narrow->num_rows(), 0);
}

}  // namespace
}  // namespace nobus::parquet
