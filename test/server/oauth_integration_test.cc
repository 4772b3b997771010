// OAuth client credentials against a real nobusd: service principals and grants made with the
// `nobus` command, tokens from POST /oidc/v1/token, and every way a token can be wrong (unknown
// client, wrong secret, missing grant, another table, malformed, forged, alg none, expired,
// revoked while streams are open). Codes and messages as specs/zerobus-wire.md and the SDKs expect.
#include <chrono>
#include <regex>
#include <thread>

#include "auth/crypto.h"
#include "auth/jwt.h"
#include "cli_run.h"
#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

using cli::testing::RunNobus;
using nlohmann::json;

constexpr const char* kTable = "main.default.events";

std::string Basic(const std::string& id, const std::string& secret) {
  std::string b64 = auth::Base64UrlEncode(id + ":" + secret);
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  return "Basic " + b64;
}

// The form body an official SDK sends for one table (specs/zerobus-wire.md "OAuth").
std::string SdkForm(const std::string& table) {
  std::string catalog = table.substr(0, table.find('.'));
  std::string schema = table.substr(0, table.rfind('.'));
  json details = json::array(
      {{{"type", "unity_catalog_privileges"}, {"privileges", {"USE CATALOG"}},
        {"object_type", "CATALOG"}, {"object_full_path", catalog}},
       {{"type", "unity_catalog_privileges"}, {"privileges", {"USE SCHEMA"}},
        {"object_type", "SCHEMA"}, {"object_full_path", schema}},
       {{"type", "unity_catalog_privileges"}, {"privileges", {"SELECT", "MODIFY"}},
        {"object_type", "TABLE"}, {"object_full_path", table}}});
  std::string encoded;
  for (unsigned char c : details.dump()) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '-') encoded += static_cast<char>(c);
    else encoded += Cat("%", "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]);
  }
  return Cat("grant_type=client_credentials&scope=all-apis&resource=api%3A%2F%2Fdatabricks%2F"
             "workspaces%2F127%2FzerobusDirectWriteApi&authorization_details=", encoded);
}

class OAuthTest : public ServerTest {
 protected:
  void SetUp() override {}

  // Creates the principals (before nobusd runs, as an operator would) and starts nobusd.
  void Start(std::vector<std::string> extra_args = {}) {
    data_dir_ = dir_.path() + "/data";
    etl_secret_ = Create("etl");
    ops_secret_ = Create("ops");
    Nobus("grant 'USE CATALOG' ON CATALOG main TO etl");
    Nobus("grant 'USE SCHEMA' ON SCHEMA main.default TO etl");
    Nobus(Cat("grant SELECT,MODIFY ON TABLE ", kTable, " TO etl"));
    Nobus("grant ADMIN ON CATALOG '*' TO ops");
    NobusdOptions options;
    options.data_dir = data_dir_;
    options.extra_args = std::move(extra_args);
    auto started = Nobusd::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = server_->NewStub();
    // A fresh token for each call: with --token-ttl-s 1 (whole seconds) one token may expire
    // between two calls on a slow machine.
    MakeTable(kTable, "id BIGINT NOT NULL", {}, OpsToken());
    MakeTable("main.default.other", "id BIGINT NOT NULL", {}, OpsToken());
  }

  cli::testing::CliResult Nobus(const std::string& args) {
    auto r = RunNobus(Cat(args, " --data-dir '", data_dir_, "'"), dir_.path());
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r;
  }
  std::string Create(const std::string& name) {
    std::smatch m;
    std::string out = Nobus("principal create " + name).out;
    EXPECT_TRUE(std::regex_search(out, m, std::regex("client_secret: (\\S+)"))) << out;
    return m.size() > 1 ? m[1].str() : "";
  }

