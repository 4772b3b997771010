// Flat files through the three independent readers: every Delta primitive with extreme values,
// every codec, dictionary fallback, several row groups and pages, all-null columns, and the
// Parquet type annotations the readers see.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "reader_harness.h"

namespace nobus::parquet::testing {
namespace {

using schema::Field;
using schema::Primitive;
using schema::TypeKind;

__int128 Pow10(int n) {
  __int128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

schema::Schema AllPrimitivesSchema() {
  return {{
      {"s", Primitive(TypeKind::kString)},
      {"l", Primitive(TypeKind::kLong)},
      {"i", Primitive(TypeKind::kInteger)},
      {"sh", Primitive(TypeKind::kShort)},
      {"by", Primitive(TypeKind::kByte)},
      {"f", Primitive(TypeKind::kFloat)},
      {"d", Primitive(TypeKind::kDouble)},
      {"b", Primitive(TypeKind::kBoolean)},
      {"bin", Primitive(TypeKind::kBinary)},
      {"dt", Primitive(TypeKind::kDate)},
      {"ts", Primitive(TypeKind::kTimestamp)},
      {"ntz", Primitive(TypeKind::kTimestampNtz)},
      {"d5", schema::Decimal(5, 2)},
      {"d18", schema::Decimal(18, 4)},
      {"d38", schema::Decimal(38, 10)},
  }};
}

constexpr int64_t kYear1Micros = -62135596800000000;     // 0001-01-01T00:00:00Z
constexpr int64_t kYear9999Micros = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

std::vector<Row> AllPrimitivesRows() {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  using L = std::numeric_limits<int64_t>;
  using I = std::numeric_limits<int32_t>;
  return {
      {Bytes("héllo wörld ✓ 😀"), Int(L::min()), Int(I::min()), Int(-32768), Int(-128), Real(-1.5),
       Real(-inf), Bool(false), Bytes(std::string("\x00\xff\x7f", 3)), Int(-719162),
       Int(kYear1Micros), Int(-1), Dec(-(Pow10(5) - 1)), Dec(-(Pow10(18) - 1)),
       Dec(-(Pow10(38) - 1))},
      {Bytes(""), Int(L::max()), Int(I::max()), Int(32767), Int(127), Real(3.4028234663852886e38),
       Real(inf), Bool(true), Bytes(""), Int(2932896), Int(kYear9999Micros), Int(kYear9999Micros),
       Dec(Pow10(5) - 1), Dec(Pow10(18) - 1), Dec(Pow10(38) - 1)},
      {Bytes("a"), Int(0), Int(0), Int(0), Int(0), Real(-0.0), Real(-0.0), Bool(true),
       Bytes("\x01"), Int(-1), Int(-1500), Int(-1500), Dec(-1), Dec(-5), Dec(-1234567)},
      {Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(), Null(),
       Null(), Null(), Null(), Null()},
      {Bytes("z\x7f"), Int(42), Int(-7), Int(12), Int(-3), Real(1.1), Real(nan), Bool(false),
       Bytes("abc"), Int(-25567), Int(1577836800123456), Int(-315619199500000), Dec(1234),
       Dec(123456789012345678), Dec(Pow10(30) + 7)},
      {Bytes("日本語のテキスト"), Int(-42), Int(7), Int(-12), Int(3), Real(1.4e-45), Real(5e-324),
       Bool(true), Bytes(std::string(1, '\0')), Int(19000), Int(0), Int(0), Dec(0), Dec(0), Dec(0)},
  };
}

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, AllPrimitiveTypesWithExtremes) {
  ReaderHarness harness;
  WriterOptions options;
  options.codec = GetParam();
  RoundTrip(&harness, AllPrimitivesSchema(), AllPrimitivesRows(), options);
}

TEST_P(CodecTest, ManyRowsManyPagesAndRowGroups) {
  const schema::Schema schema{{{"id", Primitive(TypeKind::kLong)},
                               {"name", Primitive(TypeKind::kString)},
                               {"v", Primitive(TypeKind::kDouble)},
                               {"flag", Primitive(TypeKind::kBoolean)}}};
  std::vector<Row> rows;
  for (int64_t i = 0; i < 20000; ++i) {
    rows.push_back(
        {Int(i * 7919 % 20011 - 10000),
         i % 13 == 0 ? Null() : Bytes(Cat("name-", i % 97, i % 5 == 0 ? "-long-suffix" : "")),
         i % 11 == 0 ? Null() : Real(static_cast<double>(i) / 3.0), Bool(i % 3 == 0)});
  }
  ReaderHarness harness;
  WriterOptions options;
  options.codec = GetParam();
  options.row_group_size_bytes = 64 << 10;
  options.page_size_bytes = 4 << 10;
  const nlohmann::json doc = RoundTrip(&harness, schema, rows, options);
  if (!doc.is_null()) {
    EXPECT_GT(doc["duckdb"]["row_groups"].size(), 1u) << "expected several row groups";
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest,
                         ::testing::Values(Codec::kUncompressed, Codec::kSnappy, Codec::kZstd),
                         [](const auto& info) { return CodecName(info.param); });

TEST(ParquetReadersTest, DictionaryFallbackWithManyDistinctStrings) {
  const schema::Schema schema{{{"distinct", Primitive(TypeKind::kString)},
                               {"low", Primitive(TypeKind::kString)},
                               {"n", Primitive(TypeKind::kInteger)}}};
  std::vector<Row> rows;
  for (int i = 0; i < 6000; ++i) {
    rows.push_back({i % 17 == 0 ? Bytes("") : Bytes(Cat("distinct-value-", i * 104729 % 6007)),
                    Bytes(Cat("level-", i % 4)), Int(i % 10)});
  }
  ReaderHarness harness;
  WriterOptions options;
  options.dictionary_page_size_limit_bytes = 2048;
  options.page_size_bytes = 8 << 10;
  RoundTrip(&harness, schema, rows, options);
  options.enable_dictionary = false;
  RoundTrip(&harness, schema, rows, options);
}

TEST(ParquetReadersTest, AllNullColumns) {
  std::vector<Row> rows(5, Row(AllPrimitivesSchema().fields.size(), Null()));
  ReaderHarness harness;
  RoundTrip(&harness, AllPrimitivesSchema(), rows);
}

// The physical and logical types every reader relies on (spec section 4), as DuckDB reports them.
TEST(ParquetReadersTest, TypeAnnotations) {
  ReaderHarness harness;
  const nlohmann::json doc = RoundTrip(&harness, AllPrimitivesSchema(), AllPrimitivesRows());
  ASSERT_FALSE(doc.is_null());
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& e : doc["duckdb"]["schema"]) by_name[e["name"]] = e;
  auto expect = [&](const std::string& col, const std::string& type, const std::string& duck) {
    EXPECT_EQ(by_name[col].value("type", ""), type) << col;
    EXPECT_EQ(by_name[col].value("duckdb_type", ""), duck) << col;
    EXPECT_EQ(by_name[col].value("repetition_type", ""), "OPTIONAL") << col;
  };
  expect("s", "BYTE_ARRAY", "VARCHAR");
  expect("l", "INT64", "BIGINT");
  expect("i", "INT32", "INTEGER");
  expect("sh", "INT32", "SMALLINT");
  expect("by", "INT32", "TINYINT");
  expect("bin", "BYTE_ARRAY", "BLOB");
  expect("dt", "INT32", "DATE");
  expect("ts", "INT64", "TIMESTAMP WITH TIME ZONE");
  expect("ntz", "INT64", "TIMESTAMP");
  expect("d5", "INT32", "DECIMAL(5,2)");
  expect("d18", "INT64", "DECIMAL(18,4)");
  expect("d38", "FIXED_LEN_BYTE_ARRAY", "DECIMAL(38,10)");
  EXPECT_EQ(by_name["d38"].value("type_length", 0), 16);
  EXPECT_EQ(by_name["sh"].value("converted_type", ""), "INT_16");
  EXPECT_EQ(by_name["by"].value("converted_type", ""), "INT_8");
  EXPECT_EQ(by_name["ts"].value("converted_type", ""), "TIMESTAMP_MICROS");
  EXPECT_EQ(by_name["ntz"].value("converted_type", ""), "TIMESTAMP_MICROS");
}

}  // namespace
}  // namespace nobus::parquet::testing
