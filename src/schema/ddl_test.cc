#include "schema/ddl.h"

#include "gtest/gtest.h"

namespace nobus::schema {
namespace {

TEST(Ddl, ParsesEveryTypeAndNesting) {
  auto schema = ParseDdl(
      "id BIGINT NOT NULL, msg string, n int, s smallint, b TINYINT, f FLOAT, d DOUBLE, "
      "ok BOOLEAN, raw BINARY, day DATE, ts TIMESTAMP, local TIMESTAMP_NTZ, amount DECIMAL(10,2), "
      "tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>, "
      "loc STRUCT<lat: DOUBLE NOT NULL, lon DOUBLE, hist ARRAY<STRUCT<x: INT>>>, "
      "`odd.name` VARCHAR(20) COMMENT 'free text'");
  ASSERT_TRUE(schema.ok()) << schema.status();
  ASSERT_EQ(schema->fields.size(), 17u);
  EXPECT_FALSE(schema->fields[0].nullable);
  EXPECT_EQ(schema->fields[0].type, Primitive(TypeKind::kLong));
  EXPECT_EQ(schema->fields[12].type, Decimal(10, 2));
  EXPECT_EQ(schema->fields[14].type, Map(Primitive(TypeKind::kString), Primitive(TypeKind::kLong)));
  EXPECT_EQ(TypeName(schema->fields[15].type),
            "struct<lat:double,lon:double,hist:array<struct<x:integer>>>");
  EXPECT_FALSE(schema->fields[15].type.fields[0].nullable);
  EXPECT_EQ(schema->fields[16].name, "odd.name");
  EXPECT_EQ(schema->fields[16].type, Primitive(TypeKind::kString));
}

TEST(Ddl, FormatRoundTrips) {
  const char* text =
      "id BIGINT NOT NULL, tags ARRAY<STRING>, m MAP<STRING,DECIMAL(38,18)>, "
      "s STRUCT<a: INT NOT NULL, `b.c`: DATE>";
  auto schema = ParseDdl(text);
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_EQ(FormatDdl(*schema), text);
  EXPECT_EQ(*ParseDdl(FormatDdl(*schema)), *schema);
}

TEST(Ddl, ErrorsNameThePositionAndTheProblem) {
  EXPECT_EQ(ParseDdl("id BIGINT, msg STRIN").status().message(),
            "column list at character 16: expected a type for column 'msg', found 'STRIN'");
  EXPECT_EQ(ParseDdl("tags ARRAY<STRING").status().message(),
            "column list at character 18: expected '>' to close ARRAY<...>");
  EXPECT_EQ(ParseDdl("id BIGINT NOT").status().message(),
            "column list at character 14: expected NULL after NOT");
  EXPECT_EQ(ParseDdl("id BIGINT id2 INT").status().message(),
            "column list at character 11: expected ',' or the end of the column list");
  EXPECT_EQ(ParseDdl("").status().message(), "column list at character 1: expected a column name");
}

TEST(Ddl, SchemaRulesStillApply) {
  EXPECT_EQ(ParseDdl("id BIGINT, ID INT").status().message(),
            "duplicate column name 'ID' (names are case-insensitive)");
  EXPECT_EQ(ParseDdl("d DECIMAL(40,2)").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseDdl("d DECIMAL"), (Schema{{{"d", Decimal(10, 0)}}}));
}

TEST(Ddl, FormatCatalogTypeIsSparkCatalogString) {
  auto s = ParseDdl(
      "a BIGINT, b DECIMAL(10,2), c MAP<STRING, ARRAY<INT>>, d STRUCT<x: TIMESTAMP_NTZ NOT NULL, "
      "`y-z`: TINYINT>");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(FormatCatalogType(s->fields[0].type), "bigint");
  EXPECT_EQ(FormatCatalogType(s->fields[1].type), "decimal(10,2)");
  EXPECT_EQ(FormatCatalogType(s->fields[2].type), "map<string,array<int>>");
  EXPECT_EQ(FormatCatalogType(s->fields[3].type), "struct<x:timestamp_ntz,`y-z`:tinyint>");
  EXPECT_EQ(FormatDdlType(s->fields[3].type), "STRUCT<x: TIMESTAMP_NTZ NOT NULL, `y-z`: TINYINT>");
}

}  // namespace
}  // namespace nobus::schema
