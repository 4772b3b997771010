#include "parquet/writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "common/coding.h"
#include "env/mem_env.h"
#include "parquet/column_writer.h"
#include "parquet/compression.h"
#include "parquet/schema_mapping.h"
#include "parquet/stats.h"
#include "parquet/test_util.h"

namespace nobus::parquet {
namespace {

using schema::Field;
using schema::Primitive;
using schema::TypeKind;

using testing::MakeBatch;

std::unique_ptr<RowBatch> StringBatch(int rows, int cardinality) {
  auto batch = MakeBatch({Field{"s", Primitive(TypeKind::kString)}});
  RowBuilder b(batch.get());
  for (int i = 0; i < rows; ++i) {
    b.BeginRow();
    b.String("value-" + std::to_string(i % cardinality));
    EXPECT_TRUE(b.EndRow().ok());
  }
  return batch;
}

ChunkResult WriteWholeChunk(const RowBatch& batch, const WriterOptions& options) {
  ColumnWriter writer(batch.leaves()[0], options);
  const LeafBuffer& buf = batch.leaf(0);
  ChunkRange range{0, buf.num_levels, 0, buf.num_values};
  std::string out;
  ChunkResult result;
  auto sink = [&](std::string_view b) {
    out.append(b);
    return absl::OkStatus();
  };
  EXPECT_TRUE(writer.WriteChunk(buf, range, 4, sink, &result).ok());
  EXPECT_EQ(result.compressed_size, static_cast<int64_t>(out.size()));
  return result;
}

TEST(ColumnWriterTest, LowCardinalityStringsUseDictionary) {
  auto batch = StringBatch(10000, 5);
  ChunkResult r = WriteWholeChunk(*batch, WriterOptions{});
  EXPECT_EQ(r.dictionary_page_offset, 4);
  EXPECT_GT(r.data_page_offset, 4);
  EXPECT_EQ(r.encodings.back(), Encoding::kRleDictionary);
  EXPECT_EQ(r.stats.min.bytes, "value-0");
  EXPECT_EQ(r.stats.max.bytes, "value-4");
}

TEST(ColumnWriterTest, DictionaryFallsBackToPlainPastLimit) {
  auto batch = StringBatch(2000, 1000);
  WriterOptions options;
  options.dictionary_page_size_limit_bytes = 1000;
  ChunkResult r = WriteWholeChunk(*batch, options);
  EXPECT_EQ(r.dictionary_page_offset, -1);
  EXPECT_EQ(r.data_page_offset, 4);
  EXPECT_EQ(r.encodings, (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle}));
  EXPECT_EQ(r.stats.max.bytes, "value-999");
}

TEST(ColumnWriterTest, PagesSplitAtPageSize) {
  auto batch = StringBatch(10000, 10000);
  WriterOptions options;
  options.enable_dictionary = false;
  options.page_size_bytes = 4096;
  ChunkResult r = WriteWholeChunk(*batch, options);
  EXPECT_GT(r.num_data_pages, 20);
  EXPECT_EQ(r.num_values, 10000);
}

TEST(ColumnWriterTest, RowsNeverSpanPages) {
  auto batch = MakeBatch({Field{"a", schema::Array(Primitive(TypeKind::kLong))}});
  RowBuilder b(batch.get());
  for (int row = 0; row < 2; ++row) {
    b.BeginRow();
    b.BeginList();
    for (int i = 0; i < 1000; ++i) b.Int64(i);
    b.EndList();
    ASSERT_TRUE(b.EndRow().ok());
  }
  WriterOptions options;
  options.page_size_bytes = 64;
  ChunkResult r = WriteWholeChunk(*batch, options);
  EXPECT_EQ(r.num_data_pages, 2);
}

TEST(CompressionSettingTest, NamesEveryCodecAndZstdLevel) {
  WriterOptions o;
  ASSERT_TRUE(ParseCompression("snappy", &o).ok());
  EXPECT_EQ(o.codec, Codec::kSnappy);
  ASSERT_TRUE(ParseCompression("none", &o).ok());
  EXPECT_EQ(o.codec, Codec::kUncompressed);
  ASSERT_TRUE(ParseCompression("zstd", &o).ok());
  EXPECT_EQ(o.codec, Codec::kZstd);
  EXPECT_EQ(o.zstd_level, 3);
  ASSERT_TRUE(ParseCompression("zstd:-3", &o).ok());
  EXPECT_EQ(o.zstd_level, -3);
  ASSERT_TRUE(ParseCompression("zstd:22", &o).ok());
  EXPECT_EQ(o.zstd_level, 22);
}

TEST(CompressionSettingTest, RefusesUnknownCodecsAndLevelsAndKeepsTheOptions) {
  for (const char* bad : {"", "gzip", "ZSTD", "zstd:", "zstd:0", "zstd:23", "zstd:-8", "zstd:1x",
                          "snappy:1"}) {
    WriterOptions o;
    o.codec = Codec::kSnappy;
    absl::Status st = ParseCompression(bad, &o);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(st.message().find("use snappy, zstd, zstd:LEVEL"), std::string_view::npos) << st;
    EXPECT_EQ(o.codec, Codec::kSnappy) << bad;
  }
}

TEST(StatsTest, NanNeverABoundAndZerosAreSigned) {
  auto batch = MakeBatch({Field{"d", Primitive(TypeKind::kDouble)}});
  RowBuilder b(batch.get());
  for (double v : {0.0, std::numeric_limits<double>::quiet_NaN(), -0.0}) {
    b.BeginRow();
    b.Double(v);
    ASSERT_TRUE(b.EndRow().ok());
  }
  ChunkResult r = WriteWholeChunk(*batch, WriterOptions{});
  EXPECT_TRUE(r.stats.has_nan);
  EXPECT_TRUE(std::signbit(r.stats.min.d));
  EXPECT_FALSE(std::signbit(r.stats.max.d));
  EXPECT_EQ(r.stats.max.d, 0.0);
}

TEST(DecimalTest, FixedLenByteWidths) {
  EXPECT_EQ(DecimalByteWidth(19), 9);
  EXPECT_EQ(DecimalByteWidth(21), 9);
  EXPECT_EQ(DecimalByteWidth(22), 10);
  EXPECT_EQ(DecimalByteWidth(38), 16);
  auto batch = MakeBatch({Field{"d", schema::Decimal(20, 2)}});
  EXPECT_EQ(batch->leaves()[0].physical, PhysicalType::kFixedLenByteArray);
  EXPECT_EQ(batch->leaves()[0].type_length, 9);
}

TEST(DecimalTest, NegativeValuesBigEndianAndOrderedBySign) {
  auto batch = MakeBatch({Field{"d", schema::Decimal(20, 0)}});
  RowBuilder b(batch.get());
  for (__int128 v :
       {static_cast<__int128>(5), static_cast<__int128>(-1), static_cast<__int128>(-300)}) {
    b.BeginRow();
    b.Decimal(v);
    ASSERT_TRUE(b.EndRow().ok());
  }
  EXPECT_EQ(batch->leaf(0).values.view().substr(9, 9), std::string(9, '\xFF'));
  ChunkResult r = WriteWholeChunk(*batch, WriterOptions{});
  EXPECT_EQ(static_cast<int64_t>(r.stats.min.dec), -300);
  EXPECT_EQ(static_cast<int64_t>(r.stats.max.dec), 5);
  EXPECT_EQ(EncodeStatBound(batch->leaves()[0], r.stats.min),
            std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFE\xD4", 9));
}

absl::StatusOr<std::string> WriteToMemory(const RowBatch& batch, const WriterOptions& options,
                                          FileResult* result) {
  env::MemFileSystem fs;
  NOBUS_ASSIGN_OR_RETURN(*result, WriteFileAt(&fs, "/f.parquet", batch, options));
  return env::ReadFile(&fs, "/f.parquet");
}

TEST(FileWriterTest, FileStartsAndEndsWithMagic) {
  auto batch = StringBatch(100, 3);
  FileResult result;
  auto bytes = WriteToMemory(*batch, WriterOptions{}, &result);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->substr(0, 4), "PAR1");
  EXPECT_EQ(bytes->substr(bytes->size() - 4), "PAR1");
  uint32_t footer = DecodeFixed32(bytes->data() + bytes->size() - 8);
  EXPECT_LT(footer, bytes->size());
  EXPECT_EQ(result.size_bytes, bytes->size());
  EXPECT_EQ(result.num_rows, 100);
  EXPECT_EQ(result.num_row_groups, 1);
  EXPECT_NE(bytes->find("nobus version"), std::string::npos);
}

TEST(FileWriterTest, RowGroupsSplitBySize) {
  auto batch = StringBatch(1000, 1000);
  WriterOptions options;
  options.row_group_size_bytes = 1500;
  FileResult result;
  ASSERT_TRUE(WriteToMemory(*batch, options, &result).ok());
  EXPECT_GE(result.num_row_groups, 10);
  EXPECT_EQ(result.num_rows, 1000);
  EXPECT_EQ(result.leaves[0].min.bytes, "value-0");
  EXPECT_EQ(result.leaves[0].max.bytes, "value-999");
}

TEST(FileWriterTest, EmptyBatchWritesFileWithoutRowGroups) {
  auto batch = StringBatch(0, 1);
  FileResult result;
  auto bytes = WriteToMemory(*batch, WriterOptions{}, &result);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(result.num_row_groups, 0);
  EXPECT_EQ(result.num_rows, 0);
}

TEST(FileWriterTest, RepeatedFieldNullsCountedOncePerArray) {
  auto batch = MakeBatch({Field{"t", schema::Array(Primitive(TypeKind::kLong))}});
  RowBuilder b(batch.get());
  for (int row = 0; row < 3; ++row) {
    b.BeginRow();
    if (row == 1) {
      b.Null();
    } else {
      b.BeginList();
      b.Int64(1);
      b.Null();
      b.EndList();
    }
    ASSERT_TRUE(b.EndRow().ok());
  }
  FileResult result;
  ASSERT_TRUE(WriteToMemory(*batch, WriterOptions{}, &result).ok());
  ASSERT_EQ(result.repeated_fields.size(), 1u);
  EXPECT_EQ(result.repeated_fields[0].path, (std::vector<std::string>{"t"}));
  EXPECT_EQ(result.repeated_fields[0].null_count, 1);
  EXPECT_EQ(result.leaves[0].null_count, 3);
}

TEST(DeltaStatsTest, NestedSchemaWithTruncation) {
  auto batch = MakeBatch({
      Field{"id", Primitive(TypeKind::kLong), false},
      Field{"s", schema::Struct({Field{"name", Primitive(TypeKind::kString)},
                                 Field{"ok", Primitive(TypeKind::kBoolean)},
                                 Field{"ts", Primitive(TypeKind::kTimestamp)}})},
      Field{"tags", schema::Array(Primitive(TypeKind::kString))},
      Field{"price", schema::Decimal(10, 3)},
      Field{"none", Primitive(TypeKind::kDate)},
  });
  RowBuilder b(batch.get());
  const std::string long_name = std::string(31, 'a') + "\xC3\xA9" + "zzz";  // 35 code points
  for (int row = 0; row < 2; ++row) {
    b.BeginRow();
    b.Int64(row == 0 ? -5 : 9000000000LL);
    b.BeginStruct();
    b.String(row == 0 ? "b" : long_name);
    b.Bool(true);
    b.Int64(1704067200123999LL);
    b.EndStruct();
    b.Null();
    b.Decimal(row == 0 ? 10000 : -1);
    b.Null();
    ASSERT_TRUE(b.EndRow().ok());
  }
  FileResult result;
  ASSERT_TRUE(WriteToMemory(*batch, WriterOptions{}, &result).ok());
  EXPECT_EQ(
      DeltaStatsJson(*batch, result),
      "{\"numRecords\":2,"
      "\"minValues\":{\"id\":-5,\"s\":{\"name\":\"" +
          std::string(31, 'a') +
          "\xC3\xA9\","
          "\"ts\":\"2024-01-01T00:00:00.123Z\"},\"price\":-0.001},"
          "\"maxValues\":{\"id\":9000000000,\"s\":{\"name\":\"b\","
          "\"ts\":\"2024-01-01T00:00:00.123Z\"},\"price\":10.000},"
          "\"nullCount\":{\"id\":0,\"s\":{\"name\":0,\"ok\":0,\"ts\":0},\"tags\":2,\"price\":0,"
          "\"none\":2}}");
  DeltaStatsOptions two;
  two.num_indexed_cols = 2;
  EXPECT_EQ(DeltaStatsJson(*batch, result, two),
            "{\"numRecords\":2,\"minValues\":{\"id\":-5,\"s\":{\"name\":\"" + std::string(31, 'a') +
                "\xC3\xA9\"}},\"maxValues\":{\"id\":9000000000,\"s\":{" +
                "\"name\":\"b\"}},\"nullCount\":{\"id\":0,\"s\":{\"name\":0}}}");
  DeltaStatsOptions none;
  none.num_indexed_cols = 0;
  EXPECT_EQ(DeltaStatsJson(*batch, result, none), "{\"numRecords\":2}");
}

TEST(DeltaStatsTest, TruncatedMaxGetsTieBreaker) {
  auto batch = MakeBatch({Field{"s", Primitive(TypeKind::kString)}});
  RowBuilder b(batch.get());
  b.BeginRow();
  b.String(std::string(40, 'x'));
  ASSERT_TRUE(b.EndRow().ok());
  FileResult result;
  ASSERT_TRUE(WriteToMemory(*batch, WriterOptions{}, &result).ok());
  EXPECT_EQ(DeltaStatsJson(*batch, result),
            "{\"numRecords\":1,\"minValues\":{\"s\":\"" + std::string(32, 'x') +
                "\"},\"maxValues\":{\"s\":\"" + std::string(32, 'x') +
                "\xF4\x8F\xBF\xBF\"},\"nullCount\":{\"s\":0}}");
}

}  // namespace
}  // namespace nobus::parquet
