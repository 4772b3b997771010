#include "server/uc_json.h"

#include <gtest/gtest.h>

#include "schema/ddl.h"

namespace nobus::server {
namespace {

using nlohmann::json;
using schema::TypeKind;

json Body(json columns) {
  return {{"catalog_name", "Main"},  {"schema_name", "default"},      {"name", "events"},
          {"table_type", "MANAGED"}, {"data_source_format", "DELTA"}, {"columns", columns}};
}

TEST(UcJsonTest, ParsesTypeTextColumns) {
  auto r = ParseCreateTable(
      Body(json::array({{{"name", "id"}, {"type_text", "bigint"}, {"nullable", false}},
                        {{"name", "amount"}, {"type_text", "decimal(10,2)"}},
                        {{"name", "tags"}, {"type_text", "array<string>"}},
                        {{"name", "s"}, {"type_text", "struct<a:int,b:timestamp>"}},
                        {{"name", "day"}, {"type_text", "date"}, {"partition_index", 0}}})));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->name.ToString(), "main.default.events");
  EXPECT_EQ(schema::FormatDdl(r->schema),
            "id BIGINT NOT NULL, amount DECIMAL(10,2), tags ARRAY<STRING>, "
            "s STRUCT<a: INT, b: TIMESTAMP>, day DATE");
  EXPECT_EQ(r->partition_columns, std::vector<std::string>{"day"});
}

TEST(UcJsonTest, TypeNameAndDecimalPrecision) {
  auto r = ParseCreateTable(Body(json::array(
      {{{"name", "a"}, {"type_name", "LONG"}},
       {{"name", "b"}, {"type_name", "DECIMAL"}, {"type_precision", 20}, {"type_scale", 3}}})));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(schema::FormatDdl(r->schema), "a BIGINT, b DECIMAL(20,3)");
}

TEST(UcJsonTest, TypeJsonKeepsNestedNullability) {
  json field = {{"name", "s"},
                {"type",
                 {{"type", "struct"},
                  {"fields", json::array({{{"name", "x"},
                                           {"type", "integer"},
                                           {"nullable", false},
                                           {"metadata", json::object()}}})}}},
                {"nullable", true},
                {"metadata", json::object()}};
  auto r = ParseCreateTable(Body(json::array({{{"name", "s"}, {"type_json", field.dump()}}})));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(schema::FormatDdl(r->schema), "s STRUCT<x: INT NOT NULL>");
}

TEST(UcJsonTest, RejectsOtherTableTypes) {
  json body = Body(json::array({{{"name", "a"}, {"type_text", "int"}}}));
  body["table_type"] = "EXTERNAL";
  auto r = ParseCreateTable(body);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("table_type 'EXTERNAL'"), std::string::npos) << r.status();
  body["table_type"] = "MANAGED";
  body["data_source_format"] = "PARQUET";
  EXPECT_NE(ParseCreateTable(body).status().message().find("data_source_format"),
            std::string::npos);
}

TEST(UcJsonTest, RejectsUnknownTypeNamingColumn) {
  auto r = ParseCreateTable(Body(json::array({{{"name", "a"}, {"type_text", "varchar2"}}})));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("column 'a'"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("varchar2"), std::string::npos);
}

TEST(UcJsonTest, RejectsMissingPieces) {
  EXPECT_NE(ParseCreateTable(json::object()).status().message().find("catalog_name"),
            std::string::npos);
  EXPECT_NE(ParseCreateTable(Body(json::array())).status().message().find("columns"),
            std::string::npos);
  EXPECT_NE(ParseCreateTable(Body(json::array({{{"name", "a"}}})))
                .status()
                .message()
                .find("needs a type"),
            std::string::npos);
  EXPECT_NE(ParseCreateTable(Body(json::array({{{"type_text", "int"}}})))
                .status()
                .message()
                .find("columns[0].name"),
            std::string::npos);
}

TEST(UcJsonTest, RejectsBadNames) {
  json body = Body(json::array({{{"name", "a"}, {"type_text", "int"}}}));
  body["schema_name"] = "bad-name";
  EXPECT_EQ(ParseCreateTable(body).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(UcJsonTest, RejectsDuplicatePartitionIndex) {
  auto r = ParseCreateTable(
      Body(json::array({{{"name", "a"}, {"type_text", "int"}, {"partition_index", 0}},
                        {{"name", "b"}, {"type_text", "int"}, {"partition_index", 0}}})));
  EXPECT_NE(r.status().message().find("used twice"), std::string::npos) << r.status();
}

TEST(UcJsonTest, UcTypeNameIsTheColumnTypeNameEnum) {
  auto s = schema::ParseDdl("a BIGINT, b DECIMAL(10,2), c MAP<STRING, ARRAY<INT>>");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(UcTypeName(s->fields[0].type), "LONG");
  EXPECT_EQ(UcTypeName(s->fields[1].type), "DECIMAL");
  EXPECT_EQ(UcTypeName(s->fields[2].type), "MAP");
}

TEST(UcJsonTest, TableInfoShape) {
  table::TableInfo info;
  info.name = {"main", "default", "events"};
  info.schema = *schema::ParseDdl("id BIGINT NOT NULL, d DECIMAL(5,1), day DATE");
  info.partition_columns = {"day"};
  info.storage_location = "/data/tables/main/default/events";
  info.table_id = "abc";
  info.created_at_ms = 42;
  json j = TableInfoToJson(info);
  EXPECT_EQ(j["full_name"], "main.default.events");
  EXPECT_EQ(j["catalog_name"], "main");
  EXPECT_EQ(j["table_type"], "MANAGED");
  EXPECT_EQ(j["data_source_format"], "DELTA");
  EXPECT_EQ(j["storage_location"], "/data/tables/main/default/events");
  EXPECT_EQ(j["table_id"], "abc");
  EXPECT_EQ(j["created_at"], 42);
  ASSERT_EQ(j["columns"].size(), 3u);
  EXPECT_EQ(j["columns"][0]["type_text"], "bigint");
  EXPECT_EQ(j["columns"][0]["type_name"], "LONG");
  EXPECT_EQ(j["columns"][0]["nullable"], false);
  EXPECT_EQ(j["columns"][0]["position"], 0);
  EXPECT_FALSE(j["columns"][0].contains("partition_index"));
  EXPECT_EQ(j["columns"][1]["type_precision"], 5);
  EXPECT_EQ(j["columns"][2]["partition_index"], 0);
  json type_json = json::parse(j["columns"][0]["type_json"].get<std::string>());
  EXPECT_EQ(type_json["type"], "long");
  EXPECT_EQ(type_json["nullable"], false);
}

TEST(UcJsonTest, TableInfoRoundTripsThroughCreate) {
  table::TableInfo info;
  info.name = {"c", "s", "t"};
  info.schema = *schema::ParseDdl("id BIGINT NOT NULL, m MAP<STRING, STRUCT<q: INT NOT NULL>>");
  json j = TableInfoToJson(info);
  auto r = ParseCreateTable(j);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->schema, info.schema);
}

}  // namespace
}  // namespace nobus::server
