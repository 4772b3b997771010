#include "kafka/record_columns.h"

#include <gtest/gtest.h>

#include "schema/ddl.h"
#include "schema/record_decoder.h"

namespace nobus::kafka {
namespace {

schema::Schema Ddl(std::string_view ddl) {
  absl::StatusOr<schema::Schema> s = schema::ParseDdl(ddl);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

Record MakeRecord(std::optional<std::string_view> key, std::string_view value) {
  Record r;
  r.key = key;
  r.value = value;
  r.timestamp_ms = 1733443200123;
  return r;
}

// The value with the columns of `ddl`, and whether the table's JSON decoder takes it.
std::string With(std::string_view ddl, const Record& r, int32_t partition = 0,
                 absl::Status* decoded = nullptr) {
  schema::Schema s = Ddl(ddl);
  absl::StatusOr<RecordColumns> c = FindRecordColumns(s);
  EXPECT_TRUE(c.ok()) << c.status();
  std::string out;
  absl::Status st = WithRecordColumns(*c, r, partition, &out);
  EXPECT_TRUE(st.ok()) << st;
  auto decoder = schema::RecordDecoder::ForJson(s);
  std::string blob;
  schema::RowBlobWriter w(&blob);
  absl::Status d = (*decoder)->Decode(out, &w);
  if (decoded != nullptr) *decoded = d;
  else EXPECT_TRUE(d.ok()) << d << " for " << out;
  return out;
}

TEST(RecordColumnsTest, NoneByDefault) {
  absl::StatusOr<RecordColumns> c = FindRecordColumns(Ddl("id BIGINT, key STRING"));
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->any());
}

TEST(RecordColumnsTest, KeyTimestampPartitionSplicedFirst) {
  EXPECT_EQ(With("id BIGINT, _kafka_key STRING, _kafka_timestamp TIMESTAMP, _kafka_partition INT",
                 MakeRecord("dev-\"7\"", R"( {"id": 1})"), 3),
            R"( {"_kafka_key":"dev-\"7\"","_kafka_timestamp":1733443200123000,"_kafka_partition":3,"id": 1})");
  EXPECT_EQ(With("id BIGINT, _kafka_timestamp BIGINT", MakeRecord(std::nullopt, "{}")),
            R"({"_kafka_timestamp":1733443200123})");
  EXPECT_EQ(With("id BIGINT, _kafka_key STRING", MakeRecord(std::nullopt, R"({"id":2})")),
            R"({"_kafka_key":null,"id":2})");
}

TEST(RecordColumnsTest, BinaryKeyAndHeaders) {
  Record r = MakeRecord(std::string_view("\xff\x00\x01", 3), R"({"id":1})");
  r.headers = {{"trace", "a"}, {"bin", std::string_view("\xfe", 1)}, {"trace", "b"},
               {"none", std::nullopt}};
  EXPECT_EQ(With("id BIGINT, _kafka_key BINARY, _kafka_headers MAP<STRING, BINARY>", r),
            R"({"_kafka_key":"/wAB","_kafka_headers":{"bin":"/g==","none":null,"trace":"Yg=="},"id":1})");
  Record text = r;
  text.headers = {{"trace", "a"}, {"trace", "b"}};
  EXPECT_EQ(With("id BIGINT, _kafka_headers MAP<STRING, STRING>", text),
            R"({"_kafka_headers":{"trace":"b"},"id":1})");
}

TEST(RecordColumnsTest, TextThatIsNotUtf8IsRefused) {
  absl::StatusOr<RecordColumns> c = FindRecordColumns(Ddl("_kafka_key STRING"));
  std::string out;
  absl::Status st = WithRecordColumns(*c, MakeRecord(std::string_view("\xff", 1), "{}"), 0, &out);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("key is not UTF-8"), std::string::npos) << st;
  EXPECT_NE(st.message().find("BINARY"), std::string::npos) << st;
}

TEST(RecordColumnsTest, WrongColumnTypesAreNamed) {
  for (std::string_view ddl : {"_kafka_key INT", "_kafka_timestamp STRING",
                               "_kafka_headers MAP<STRING, INT>", "_kafka_partition STRING"}) {
    absl::StatusOr<RecordColumns> c = FindRecordColumns(Ddl(ddl));
    ASSERT_FALSE(c.ok()) << ddl;
    EXPECT_NE(std::string(c.status().message()).find(ddl.substr(0, ddl.find(' '))), std::string::npos)
        << c.status();
    EXPECT_NE(c.status().message().find("must be"), std::string::npos) << c.status();
  }
}

TEST(RecordColumnsTest, ValueNamingTheColumnItselfIsADuplicate) {
  absl::Status decoded;
  With("id BIGINT, _kafka_key STRING", MakeRecord("k", R"({"id":1,"_kafka_key":"mine"})"), 0,
       &decoded);
  EXPECT_NE(decoded.message().find("given more than once"), std::string::npos) << decoded;
}

TEST(RecordColumnsTest, NonObjectValueIsLeftToTheDecoder) {
  absl::Status decoded;
  EXPECT_EQ(With("id BIGINT, _kafka_key STRING", MakeRecord("k", "[1]"), 0, &decoded), "[1]");
  EXPECT_FALSE(decoded.ok());
}

}  // namespace
}  // namespace nobus::kafka