  HttpReply TokenReply(const std::string& id, const std::string& secret, const std::string& form) {
    httplib::Client http = server_->Http();
    httplib::Headers headers = {{"Authorization", Basic(id, secret)}};
    auto res = http.Post("/oidc/v1/token", headers, form, "application/x-www-form-urlencoded");
    if (!res) return {};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::string Token(const std::string& id, const std::string& secret, const std::string& form) {
    HttpReply r = TokenReply(id, secret, form);
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.status == 200 ? r.body["access_token"].get<std::string>() : "";
  }
  std::string OpsToken() { return Token("ops", ops_secret_, "grant_type=client_credentials"); }
  std::string EtlToken(const std::string& table = kTable) {
    return Token("etl", etl_secret_, SdkForm(table));
  }

  grpc::Status Write(const std::string& token, int64_t id) {
    TestStream s(stub_.get(), {.headers = {{"authorization", "Bearer " + token}}});
    if (s.Create(kTable, zb::JSON).empty()) return s.Finish();
    if (!s.Send(JsonRecord(0, Cat(R"({"id": )", id, "}"))) || !s.WaitForAck(0)) return s.Finish();
    return s.CloseAndFinish();
  }

  std::string data_dir_;
  std::string etl_secret_;
  std::string ops_secret_;
};

TEST_F(OAuthTest, SdkFlowTokenWritesItsTableOverGrpcAndRest) {
  Start();
  std::string token = EtlToken();
  HttpReply r = TokenReply("etl", etl_secret_, SdkForm(kTable));
  EXPECT_EQ(r.body["token_type"], "Bearer");
  EXPECT_EQ(r.body["expires_in"], 3600);
  EXPECT_TRUE(Write(token, 1).ok());
  EXPECT_EQ(HttpCall(*server_, "POST", Cat("/zerobus/v1/tables/", kTable, "/insert"),
                     R"([{"id": 2}])", token)
                .status,
            200);
  EXPECT_EQ(StopAndReadRows(kTable), (std::vector<std::string>{R"({"id":1})", R"({"id":2})"}));
}

TEST_F(OAuthTest, WrongSecretAndUnknownClientGetTheSame401AndAreLogged) {
  Start();
  HttpReply wrong = TokenReply("etl", "nbs_guess", SdkForm(kTable));
  HttpReply unknown = TokenReply("mallory", etl_secret_, SdkForm(kTable));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(wrong.body["error"], "invalid_client");
  EXPECT_NE(server_->Log().find("client 'mallory'"), std::string::npos);
  for (int i = 0; i < 10; ++i) TokenReply("etl", "nbs_guess", SdkForm(kTable));
  HttpReply limited = TokenReply("etl", etl_secret_, SdkForm(kTable));
  EXPECT_EQ(limited.status, 429) << limited.body.dump();
  EXPECT_EQ(TokenReply("ops", ops_secret_, "grant_type=client_credentials").status, 200);
  EXPECT_TRUE(Healthy());
}

TEST_F(OAuthTest, MalformedRequestsAre400) {
  Start();
  EXPECT_EQ(TokenReply("etl", etl_secret_, "grant_type=password").body["error"],
            "unsupported_grant_type");
  HttpReply r = TokenReply("etl", etl_secret_,
                           "grant_type=client_credentials&authorization_details=%5Bnope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["error_description"].get<std::string>().find("authorization_details"),
            std::string::npos);
  auto res = server_->Http().Post("/oidc/v1/token", "grant_type=client_credentials",
                                  "application/x-www-form-urlencoded");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);  // no client credentials at all
}

TEST_F(OAuthTest, MissingGrantIsRefusedAtTheTokenEndpoint) {
  Start();
  HttpReply r = TokenReply("etl", etl_secret_, SdkForm("main.default.other"));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body["error"], "access_denied");
  EXPECT_NE(r.body["error_description"].get<std::string>().find("SELECT,MODIFY on TABLE main.default.other"),
            std::string::npos)
      << r.body.dump();
}

