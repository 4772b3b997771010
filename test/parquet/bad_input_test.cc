// Bad rows through the public RowBuilder API: each is rejected with InvalidArgument naming the
// column and the row, leaves nothing behind, and the builder keeps working: the file written
// afterwards holds exactly the good rows, as every independent reader confirms.
#include <gtest/gtest.h>

#include <functional>
#include <regex>

#include "reader_harness.h"

namespace nobus::parquet::testing {
namespace {

using schema::Primitive;
using schema::TypeKind;

struct BadCase {
  std::string name;
  schema::Schema schema;
  std::vector<Row> good;                 // three good rows; the bad one goes after the second
  std::function<void(RowBuilder*)> bad;  // the bad row's value calls (between Begin/EndRow)
  std::vector<std::string> message_has;  // column naming: substrings the message must contain
};

schema::Schema Flat() {
  return {{{"id", Primitive(TypeKind::kLong)},
           {"name", Primitive(TypeKind::kString), /*nullable=*/false},
           {"sh", Primitive(TypeKind::kShort)},
           {"by", Primitive(TypeKind::kByte)},
           {"d5", schema::Decimal(5, 2)},
           {"d38", schema::Decimal(38, 0)}}};
}

std::vector<Row> FlatGood() {
  return {{Int(1), Bytes("a"), Int(1), Int(1), Dec(1), Dec(1)},
          {Int(2), Bytes(""), Null(), Int(-128), Dec(-99999), Dec(-1)},
          {Null(), Bytes("c"), Int(32767), Null(), Null(), Null()}};
}

// Flat schema: one field replaced by `bad_field` calls, the others valid.
std::function<void(RowBuilder*)> FlatBad(int field, std::function<void(RowBuilder*)> bad_field) {
  return [field, bad_field](RowBuilder* b) {
    const std::vector<std::function<void(RowBuilder*)>> ok = {
        [](RowBuilder* x) { x->Int64(9); },   [](RowBuilder* x) { x->String("bad"); },
        [](RowBuilder* x) { x->Int32(9); },   [](RowBuilder* x) { x->Int32(9); },
        [](RowBuilder* x) { x->Decimal(9); }, [](RowBuilder* x) { x->Decimal(9); }};
    for (int i = 0; i < static_cast<int>(ok.size()); ++i) (i == field ? bad_field : ok[i])(b);
  };
}

schema::Schema Nested() {
  return {{{"s", schema::Struct({{"req", Primitive(TypeKind::kInteger), /*nullable=*/false},
                                 {"opt", Primitive(TypeKind::kString)}})},
           {"tags", schema::Array(Primitive(TypeKind::kString), /*contains_null=*/false)},
           {"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kLong),
                             /*value_contains_null=*/false)}}};
}

std::vector<Row> NestedGood() {
  return {{Struct({Int(1), Null()}), List({Bytes("x")}), Map({{Bytes("k"), Int(1)}})},
          {Null(), Null(), Null()},
          {Struct({Int(3), Bytes("o")}), List({}), Map({})}};
}

std::function<void(RowBuilder*)> NestedBad(int which) {
  return [which](RowBuilder* b) {
    b->BeginStruct();
    if (which == 0)
      b->Null();
    else
      b->Int32(5);
    b->String("s");
    b->EndStruct();
    b->BeginList();
    b->String("t");
    if (which == 1) b->Null();
    b->EndList();
    b->BeginMap();
    b->String("k");
    if (which == 2)
      b->Null();
    else
      b->Int64(1);
    b->EndMap();
  };
}

std::vector<BadCase> Cases() {
  auto s = [](std::string v) { return [v](RowBuilder* b) { b->String(v); }; };
  return {
      {"WrongType", Flat(), FlatGood(), FlatBad(0, s("not a long")), {"id"}},
      {"NullInNotNullTopLevel",
       Flat(),
       FlatGood(),
       FlatBad(1, [](RowBuilder* b) { b->Null(); }),
       {"name"}},
      {"ShortOutOfRange",
       Flat(),
       FlatGood(),
       FlatBad(2, [](RowBuilder* b) { b->Int32(40000); }),
       {"sh"}},
      {"ByteOutOfRange",
       Flat(),
       FlatGood(),
       FlatBad(3, [](RowBuilder* b) { b->Int32(200); }),
       {"by"}},
      {"DecimalTooWide",
       Flat(),
       FlatGood(),
       FlatBad(4, [](RowBuilder* b) { b->Decimal(100000); }),
       {"d5"}},
      {"Decimal38TooWide",
       Flat(),
       FlatGood(),
       FlatBad(5,
               [](RowBuilder* b) {
                 __int128 v = 1;
                 for (int i = 0; i < 38; ++i) v *= 10;
                 b->Decimal(-v);
               }),
       {"d38"}},
      {"InvalidUtf8", Flat(), FlatGood(), FlatBad(1, s("bad \xc3\x28 utf8")), {"name"}},
      {"OverlongUtf8", Flat(), FlatGood(), FlatBad(1, s("\xc0\xaf")), {"name"}},
      {"SurrogateUtf8", Flat(), FlatGood(), FlatBad(1, s("\xed\xa0\x80")), {"name"}},
      {"NullInNotNullStructField", Nested(), NestedGood(), NestedBad(0), {"s", "req"}},
      {"NullElementInNotNullList", Nested(), NestedGood(), NestedBad(1), {"tags"}},
      {"NullValueInNotNullMap", Nested(), NestedGood(), NestedBad(2), {"m"}},
  };
}

TEST(BadInputTest, RejectedRowsLeaveBuilderUsableAndFileCorrect) {
  ReaderHarness harness;
  std::vector<BadCase> cases = Cases();
  std::vector<WrittenFile> files;
  std::vector<std::string> paths;
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::unique_ptr<RowBatch>> batch = RowBatch::Create(c.schema);
    ASSERT_TRUE(batch.ok()) << batch.status();
    RowBuilder builder(batch->get());
    ASSERT_TRUE(AppendRow(c.schema, c.good[0], &builder).ok());
    ASSERT_TRUE(AppendRow(c.schema, c.good[1], &builder).ok());
    builder.BeginRow();
    c.bad(&builder);
    const absl::Status st = builder.EndRow();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    const std::string msg(st.message());
    // The header leaves the numbering base open: accept the 0-based index (2) or 1-based (3).
    EXPECT_TRUE(std::regex_search(msg, std::regex("row [23]\\b")))
        << "message should name the row: " << msg;
    for (const std::string& part : c.message_has) {
      EXPECT_NE(msg.find(part), std::string::npos)
          << "message should name '" << part << "': " << msg;
    }
    EXPECT_EQ((*batch)->num_rows(), 2);
    const absl::Status third = AppendRow(c.schema, c.good[2], &builder);
    EXPECT_TRUE(third.ok()) << "builder unusable after a bad row: " << third;
    absl::StatusOr<WrittenFile> file = harness.WriteBatch(**batch);
    ASSERT_TRUE(file.ok()) << file.status();
    files.push_back(*file);
    paths.push_back(file->path);
  }
  absl::StatusOr<std::vector<nlohmann::json>> docs = harness.Read(paths);
  ASSERT_TRUE(docs.ok()) << docs.status();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    ExpectFileMatches((*docs)[i], files[i], cases[i].schema, cases[i].good);
  }
}

TEST(BadInputTest, AbortRowDropsPartialRow) {
  ReaderHarness harness;
  const schema::Schema schema = Nested();
  absl::StatusOr<std::unique_ptr<RowBatch>> batch = RowBatch::Create(schema);
  ASSERT_TRUE(batch.ok()) << batch.status();
  RowBuilder builder(batch->get());
  ASSERT_TRUE(AppendRow(schema, NestedGood()[0], &builder).ok());
  builder.BeginRow();
  builder.BeginStruct();
  builder.Int32(77);
  builder.AbortRow();
  ASSERT_TRUE(AppendRow(schema, NestedGood()[2], &builder).ok());
  absl::StatusOr<WrittenFile> file = harness.WriteBatch(**batch);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<std::vector<nlohmann::json>> docs = harness.Read({file->path});
  ASSERT_TRUE(docs.ok()) << docs.status();
  ExpectFileMatches(docs->front(), *file, schema, {NestedGood()[0], NestedGood()[2]});
}

}  // namespace
}  // namespace nobus::parquet::testing
