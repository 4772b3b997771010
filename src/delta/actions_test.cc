#include "delta/actions.h"

#include <gtest/gtest.h>

namespace nobus::delta {
namespace {

constexpr char kSparkCommit[] =
    R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})"
    "\n"
    R"({"metaData":{"id":"84b0","format":{"provider":"parquet","options":{}},"schemaString":"{}",)"
    R"("partitionColumns":["letter"],"configuration":{"delta.checkpointInterval":"2"},"createdTime":1674611455081}})"
    "\n"
    R"({"add":{"path":"letter=a/part%2000.parquet","partitionValues":{"letter":null},"size":490,)"
    R"("modificationTime":1674611436337,"dataChange":true,"stats":"{\"numRecords\":1}"}})"
    "\n"
    R"({"commitInfo":{"timestamp":1674611455099,"operation":"CREATE TABLE","operationParameters":)"
    R"({"isManaged":"false","description":null},"isBlindAppend":true,"txnId":"d87e"}})"
    "\n"
    R"({"cdc":{"path":"x"}})"
    "\n";

TEST(ActionsTest, ParsesSparkCommit) {
  auto a = ParseCommit(kSparkCommit, "00000000000000000000.json");
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->protocol && a->metadata && a->commit_info);
  EXPECT_EQ(a->protocol->min_writer_version, 2);
  EXPECT_EQ(a->metadata->configuration.at("delta.checkpointInterval"), "2");
  EXPECT_EQ(a->metadata->partition_columns, std::vector<std::string>{"letter"});
  ASSERT_EQ(a->adds.size(), 1u);
  EXPECT_EQ(a->adds[0].path, "letter=a/part 00.parquet");
  EXPECT_FALSE(a->adds[0].partition_values.at("letter").has_value());
  EXPECT_EQ(a->adds[0].stats, R"({"numRecords":1})");
  EXPECT_EQ(a->commit_info->operation, "CREATE TABLE");
  EXPECT_EQ(a->commit_info->operation_parameters.count("description"), 0u);
  EXPECT_EQ(a->unknown_actions, 1);
}

TEST(ActionsTest, RoundTripsEveryActionKind) {
  CommitActions a;
  a.commit_info = CommitInfo{1, "STREAMING UPDATE", {{"outputMode", "Append"}}, 41, true, {}, "nobus/0.1", "t"};
  a.protocol = Protocol{};
  a.metadata = Metadata{.id = "u", .schema_string = "{}", .configuration = {{"k", "v"}}, .created_time_ms = 5};
  a.txns.push_back(Txn{"wal-1", 1048576, 7});
  a.removes.push_back(RemoveFile{"old file.parquet", 9, false, true, PartitionValues{}, 12, {}});
  a.adds.push_back(AddFile{"p=%/f.parquet", {{"p", "%"}, {"q", std::nullopt}}, 841, 3, true, "{}", {}});
  auto parsed = ParseCommit(SerializeCommit(a), "x.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, a);
}

TEST(ActionsTest, SerializesInProtocolLineOrder) {
  CommitActions a;
  a.adds.push_back(AddFile{.path = "a.parquet"});
  a.removes.push_back(RemoveFile{.path = "b.parquet"});
  a.txns.push_back(Txn{"w", 1, std::nullopt});
  a.metadata = Metadata{.id = "u"};
  a.protocol = Protocol{};
  a.commit_info = CommitInfo{};
  std::string text = SerializeCommit(a);
  std::vector<size_t> pos;
  for (const char* kind : {"commitInfo", "protocol", "metaData", "txn", "remove", "add"})
    pos.push_back(text.find(Cat("{\"", kind, "\":")));
  EXPECT_TRUE(std::is_sorted(pos.begin(), pos.end())) << text;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 6);
}

TEST(ActionsTest, StatsIsAJsonString) {
  CommitActions a;
  a.adds.push_back(AddFile{.path = "a.parquet", .stats = R"({"numRecords":5})"});
  EXPECT_NE(SerializeCommit(a).find(R"("stats":"{\"numRecords\":5}")"), std::string::npos);
}

TEST(ActionsTest, TruncatedLineNamesFileAndLine) {
  std::string body = kSparkCommit;
  body += R"({"add":{"path":"x","si)";
  auto a = ParseCommit(body, "00000000000000000007.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(a.status().message().find("00000000000000000007.json:6"), std::string::npos)
      << a.status();
}

TEST(ActionsTest, WrongFieldTypeIsDataLoss) {
  auto a = ParseCommit(R"({"add":{"path":"x","size":"big","partitionValues":{}}})", "f.json");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(a.status().message().find("size"), std::string::npos);
}

TEST(ActionsTest, MissingRequiredFieldIsDataLoss) {
  EXPECT_FALSE(ParseCommit(R"({"txn":{"appId":"a"}})", "f.json").ok());
  EXPECT_FALSE(ParseCommit(R"({"protocol":{"minReaderVersion":1}})", "f.json").ok());
  EXPECT_FALSE(ParseCommit(R"({"add":{"size":1}})", "f.json").ok());
}

TEST(ActionsTest, LineWithTwoActionsIsRejected) {
  EXPECT_FALSE(ParseCommit(R"({"txn":{"appId":"a","version":1},"cdc":{}})", "f.json").ok());
  EXPECT_FALSE(ParseCommit("[1]", "f.json").ok());
}

TEST(ActionsTest, TwoProtocolActionsAreRejected) {
  std::string p = R"({"protocol":{"minReaderVersion":1,"minWriterVersion":2}})";
  EXPECT_FALSE(ParseCommit(p + "\n" + p, "f.json").ok());
}

TEST(ActionsTest, UriEncodingRoundTrips) {
  EXPECT_EQ(UriEncodePath("time=1970-01-02 08%3A45%3A00/f.parquet"),
            "time=1970-01-02%2008%253A45%253A00/f.parquet");
  EXPECT_EQ(UriEncodePath("part-00000-abc.c000.zstd.parquet"), "part-00000-abc.c000.zstd.parquet");
  auto d = UriDecodePath("a%20b/%F0%9F%98%88");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, "a b/\xF0\x9F\x98\x88");
  EXPECT_FALSE(UriDecodePath("a%2").ok());
  EXPECT_FALSE(UriDecodePath("a%zz").ok());
}

}  // namespace
}  // namespace nobus::delta
