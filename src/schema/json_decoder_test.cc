#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "schema/ddl.h"
#include "schema/record_decoder.h"
#include "schema/test_sink.h"

namespace nobus::schema {
namespace {

using ::testing::HasSubstr;

class JsonDecoderTest : public ::testing::Test {
 protected:
  void Use(std::string_view ddl) {
    auto schema = ParseDdl(ddl);
    ASSERT_TRUE(schema.ok()) << schema.status();
    schema_ = *schema;
    auto dec = RecordDecoder::ForJson(schema_);
    ASSERT_TRUE(dec.ok()) << dec.status();
    decoder_ = *std::move(dec);
  }

  // Decodes one record and replays it: the trace of the row, or "ERROR: <message>".
  std::string Row(std::string_view json) { return DecodeTrace(*decoder_, schema_, json); }

  Schema schema_;
  std::unique_ptr<RecordDecoder> decoder_;
};

TEST_F(JsonDecoderTest, ColumnsByNameInAnyOrder) {
  Use("id BIGINT NOT NULL, msg STRING, ok BOOLEAN");
  EXPECT_EQ(decoder_->format(), RecordFormat::kJson);
  EXPECT_EQ(Row(R"({"msg":"hi","ok":true,"id":5})"), "row{ i64:5 str:hi true } ");
}

TEST_F(JsonDecoderTest, MissingNullableColumnsAreNull) {
  Use("id BIGINT NOT NULL, msg STRING, ok BOOLEAN");
  EXPECT_EQ(Row(R"({"id":1})"), "row{ i64:1 null null } ");
  EXPECT_EQ(Row(R"({"id":1,"msg":null})"), "row{ i64:1 null null } ");
}

TEST_F(JsonDecoderTest, NamesFallBackToCaseInsensitive) {
  Use("Id BIGINT, id2 STRING");
  EXPECT_EQ(Row(R"({"ID":1,"Id2":"x"})"), "row{ i64:1 str:x } ");
}

TEST_F(JsonDecoderTest, TopLevelErrors) {
  Use("id BIGINT NOT NULL, msg STRING, ts TIMESTAMP");
  EXPECT_EQ(Row("[1]"), "ERROR: record is not a JSON object");
  EXPECT_EQ(Row("42"), "ERROR: record is not a JSON object");
  EXPECT_THAT(Row(R"({"id":1,)"), HasSubstr("ERROR: malformed JSON: "));
  EXPECT_THAT(Row(""), HasSubstr("ERROR: malformed JSON: "));
  EXPECT_THAT(Row(R"({"id":1} {"id":2})"), HasSubstr("ERROR: malformed JSON: "));
  EXPECT_EQ(Row(R"({"id":1,"foo":2})"), "ERROR: unknown column 'foo' (table columns: id, msg, ts)");
  EXPECT_EQ(Row(R"({"msg":"x"})"), "ERROR: missing value for NOT NULL column 'id'");
  EXPECT_EQ(Row(R"({"id":null})"), "ERROR: column 'id': null for a NOT NULL value");
  EXPECT_EQ(Row(R"({"id":1,"ID":2})"), "ERROR: column 'id': given more than once");
}

TEST_F(JsonDecoderTest, InvalidUtf8IsMalformed) {
  Use("msg STRING");
  EXPECT_THAT(Row("{\"msg\":\"\xff\xfe\"}"), HasSubstr("ERROR: malformed JSON"));
  EXPECT_THAT(Row(R"({"msg":"\ud800"})"), HasSubstr("ERROR: malformed JSON"));
  EXPECT_EQ(Row(R"({"msg":"\u00e9\n"})"), "row{ str:é\n } ");
}

TEST_F(JsonDecoderTest, NestedTypeErrorNamesThePath) {
  Use("payload STRUCT<tags: ARRAY<INT>>");
  EXPECT_EQ(Row(R"({"payload":{"tags":[1,"x"]}})"),
            "ERROR: column 'payload.tags.element': expected INT, got string \"x\"");
  EXPECT_EQ(Row(R"({"payload":{"tags":[1,2],"z":1}})"),
            "ERROR: column 'payload': unknown field 'z' (fields: tags)");
  EXPECT_EQ(Row(R"({"payload":[1]})"),
            "ERROR: column 'payload': expected STRUCT, got a non-object");
  EXPECT_EQ(Row(R"({"payload":{"tags":[1,2]}})"), "row{ { [ i32:1 i32:2 ] } } ");
}

TEST_F(JsonDecoderTest, IntegerRanges) {
  Use("i INT, s SMALLINT, t TINYINT, l BIGINT");
  EXPECT_EQ(Row(R"({"i":-2147483648,"s":32767,"t":-128,"l":9223372036854775807})"),
            "row{ i32:-2147483648 i32:32767 i32:-128 i64:9223372036854775807 } ");
  EXPECT_EQ(Row(R"({"t":128})"), "ERROR: column 't': value 128 out of range for TINYINT");
  EXPECT_EQ(Row(R"({"s":-32769})"), "ERROR: column 's': value -32769 out of range for SMALLINT");
  EXPECT_EQ(Row(R"({"i":2147483648})"), "ERROR: column 'i': value 2147483648 out of range for INT");
  EXPECT_EQ(Row(R"({"l":9223372036854775808})"),
            "ERROR: column 'l': value 9223372036854775808 out of range for BIGINT");
  EXPECT_EQ(Row(R"({"i":1.5})"), "ERROR: column 'i': expected INT, got number 1.5");
  EXPECT_EQ(Row(R"({"i":"1"})"), "ERROR: column 'i': expected INT, got string \"1\"");
  EXPECT_EQ(Row(R"({"i":true})"), "ERROR: column 'i': expected INT, got true");
}

TEST_F(JsonDecoderTest, BigintAlsoFromDigitString) {
  Use("l BIGINT");
  EXPECT_EQ(Row(R"({"l":"-12345678901234"})"), "row{ i64:-12345678901234 } ");
  EXPECT_EQ(Row(R"({"l":"12a"})"), "ERROR: column 'l': expected BIGINT, got string \"12a\"");
}

TEST_F(JsonDecoderTest, FloatsAndSpecialValues) {
  Use("f FLOAT, d DOUBLE");
  EXPECT_EQ(Row(R"({"f":1.5,"d":-2e3})"), "row{ f32:1.500000 f64:-2000.000000 } ");
  EXPECT_EQ(Row(R"({"f":3,"d":"Infinity"})"), "row{ f32:3.000000 f64:inf } ");
  EXPECT_EQ(Row(R"({"f":"-Infinity","d":"NaN"})"), "row{ f32:-inf f64:nan } ");
  EXPECT_EQ(Row(R"({"f":1e39})"), "ERROR: column 'f': value 1e39 out of range for FLOAT");
  EXPECT_EQ(Row(R"({"d":"1.5"})"), "ERROR: column 'd': expected DOUBLE, got string \"1.5\"");
}

TEST_F(JsonDecoderTest, DecimalsAreExact) {
  Use("d DECIMAL(5,1), big DECIMAL(38,0)");
  EXPECT_EQ(Row(R"({"d":1.50})"), "row{ dec:15 null } ");
  EXPECT_EQ(Row(R"({"d":"-1234.5"})"), "row{ dec:-12345 null } ");
  EXPECT_EQ(Row(R"({"big":12345678901234567890123456789012345678})"),
            "row{ null dec:12345678901234567890123456789012345678 } ");
  EXPECT_EQ(Row(R"({"d":1.55})"),
            "ERROR: column 'd': value 1.55 has more than 1 decimal places (DECIMAL(5,1) would "
            "round it)");
  EXPECT_EQ(Row(R"({"d":12345})"), "ERROR: column 'd': value 12345 does not fit DECIMAL(5,1)");
  EXPECT_EQ(Row(R"({"d":"x"})"), "ERROR: column 'd': expected DECIMAL(5,1), got string \"x\"");
}

TEST_F(JsonDecoderTest, DatesAndTimestamps) {
  Use("d DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ");
  EXPECT_EQ(
      Row(R"({"d":"2024-02-29","ts":"2025-01-02T03:04:05.123456Z","ntz":"1970-01-01T00:00:01"})"),
      "row{ i32:19782 i64:1735787045123456 i64:1000000 } ");
  EXPECT_EQ(Row(R"({"d":-1,"ts":1735787045123456,"ntz":-5})"),
            "row{ i32:-1 i64:1735787045123456 i64:-5 } ");
  EXPECT_EQ(Row(R"({"ts":"2025-01-02T04:04:05+01:00"})"), "row{ null i64:1735787045000000 null } ");
  EXPECT_THAT(Row(R"({"d":"2023-02-29"})"), HasSubstr("ERROR: column 'd': expected DATE"));
  EXPECT_THAT(Row(R"({"d":2147483648})"), HasSubstr("out of range for DATE"));
  EXPECT_THAT(Row(R"({"ts":"2025-01-02 25:00:00"})"),
              HasSubstr("ERROR: column 'ts': expected TIMESTAMP"));
  EXPECT_THAT(Row(R"({"ntz":"2025-01-02T00:00:00+01:00"})"),
              HasSubstr("ERROR: column 'ntz': expected TIMESTAMP_NTZ"));
  EXPECT_THAT(Row(R"({"ts":1.5})"), HasSubstr("expected TIMESTAMP, got number 1.5"));
}

TEST_F(JsonDecoderTest, BinaryIsBase64) {
  Use("b BINARY");
  EXPECT_EQ(Row(R"({"b":"aGk="})"), "row{ bin:hi } ");
  EXPECT_THAT(Row(R"({"b":"a"})"), HasSubstr("ERROR: column 'b': expected base64 for BINARY"));
}

TEST_F(JsonDecoderTest, ArraysMapsAndStructs) {
  Use("a ARRAY<STRING>, m MAP<STRING, INT>, s STRUCT<x: INT NOT NULL, y: ARRAY<STRUCT<z: "
      "STRING>>>");
  EXPECT_EQ(Row(R"({"a":["p",null],"m":{"k":1,"j":null},"s":{"y":[{"z":"q"},null],"x":3}})"),
            "row{ [ str:p null ] map[ str:k i32:1 str:j null ] { i32:3 [ { str:q } null ] } } ");
  EXPECT_EQ(Row(R"({"a":[],"m":{},"s":null})"), "row{ [ ] map[ ] null } ");
  EXPECT_EQ(Row(R"({"s":{}})"), "ERROR: missing value for NOT NULL column 's.x'");
}

TEST_F(JsonDecoderTest, MapAsArrayOfKeyValue) {
  Use("m MAP<INT, STRING>");
  EXPECT_EQ(Row(R"({"m":[{"key":1,"value":"a"},{"value":"b","key":2},{"key":3}]})"),
            "row{ map[ i32:1 str:a i32:2 str:b i32:3 null ] } ");
  EXPECT_EQ(Row(R"({"m":{"7":"x"}})"), "row{ map[ i32:7 str:x ] } ");
  EXPECT_EQ(Row(R"({"m":[{"value":"a"}]})"), "ERROR: column 'm': map entry without \"key\"");
  EXPECT_EQ(Row(R"({"m":[{"key":null,"value":"a"}]})"),
            "ERROR: column 'm.key': null for a NOT NULL value");
  EXPECT_THAT(Row(R"({"m":[{"key":1,"v":"a"}]})"), HasSubstr("unexpected field \"v\""));
  EXPECT_EQ(Row(R"({"m":{"x":"a"}})"), "ERROR: column 'm.key': expected INT, got key \"x\"");
}

TEST_F(JsonDecoderTest, NotNullElementsAndValues) {
  Schema schema;
  schema.fields.push_back({"a", Array(Primitive(TypeKind::kInteger), false), true});
  schema.fields.push_back(
      {"m", Map(Primitive(TypeKind::kString), Primitive(TypeKind::kInteger), false), true});
  schema_ = schema;
  decoder_ = *RecordDecoder::ForJson(schema_);
  EXPECT_EQ(Row(R"({"a":[1,null]})"), "ERROR: column 'a.element': null for a NOT NULL value");
  EXPECT_EQ(Row(R"({"m":{"k":null}})"), "ERROR: column 'm.value': null for a NOT NULL value");
}

TEST_F(JsonDecoderTest, FailedRecordLeavesBlobUnchanged) {
  Use("id BIGINT NOT NULL, s STRUCT<x: INT>");
  std::string blob;
  RowBlobWriter w(&blob);
  ASSERT_TRUE(decoder_->Decode(R"({"id":1})", &w).ok());
  std::string before = blob;
  EXPECT_FALSE(decoder_->Decode(R"({"id":2,"s":{"x":"bad"}})", &w).ok());
  EXPECT_EQ(blob, before);
  EXPECT_EQ(w.num_rows(), 1);
}

TEST_F(JsonDecoderTest, ManyRecordsInOneBlob) {
  Use("id BIGINT NOT NULL, msg STRING");
  std::string blob;
  RowBlobWriter w(&blob);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(decoder_->Decode(Cat("{\"id\":", i, ",\"msg\":\"m", i, "\"}"), &w).ok());
  }
  TraceSink sink;
  ASSERT_TRUE(ReplayRows(schema_, {}, blob, &sink).ok());
  EXPECT_EQ(sink.trace, "row{ i64:0 str:m0 } row{ i64:1 str:m1 } row{ i64:2 str:m2 } ");
}

}  // namespace
}  // namespace nobus::schema
