// authority.h and authorizer.h with access tokens, on a real auth directory (flock, rename).
#include "auth/authority.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "auth/auth_dir.h"
#include "auth/authorizer.h"
#include "auth/crypto.h"
#include "env/mem_env.h"

namespace nobus::auth {
namespace {

using nlohmann::json;

constexpr char kSecret[] = "nbs_correct-horse";

std::string Basic(std::string_view id, std::string_view secret) {
  std::string b64 = Base64UrlEncode(Cat(id, ":", secret));
  for (char& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (b64.size() % 4 != 0) b64 += '=';
  return "Basic " + b64;
}

std::string Details(std::string_view table, std::string_view privileges) {
  return Cat("grant_type=client_credentials&scope=all-apis&authorization_details=",
             "[{\"type\":\"unity_catalog_privileges\",\"privileges\":[", privileges,
             "],\"object_type\":\"TABLE\",\"object_full_path\":\"", table, "\"}]");
}

table::TableName Name(std::string_view full) { return *table::ParseTableName(full); }

class AuthorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = "/tmp/nobus-auth-test-XXXXXX";
    dir_ = mkdtemp(pattern.data());
    ASSERT_TRUE(UpdatePolicyFile(fs_, dir_, [](Policy* p) {
                  p->principals.push_back({.name = "etl", .secret_hash = HashSecret(kSecret, 1000)});
                  p->grants.push_back({Privilege::kModify, *ParseSecurable("TABLE", "main.s.t"), "etl"});
                  p->grants.push_back({Privilege::kSelect, *ParseSecurable("TABLE", "main.s.t"), "etl"});
                  p->grants.push_back(
                      {Privilege::kUseCatalog, *ParseSecurable("CATALOG", "main"), "etl"});
                  return absl::OkStatus();
                }).ok());
    auto opened = Authority::Open(fs_, &clock_, {.dir = dir_, .token_ttl_s = 600});
    ASSERT_TRUE(opened.ok()) << opened.status();
    authority_ = std::move(*opened);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The access token of a 200 answer, or the whole answer.
  std::string Token(const std::string& body, std::string_view secret = kSecret) {
    TokenReply r = authority_->IssueToken(Basic("etl", secret), body, "test");
    if (r.http_status != 200) return Cat(r.http_status, " ", r.body);
    return json::parse(r.body)["access_token"].get<std::string>();
  }
  void Revoke(Privilege privilege) {
    ASSERT_TRUE(UpdatePolicyFile(fs_, dir_, [&](Policy* p) {
                  std::erase_if(p->grants, [&](const Grant& g) { return g.privilege == privilege; });
                  p->Find("etl")->epoch++;
                  return absl::OkStatus();
                }).ok());
  }

  env::FileSystem* fs_ = env::PosixFileSystem();
  env::ManualClock clock_{1'800'000'000'000'000};
  std::string dir_;
  std::unique_ptr<Authority> authority_;
};

TEST_F(AuthorityTest, IssuesATokenForTheRequestedTableThatWritesOnlyIt) {
  TokenReply r = authority_->IssueToken(
      Basic("etl", kSecret), Details("main.s.t", R"("SELECT","MODIFY")"), "test");
  ASSERT_EQ(r.http_status, 200) << r.body;
  json body = json::parse(r.body);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 600);
  Authorizer auth({}, authority_.get());
  EXPECT_TRUE(auth.enabled());
  std::string bearer = "Bearer " + body["access_token"].get<std::string>();
  auto caller = auth.AuthorizeTable(bearer, Name("main.s.t"));
  ASSERT_TRUE(caller.ok()) << caller.status();
  EXPECT_EQ(caller->principal, "etl");
  auto other = auth.AuthorizeTable(bearer, Name("main.s.other")).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("main.s.other"), std::string::npos) << other;
  EXPECT_EQ(auth.AuthorizeAdmin(bearer).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(auth.AuthorizeTableAdmin(bearer, Name("main.s.t")).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorityTest, WrongSecretAndUnknownClientGetTheSameAnswer) {
  TokenReply wrong = authority_->IssueToken(Basic("etl", "nope"), Details("main.s.t", "\"MODIFY\""), "t");
  TokenReply unknown = authority_->IssueToken(Basic("who", kSecret), Details("main.s.t", "\"MODIFY\""), "t");
  EXPECT_EQ(wrong.http_status, 401);
  EXPECT_EQ(unknown.http_status, 401);
  EXPECT_EQ(wrong.body, unknown.body);
  EXPECT_EQ(json::parse(wrong.body)["error"], "invalid_client");
}

TEST_F(AuthorityTest, RepeatedFailuresAreRateLimitedPerClient) {
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Token(Details("main.s.t", "\"MODIFY\""), "bad").substr(0, 3), "401");
  EXPECT_EQ(Token(Details("main.s.t", "\"MODIFY\"")).substr(0, 3), "429");  // even the right one
  clock_.AdvanceMicros(61'000'000);
  EXPECT_TRUE(LooksLikeJwt(Token(Details("main.s.t", "\"MODIFY\""))));
}

TEST_F(AuthorityTest, MissingPrivilegeIsRefusedNamingIt) {
  std::string r = Token(Details("main.s.u", "\"MODIFY\""));
  EXPECT_TRUE(r.starts_with("403")) << r;
  EXPECT_NE(r.find("MODIFY on TABLE main.s.u"), std::string::npos) << r;
  EXPECT_TRUE(Token("grant_type=password").starts_with("400"));
  EXPECT_TRUE(Token("grant_type=client_credentials&authorization_details=nope").starts_with("400"));
}

TEST_F(AuthorityTest, WithoutDetailsTheTokenCarriesEveryModifyGrant) {
  std::string token = Token("grant_type=client_credentials");
  auto claims = authority_->Verify(token);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->tables, std::vector<std::string>{"main.s.t"});
}

TEST_F(AuthorityTest, ExpiredTokenIsRefused) {
  std::string token = Token(Details("main.s.t", "\"MODIFY\""));
  clock_.AdvanceMicros(601'000'000);
  auto s = authority_->Verify(token).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s;
}

TEST_F(AuthorityTest, RevocationStopsTokensAlreadyIssuedAndLaterRequests) {
  std::string token = Token(Details("main.s.t", "\"MODIFY\""));
  ASSERT_TRUE(authority_->Verify(token).ok());
  auto claims = authority_->Verify(token);
  Revoke(Privilege::kModify);
  auto s = authority_->Verify(token).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("revoked"), std::string::npos) << s;
  EXPECT_FALSE(authority_->StillValid(*claims).ok());
  EXPECT_TRUE(Token(Details("main.s.t", "\"MODIFY\"")).starts_with("403"));
}

