// RecordDecoder::ForProto: checking a stream's descriptor against the table.
#include <gmock/gmock.h>

#include "schema/proto_test_util.h"

namespace nobus::schema {
namespace {

using ::testing::HasSubstr;

class ProtoSchemaTest : public ProtoFixture {
 protected:
  // The error ForProto gives for `d` against `ddl`, or "OK".
  std::string Check(std::string_view ddl, const pb::DescriptorProto& d) {
    absl::Status st = Use(ddl, d);
    if (st.ok()) return "OK";
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
    return std::string(st.message());
  }
};

pb::DescriptorProto Rec() {
  pb::DescriptorProto d;
  d.set_name("Rec");
  return d;
}

TEST_F(ProtoSchemaTest, GarbageDescriptorIsRejected) {
  auto schema = *ParseDdl("id BIGINT");
  auto dec = RecordDecoder::ForProto(schema, "\xff\xff\xff");
  EXPECT_EQ(dec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dec.status().message(), HasSubstr("DescriptorProto"));
}

TEST_F(ProtoSchemaTest, FieldWithoutColumn) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "id", 1, FDP::TYPE_INT64);
  AddField(&d, "foo", 2, FDP::TYPE_INT64);
  EXPECT_EQ(Check("id BIGINT, msg STRING", d),
            "protobuf field 'foo' of message 'Rec' has no column in the table (columns: id, msg)");
}

TEST_F(ProtoSchemaTest, FieldNamesMatchIgnoringCase) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "ID", 1, FDP::TYPE_INT64);
  EXPECT_EQ(Check("id BIGINT", d), "OK");
}

TEST_F(ProtoSchemaTest, WrongScalarType) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "id", 1, FDP::TYPE_STRING);
  EXPECT_EQ(Check("id BIGINT", d),
            "column 'id' (BIGINT): protobuf field 'id' has type string (expected int64, sint64 or "
            "sfixed64)");
}

TEST_F(ProtoSchemaTest, NotNullColumnNeedsRequiredField) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "id", 1, FDP::TYPE_INT64);
  EXPECT_EQ(
      Check("id BIGINT NOT NULL", d),
      "column 'id' (BIGINT): protobuf field 'id' must be `required` (the column is NOT NULL)");
}

TEST_F(ProtoSchemaTest, NotNullColumnWithoutField) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "msg", 1, FDP::TYPE_STRING);
  EXPECT_THAT(Check("id BIGINT NOT NULL, msg STRING", d),
              HasSubstr("NOT NULL column 'id' has no field in protobuf message 'Rec'"));
}

TEST_F(ProtoSchemaTest, LenientWhereHarmless) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "a", 1, FDP::TYPE_INT32, FDP::LABEL_REQUIRED);  // nullable column, required field
  AddField(&d, "day", 2, FDP::TYPE_INT32);
  AddField(&d, "ts", 3, FDP::TYPE_INT64);
  AddField(&d, "d", 4, FDP::TYPE_FLOAT);
  AddField(&d, "b", 5, FDP::TYPE_STRING);
  EXPECT_EQ(Check("a INT, day DATE, ts TIMESTAMP_NTZ, d DOUBLE, b BINARY, absent STRING", d), "OK");
}

TEST_F(ProtoSchemaTest, RepeatedMustMatchArrays) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "tags", 1, FDP::TYPE_STRING);
  EXPECT_EQ(Check("tags ARRAY<STRING>", d),
            "column 'tags' (ARRAY<STRING>): protobuf field 'tags' must be repeated");
  pb::DescriptorProto e = Rec();
  AddField(&e, "id", 1, FDP::TYPE_INT64, FDP::LABEL_REPEATED);
  EXPECT_EQ(Check("id BIGINT", e),
            "column 'id' (BIGINT): protobuf field 'id' must not be repeated");
}

TEST_F(ProtoSchemaTest, MapColumnNeedsMapField) {
  pb::DescriptorProto d = Rec();
  pb::DescriptorProto* fake = d.add_nested_type();
  fake->set_name("Pair");
  AddField(fake, "key", 1, FDP::TYPE_STRING);
  AddField(fake, "value", 2, FDP::TYPE_INT32);
  AddField(&d, "m", 1, FDP::TYPE_MESSAGE, FDP::LABEL_REPEATED, "Pair");
  EXPECT_THAT(Check("m MAP<STRING, INT>", d), HasSubstr("must be a map"));
}

TEST_F(ProtoSchemaTest, MapValueTypeIsChecked) {
  pb::DescriptorProto d = Rec();
  AddMapField(&d, "m", 1, FDP::TYPE_STRING, FDP::TYPE_STRING);
  EXPECT_EQ(
      Check("m MAP<STRING, INT>", d),
      "column 'm.value' (INT): protobuf field 'value' has type string (expected int32, sint32 "
      "or sfixed32)");
}

TEST_F(ProtoSchemaTest, NestedTypeNamesResolveRelativeAndQualified) {
  for (std::string ref : {"Inner", "Rec.Inner", ".t.Rec.Inner"}) {
    pb::DescriptorProto d = Rec();
    pb::DescriptorProto* inner = d.add_nested_type();
    inner->set_name("Inner");
    AddField(inner, "x", 1, FDP::TYPE_INT32);
    AddField(&d, "s", 1, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, ref);
    // Sent as written (not through CopyTo), so the reference form is what the decoder sees.
    auto schema = *ParseDdl("s STRUCT<x: INT>");
    auto dec = RecordDecoder::ForProto(schema, d.SerializeAsString());
    EXPECT_TRUE(dec.ok()) << ref << ": " << dec.status();
  }
}

TEST_F(ProtoSchemaTest, ImportedTypesAreRejected) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "ts", 1, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, ".google.protobuf.Timestamp");
  auto schema = *ParseDdl("ts STRUCT<seconds: BIGINT>");
  auto dec = RecordDecoder::ForProto(schema, d.SerializeAsString());
  EXPECT_THAT(dec.status().message(), HasSubstr("not a message nested in the descriptor"));
}

TEST_F(ProtoSchemaTest, NestedMismatchNamesThePath) {
  pb::DescriptorProto d = Rec();
  pb::DescriptorProto* inner = d.add_nested_type();
  inner->set_name("Inner");
  AddField(inner, "x", 1, FDP::TYPE_BOOL);
  AddField(&d, "s", 1, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, "Inner");
  EXPECT_EQ(Check("s STRUCT<x: INT>", d),
            "column 's.x' (INT): protobuf field 'x' has type bool (expected int32, sint32 or "
            "sfixed32)");
}

TEST_F(ProtoSchemaTest, DuplicateFieldsForOneColumn) {
  pb::DescriptorProto d = Rec();
  AddField(&d, "id", 1, FDP::TYPE_INT64);
  AddField(&d, "ID", 2, FDP::TYPE_INT64);
  auto schema = *ParseDdl("id BIGINT");
  auto dec = RecordDecoder::ForProto(schema, d.SerializeAsString());
  EXPECT_THAT(dec.status().message(), HasSubstr("named by two protobuf fields"));
}

}  // namespace
}  // namespace nobus::schema
