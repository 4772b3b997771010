// Nested files through the three independent readers: nulls at every nesting level (null struct,
// null field, null list, empty list, null element, null map, empty map, null map value), lists
// of structs, maps of lists, a struct inside a list inside a struct, under every codec.
#include <gtest/gtest.h>

#include "reader_harness.h"

namespace nobus::parquet::testing {
namespace {

using schema::Array;
using schema::Primitive;
using schema::TypeKind;

schema::Schema NestedSchema() {
  const schema::DataType inner = schema::Struct({{"x", Primitive(TypeKind::kLong)}});
  return {{
      {"id", Primitive(TypeKind::kInteger)},
      {"s", schema::Struct({{"a", Primitive(TypeKind::kInteger)},
                            {"b", Primitive(TypeKind::kString)},
                            {"inner", inner}})},
      {"l", Array(Primitive(TypeKind::kInteger))},
      {"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kInteger))},
      {"ls", Array(schema::Struct(
                 {{"p", Primitive(TypeKind::kString)}, {"q", Primitive(TypeKind::kDouble)}}))},
      {"ml", schema::Map(Primitive(TypeKind::kString), Array(Primitive(TypeKind::kLong)))},
      {"sls", schema::Struct({{"items", Array(schema::Struct({{"z", Primitive(TypeKind::kDate)},
                                                              {"dec", schema::Decimal(38, 2)}}))},
                              {"tag", Primitive(TypeKind::kString)}})},
      {"mi", schema::Map(Primitive(TypeKind::kInteger), Primitive(TypeKind::kTimestamp))},
  }};
}

Value Item(int64_t day, __int128 dec) { return Struct({Int(day), Dec(dec)}); }

std::vector<Row> NestedRows() {
  return {
      // Everything present.
      {Int(1), Struct({Int(1), Bytes("one"), Struct({Int(10)})}), List({Int(1), Int(2), Int(3)}),
       Map({{Bytes("b"), Int(2)}, {Bytes("a"), Int(1)}}),
       List({Struct({Bytes("p1"), Real(1.5)}), Struct({Bytes(""), Real(-2.5)})}),
       Map({{Bytes("k"), List({Int(1), Int(2)})}}),
       Struct({List({Item(-1, 12345), Item(0, -99)}), Bytes("t")}),
       Map({{Int(3), Int(1000)}, {Int(1), Int(-1000)}})},
      // Nulls at the top.
      {Int(2), Null(), Null(), Null(), Null(), Null(), Null(), Null()},
      // Null fields inside present containers; empty containers.
      {Int(3), Struct({Null(), Null(), Null()}), List({}), Map({}), List({}), Map({}),
       Struct({List({}), Bytes("")}), Map({})},
      // Null elements, null map values, null structs in lists, null/empty lists in maps.
      {Int(4), Struct({Int(4), Bytes(""), Struct({Null()})}), List({Null(), Int(5), Null()}),
       Map({{Bytes("n"), Null()}, {Bytes(""), Int(0)}}),
       List({Null(), Struct({Null(), Null()}), Struct({Bytes("x"), Real(0.0)})}),
       Map({{Bytes("null"), Null()}, {Bytes("empty"), List({})}, {Bytes("nulls"), List({Null()})}}),
       Struct({List({Null(), Item(-36524, -1), Struct({Null(), Null()})}), Null()}),
       Map({{Int(0), Null()}})},
      // Struct present with null list inside; single-element lists.
      {Int(5), Struct({Int(-5), Null(), Struct({Int(-10)})}), List({Int(-7)}),
       Map({{Bytes("ü"), Int(-1)}}), List({Struct({Bytes("only"), Null()})}),
       Map({{Bytes("z"), List({Int(9), Null(), Int(-9)})}}), Struct({Null(), Bytes("no items")}),
       Map({{Int(-2), Int(1577836800123456)}})},
  };
}

class NestedCodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(NestedCodecTest, NullsAtEveryLevel) {
  ReaderHarness harness;
  WriterOptions options;
  options.codec = GetParam();
  RoundTrip(&harness, NestedSchema(), NestedRows(), options);
}

INSTANTIATE_TEST_SUITE_P(Codecs, NestedCodecTest,
                         ::testing::Values(Codec::kUncompressed, Codec::kSnappy, Codec::kZstd),
                         [](const auto& info) { return CodecName(info.param); });

TEST(NestedReadersTest, ManyNestedRowsAcrossPagesAndRowGroups) {
  std::vector<Row> rows;
  const std::vector<Row> base = NestedRows();
  for (int i = 0; i < 3000; ++i) {
    Row r = base[i % base.size()];
    r[0] = Int(i);
    rows.push_back(std::move(r));
  }
  ReaderHarness harness;
  WriterOptions options;
  options.page_size_bytes = 2 << 10;
  options.row_group_size_bytes = 32 << 10;
  const nlohmann::json doc = RoundTrip(&harness, NestedSchema(), rows, options);
  if (!doc.is_null()) {
    EXPECT_GT(doc["duckdb"]["row_groups"].size(), 1u);
  }
}

TEST(NestedReadersTest, AllNullNestedColumns) {
  std::vector<Row> rows;
  for (int i = 0; i < 4; ++i) {
    Row r(NestedSchema().fields.size(), Null());
    r[0] = Int(i);
    rows.push_back(std::move(r));
  }
  ReaderHarness harness;
  RoundTrip(&harness, NestedSchema(), rows);
}

TEST(NestedReadersTest, RequiredElementsAndValues) {
  const schema::Schema schema{{
      {"l", Array(Primitive(TypeKind::kString), /*contains_null=*/false)},
      {"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kLong),
                        /*value_contains_null=*/false)},
      {"s",
       schema::Struct({{"req", Primitive(TypeKind::kInteger), /*nullable=*/false},
                       {"opt", Primitive(TypeKind::kInteger)}}),
       /*nullable=*/false},
  }};
  const std::vector<Row> rows = {
      {List({Bytes("a"), Bytes("")}), Map({{Bytes("k"), Int(1)}}), Struct({Int(1), Null()})},
      {Null(), Null(), Struct({Int(2), Int(3)})},
      {List({}), Map({}), Struct({Int(-3), Null()})},
  };
  ReaderHarness harness;
  RoundTrip(&harness, schema, rows);
}

}  // namespace
}  // namespace nobus::parquet::testing
