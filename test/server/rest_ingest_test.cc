// REST ingestion: POST /zerobus/v1/tables/{name}/insert; 200 means durable; one bad row rejects
// the whole request with its index and column.
#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";
constexpr const char* kPath = "/zerobus/v1/tables/main.default.events/insert";

class RestIngestTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeTable(kTable, "id BIGINT NOT NULL, amount DECIMAL(38,6)");
  }
};

TEST_F(RestIngestTest, RowsAreDurableOn200AndLandInTheTable) {
  HttpReply r = HttpCall(*server_, "POST", kPath,
                         R"([{"id": 1, "amount": 12345678901234567890.123456}, {"id": 2}])");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  r = HttpCall(*server_, "POST", kPath, R"([{"id": 3, "amount": "0.5"}])");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  // SIGKILL, not SIGTERM: 200 promised durability, so recovery must bring the rows back.
  EXPECT_EQ(server_->SignalAndWait(SIGKILL), 128 + SIGKILL);
  StartServer();
  EXPECT_EQ(
      StopAndReadRows(kTable),
      (std::vector<std::string>{R"({"id":1,"amount":12345678901234567890.123456})",
                                R"({"id":2,"amount":null})", R"({"id":3,"amount":0.500000})"}));
}

TEST_F(RestIngestTest, BadRowIsRejectedWithItsIndexAndNothingIsWritten) {
  HttpReply r = HttpCall(*server_, "POST", kPath, R"([{"id": 1}, {"id": 2}, {"id": "x"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error_code"], "INVALID_PARAMETER_VALUE");
  std::string message = r.body["message"];
  EXPECT_NE(message.find("row 2"), std::string::npos) << message;
  EXPECT_NE(message.find("column 'id'"), std::string::npos) << message;
  EXPECT_TRUE(StopAndReadRows(kTable).empty());
}

TEST_F(RestIngestTest, BodyMustBeAnArrayOfObjects) {
  EXPECT_EQ(HttpCall(*server_, "POST", kPath, R"({"id": 1})").status, 400);
  HttpReply r = HttpCall(*server_, "POST", kPath, R"([{"id": 1}, 7])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("row 1 is not a JSON object"),
            std::string::npos);
  EXPECT_EQ(HttpCall(*server_, "POST", kPath, R"([{"id": 1},)").status, 400);
  EXPECT_EQ(HttpCall(*server_, "POST", kPath, R"([{"id": 1}] [])").status, 400);
}

TEST_F(RestIngestTest, MissingNotNullAndUnknownColumns) {
  HttpReply r = HttpCall(*server_, "POST", kPath, R"([{"amount": 1}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("'id'"), std::string::npos);
  r = HttpCall(*server_, "POST", kPath, R"([{"id": 1, "extra": 1}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("extra"), std::string::npos);
}

TEST_F(RestIngestTest, UnknownTableIsNotFound) {
  HttpReply r =
      HttpCall(*server_, "POST", "/zerobus/v1/tables/main.default.nope/insert", R"([{"id": 1}])");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error_code"], "TABLE_DOES_NOT_EXIST");
  r = HttpCall(*server_, "POST", "/zerobus/v1/tables/nope/insert", R"([{"id": 1}])");
  EXPECT_EQ(r.status, 400);
}

// A table of the shapes delta-rs once disagreed with us on (TIMESTAMP_NTZ needs the timestampNtz
// feature; an empty partition string is null; the first commit has no readVersion). Its table
// joins the reader corpus, where delta-rs and Spark read it at the end of the run.
TEST_F(RestIngestTest, EmptyPartitionStringIsNullAndTimestampNtzIsReadable) {
  constexpr const char* kEdge = "main.default.edge";
  MakeTable(kEdge, "id BIGINT NOT NULL, s STRING, local TIMESTAMP_NTZ", {"s"});
  const std::string path = "/zerobus/v1/tables/main.default.edge/insert";
  ASSERT_EQ(HttpCall(*server_, "POST", path,
                     R"([{"id": 1, "s": "", "local": "2026-01-02T03:04:05.123456"}, {"id": 2}])")
                .status,
            200);
  ASSERT_EQ(HttpCall(*server_, "POST", path, R"([{"id": 3, "s": "x", "local": 0}])").status, 200);
  std::vector<std::string> rows = StopAndReadRows(kEdge);
  EXPECT_EQ(rows, (std::vector<std::string>{
                      R"({"id":1,"s":null,"local":"2026-01-02 03:04:05.123456"})",
                      R"({"id":2,"s":null,"local":null})",
                      R"({"id":3,"s":"x","local":"1970-01-01 00:00:00"})"}));
}

TEST_F(RestIngestTest, EmptyArrayIsOk) {
  EXPECT_EQ(HttpCall(*server_, "POST", kPath, "[]").status, 200);
}

}  // namespace
}  // namespace nobus::server::testing
