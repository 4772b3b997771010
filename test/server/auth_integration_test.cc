// A nobusd with bearer tokens: gRPC and HTTP refuse missing or unknown tokens
// (UNAUTHENTICATED / 401) and tokens that do not cover the table (PERMISSION_DENIED / 403).
#include <fstream>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";

class AuthTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer(R"({"tokens": [
        {"token": "writer", "tables": ["main.default.*"]},
        {"token": "other", "tables": ["cat.sch.tbl"]},
        {"token": "root", "admin": true}]})");
    MakeTable(kTable, "id BIGINT NOT NULL", {}, "writer");
  }

  grpc::Status OpenWith(const std::map<std::string, std::string>& headers) {
    TestStream s(stub_.get(), {.headers = headers});
    if (s.Create(kTable, zb::JSON).empty()) return s.Finish();
    if (!s.Send(JsonRecord(0, R"({"id": 1})")) || !s.WaitForAck(0)) return s.Finish();
    return s.CloseAndFinish();
  }
};

TEST_F(AuthTest, StreamWithoutTokenIsUnauthenticated) {
  grpc::Status s = OpenWith({});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("authorization"), std::string::npos) << s.error_message();
}

TEST_F(AuthTest, StreamWithUnknownTokenIsUnauthenticated) {
  grpc::Status s = OpenWith({{"authorization", "Bearer guess"}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("unknown token"), std::string::npos) << s.error_message();
}

TEST_F(AuthTest, StreamWithTokenForAnotherTableIsPermissionDenied) {
  grpc::Status s = OpenWith({{"authorization", "Bearer other"}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("main.default.events"), std::string::npos);
}

TEST_F(AuthTest, StreamWithCoveringTokenWorks) {
  EXPECT_TRUE(OpenWith({{"authorization", "Bearer writer"}}).ok());
  EXPECT_TRUE(OpenWith({{"authorization", "Bearer root"}}).ok());
  EXPECT_TRUE(Healthy());
}

TEST_F(AuthTest, TableApiNeedsAToken) {
  HttpReply r = HttpCall(*server_, "GET", "/api/2.1/unity-catalog/tables/main.default.events");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error_code"], "UNAUTHENTICATED");
  r = HttpCall(*server_, "GET", "/api/2.1/unity-catalog/tables/main.default.events", "", "other");
  EXPECT_EQ(r.status, 200);  // reads need a valid token only
}

TEST_F(AuthTest, TableApiWritesNeedACoveringToken) {
  HttpReply r = CreateTable(*server_, "main.secret.t", "id BIGINT", {}, "writer");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error_code"], "PERMISSION_DENIED");
  r = HttpCall(*server_, "DELETE", "/api/2.1/unity-catalog/tables/main.default.events", "",
               "other");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(CreateTable(*server_, "main.secret.t", "id BIGINT", {}, "root").status, 200);
}

TEST_F(AuthTest, RestInsertChecksTheToken) {
  const std::string path = "/zerobus/v1/tables/main.default.events/insert";
  EXPECT_EQ(HttpCall(*server_, "POST", path, R"([{"id": 1}])").status, 401);
  EXPECT_EQ(HttpCall(*server_, "POST", path, R"([{"id": 1}])", "other").status, 403);
  EXPECT_EQ(HttpCall(*server_, "POST", path, R"([{"id": 1}])", "writer").status, 200);
}

TEST_F(AuthTest, CloseAllNeedsAnAdminToken) {
  EXPECT_EQ(HttpCall(*server_, "POST", "/admin/v1/streams/close-all", "", "writer").status, 403);
  EXPECT_EQ(HttpCall(*server_, "POST", "/admin/v1/streams/close-all").status, 401);
  HttpReply r = HttpCall(*server_, "POST", "/admin/v1/streams/close-all", "", "root");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["closed_streams"], 0);
}

TEST(StartupTest, NonLoopbackWithoutTlsOrAuthRefusesToStart) {
  std::string out;
  int code = Nobusd::RunToExit({"--data-dir", "/nonexistent/never-created", "--grpc-listen",
                                "0.0.0.0:0", "--http-listen", "127.0.0.1:0"},
                               &out);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("without TLS"), std::string::npos) << out;
  EXPECT_NE(out.find("--insecure"), std::string::npos) << out;
}

TEST(StartupTest, BadConfigNamesTheKeyAndExits2) {
  delta::testing::TempDir dir;
  std::string path = dir.path() + "/bad.json";
  std::ofstream(path) << R"({"flush_interval_ms": "soon"})";
  std::string out;
  EXPECT_EQ(Nobusd::RunToExit({"--config", path}, &out), 2);
  EXPECT_NE(out.find("'flush_interval_ms'"), std::string::npos) << out;
}

TEST(StartupTest, UnknownParquetCompressionNamesTheChoicesAndExits2) {
  std::string out;
  EXPECT_EQ(Nobusd::RunToExit({"--data-dir", "/nonexistent/never-created",
                               "--parquet-compression", "gzip"},
                              &out),
            2);
  EXPECT_NE(out.find("unknown Parquet compression 'gzip'"), std::string::npos) << out;
  EXPECT_NE(out.find("use snappy, zstd"), std::string::npos) << out;
}

TEST(StartupTest, UnknownFlagExits2) {
  std::string out;
  EXPECT_EQ(Nobusd::RunToExit({"--no-such-flag"}, &out), 2);
}

TEST(StartupTest, HelpExits0) {
  std::string out;
  EXPECT_EQ(Nobusd::RunToExit({"--help"}, &out), 0);
  EXPECT_NE(out.find("--grpc-listen"), std::string::npos) << out;
  EXPECT_NE(out.find("--data-dir"), std::string::npos);
}

}  // namespace
}  // namespace nobus::server::testing