TEST_F(AuthorityTest, RotatedKeysKeepOldTokensUntilRetired) {
  std::string old_token = Token(Details("main.s.t", "\"MODIFY\""));
  clock_.AdvanceMicros(1000);
  ASSERT_TRUE(RotateSigningKey(fs_, &clock_, dir_, 3600).ok());
  std::string new_token = Token(Details("main.s.t", "\"MODIFY\""));
  EXPECT_NE(old_token.substr(0, old_token.find('.')), new_token.substr(0, new_token.find('.')));
  EXPECT_TRUE(authority_->Verify(old_token).ok());
  clock_.AdvanceMicros(1000);
  ASSERT_TRUE(RotateSigningKey(fs_, &clock_, dir_, 0).ok());  // retires the first key
  EXPECT_EQ(LoadSigningKeys(fs_, dir_)->size(), 2u);
  auto s = authority_->Verify(old_token).status();
  EXPECT_NE(s.message().find("does not hold"), std::string::npos) << s;
  EXPECT_TRUE(authority_->Verify(new_token).ok());
}

TEST_F(AuthorityTest, DeclaredPrincipalsJoinTheFile) {
  Policy declared;
  declared.principals.push_back({.name = "ops", .secret_hash = HashSecret("s", 1000), .declared = true});
  declared.grants.push_back({Privilege::kAdmin, *ParseSecurable("CATALOG", "*"), "ops"});
  auto a = Authority::Open(fs_, &clock_, {.dir = dir_, .declared = declared});
  ASSERT_TRUE(a.ok()) << a.status();
  TokenReply r = (*a)->IssueToken(Basic("ops", "s"), "grant_type=client_credentials", "t");
  ASSERT_EQ(r.http_status, 200) << r.body;
  Authorizer auth({}, a->get());
  std::string bearer = "Bearer " + json::parse(r.body)["access_token"].get<std::string>();
  EXPECT_TRUE(auth.AuthorizeAdmin(bearer).ok());
  EXPECT_TRUE(auth.AuthorizeTableAdmin(bearer, Name("x.y.z")).ok());
  EXPECT_TRUE(auth.AuthorizeTable(bearer, Name("x.y.z")).ok());
}

TEST_F(AuthorityTest, StaticTokensStillWorkBesideAccessTokens) {
  Authorizer auth({{.token = "static", .tables = {"main.*.*"}}}, authority_.get());
  EXPECT_TRUE(auth.AuthorizeTable("Bearer static", Name("main.a.b")).ok());
  auto s = auth.Authenticate("Bearer nope");
  EXPECT_NE(s.message().find("/oidc/v1/token"), std::string::npos) << s;
}

}  // namespace
}  // namespace nobus::auth
