#include "schema/delta_json.h"

#include <gtest/gtest.h>

namespace nobus::schema {
namespace {

TEST(DeltaJsonTest, ParsesPrimitivesAndNullability) {
  auto s = ParseSchemaJson(
      R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}},)"
      R"j({"name":"d","type":"decimal(38,18)","nullable":true,"metadata":{"comment":"x"}},)j"
      R"({"name":"t","type":"timestamp_ntz","nullable":true,"metadata":{}}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->fields.size(), 3u);
  EXPECT_EQ(s->fields[0].type.kind, TypeKind::kLong);
  EXPECT_FALSE(s->fields[0].nullable);
  EXPECT_EQ(s->fields[1].type, Decimal(38, 18));
  EXPECT_EQ(s->fields[2].type.kind, TypeKind::kTimestampNtz);
}

TEST(DeltaJsonTest, ParsesNestedTypes) {
  auto s = ParseSchemaJson(
      R"({"type":"struct","fields":[{"name":"m","type":{"type":"map","keyType":"string",)"
      R"("valueType":{"type":"array","elementType":{"type":"struct","fields":[{"name":"x",)"
      R"("type":"short","nullable":true,"metadata":{}}]},"containsNull":false},)"
      R"("valueContainsNull":true},"nullable":true,"metadata":{}}]})");
  ASSERT_TRUE(s.ok()) << s.status();
  DataType expected = Map(Primitive(TypeKind::kString),
                          Array(Struct({Field{"x", Primitive(TypeKind::kShort), true}}), false), true);
  EXPECT_EQ(s->fields[0].type, expected);
}

TEST(DeltaJsonTest, RoundTripsEveryType) {
  Schema schema{{
      {"s", Primitive(TypeKind::kString), true}, {"l", Primitive(TypeKind::kLong), false},
      {"i", Primitive(TypeKind::kInteger), true}, {"sh", Primitive(TypeKind::kShort), true},
      {"b", Primitive(TypeKind::kByte), true}, {"f", Primitive(TypeKind::kFloat), true},
      {"d", Primitive(TypeKind::kDouble), true}, {"bo", Primitive(TypeKind::kBoolean), true},
      {"bi", Primitive(TypeKind::kBinary), true}, {"da", Primitive(TypeKind::kDate), true},
      {"ts", Primitive(TypeKind::kTimestamp), true}, {"tn", Primitive(TypeKind::kTimestampNtz), true},
      {"de", Decimal(5, 3), true},
      {"st", Struct({{"a", Array(Primitive(TypeKind::kShort), true), true}}), true},
      {"m", Map(Primitive(TypeKind::kString), Primitive(TypeKind::kInteger), false), true},
  }};
  auto parsed = ParseSchemaJson(SchemaToJson(schema));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, schema);
}

TEST(DeltaJsonTest, WritesSparkFieldOrder) {
  Schema schema{{{"id", Primitive(TypeKind::kLong), false}}};
  EXPECT_EQ(SchemaToJson(schema),
            R"({"type":"struct","fields":[{"name":"id","type":"long","nullable":false,"metadata":{}}]})");
}

TEST(DeltaJsonTest, RejectsUnknownTypeNamingThePath) {
  auto s = ParseSchemaJson(
      R"({"type":"struct","fields":[{"name":"a","type":{"type":"struct","fields":[)"
      R"({"name":"b","type":"interval","nullable":true,"metadata":{}}]},"nullable":true}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("a.b"), std::string::npos) << s.status();
}

TEST(DeltaJsonTest, RejectsMalformedJson) {
  EXPECT_FALSE(ParseSchemaJson(R"({"type":"struct","fields":[)").ok());
  EXPECT_FALSE(ParseSchemaJson(R"([1,2])").ok());
  EXPECT_FALSE(ParseSchemaJson(R"({"type":"struct","fields":[{"name":"a"}]})").ok());
  EXPECT_FALSE(ParseSchemaJson(R"j({"type":"struct","fields":[{"name":"a","type":"decimal(x,1)"}]})j").ok());
}

TEST(DeltaJsonTest, RejectsExcessiveNesting) {
  std::string type = "\"long\"";
  for (int i = 0; i < 100; ++i) type = Cat(R"({"type":"array","elementType":)", type, "}");
  auto s = ParseSchemaJson(Cat(R"({"type":"struct","fields":[{"name":"a","type":)", type, "}]}"));
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace nobus::schema