TEST_F(OAuthTest, TokenForAnotherTableIsPermissionDeniedNamingTheTable) {
  Start();
  Nobus("grant MODIFY,SELECT ON TABLE main.default.other TO etl");
  grpc::Status s = Write(EtlToken("main.default.other"), 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(s.error_message().find("main.default.events"), std::string::npos) << s.error_message();
}

TEST_F(OAuthTest, MalformedForgedAndAlgNoneTokensAreUnauthenticated) {
  Start();
  std::string good = EtlToken();
  std::string header = good.substr(0, good.find('.'));
  std::string payload = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  std::string kid = json::parse(*auth::Base64UrlDecode(header))["kid"];
  auth::TokenClaims wide{.subject = "etl", .issued_at_s = 0, .expires_at_s = 4'000'000'000,
                         .epoch = 1, .tables = {"*.*.*"}};
  std::string none = auth::Base64UrlEncode(R"({"alg":"none","kid":")" + kid + "\"}");
  std::string tampered = good;
  tampered[good.find('.') + 5] ^= 1;  // a payload character
  const std::pair<std::string, std::string> cases[] = {
      {"not-a-jwt.at.all!", "malformed"},
      {tampered, "signature is invalid"},
      {auth::SignToken(wide, {kid, std::string(32, 'x')}), "signature is invalid"},
      {auth::SignToken(wide, {"k1", std::string(32, 'x')}), "does not hold"},
      {none + "." + payload + ".", "algorithm 'none'"}};
  for (const auto& [token, message] : cases) {
    grpc::Status s = Write(token, 1);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << token;
    EXPECT_NE(s.error_message().find(message), std::string::npos) << s.error_message();
    EXPECT_EQ(HttpCall(*server_, "POST", Cat("/zerobus/v1/tables/", kTable, "/insert"),
                       R"([{"id": 1}])", token)
                  .status,
              401);
  }
  EXPECT_TRUE(Write(good, 1).ok());
}

TEST_F(OAuthTest, ExpiredTokenIsUnauthenticatedAndAFreshOneWorks) {
  Start({"--token-ttl-s", "2"});
  std::string token = EtlToken();
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  grpc::Status s = Write(token, 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("expired"), std::string::npos) << s.error_message();
  EXPECT_TRUE(Write(EtlToken(), 2).ok());
}

// Waits (bounded) for the server to signal the stream to close; returns how many it sent.
int WaitForCloseSignal(const TestStream& s) {
  for (int i = 0; i < 150 && s.close_signals() == 0 && !s.ended(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return s.close_signals();
}

TEST_F(OAuthTest, TokenExpiringMidStreamClosesTheStreamGracefully) {
  Start({"--token-ttl-s", "3"});
  TestStream s(stub_.get(), {.headers = {{"authorization", "Bearer " + EtlToken()}}});
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, R"({"id": 7})")));
  ASSERT_TRUE(s.WaitForAck(0));
  EXPECT_EQ(WaitForCloseSignal(s), 1);
  EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);  // the SDKs reconnect
  EXPECT_NE(server_->Log().find("access token expired"), std::string::npos);
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{R"({"id":7})"});
}

TEST_F(OAuthTest, RevokedGrantClosesOpenStreamsAndRefusesItsTokens) {
  Start();
  std::string token = EtlToken();
  TestStream s(stub_.get(), {.headers = {{"authorization", "Bearer " + token}}});
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, R"({"id": 1})")));
  ASSERT_TRUE(s.WaitForAck(0));
  Nobus(Cat("revoke MODIFY ON TABLE ", kTable, " FROM etl"));
  EXPECT_EQ(WaitForCloseSignal(s), 1);
  EXPECT_EQ(s.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::Status again = Write(token, 2);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(again.error_message().find("revoked"), std::string::npos) << again.error_message();
  EXPECT_EQ(TokenReply("etl", etl_secret_, SdkForm(kTable)).status, 403);
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{R"({"id":1})"});  // acked: kept
}

TEST_F(OAuthTest, DeletedPrincipalsTokensStopWorking) {
  Start();
  std::string token = EtlToken();
  Nobus("principal delete etl");
  grpc::Status s = Write(token, 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(s.error_message().find("deleted"), std::string::npos) << s.error_message();
  EXPECT_EQ(TokenReply("etl", etl_secret_, SdkForm(kTable)).status, 401);
}

}  // namespace
}  // namespace nobus::server::testing
