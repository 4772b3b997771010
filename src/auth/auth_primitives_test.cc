// Unit tests of the pure pieces: crypto.h, jwt.h, grants.h, token_request.h.
#include <gtest/gtest.h>

#include "auth/crypto.h"
#include "auth/grants.h"
#include "auth/jwt.h"
#include "auth/token_request.h"

namespace nobus::auth {
namespace {

std::string Hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) out += {kDigits[c >> 4], kDigits[c & 15]};
  return out;
}

TEST(CryptoTest, Base64UrlMatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    EXPECT_EQ(Base64UrlDecode(encoded), plain);
  }
  EXPECT_FALSE(Base64UrlDecode("Zm9v=").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zm+v").has_value());
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());  // non-zero trailing bits
}

TEST(CryptoTest, HmacSha256MatchesRfc4231) {
  EXPECT_EQ(Hex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, SecretHashesVerifyOnlyTheirSecret) {
  std::string secret = GenerateClientSecret();
  EXPECT_TRUE(secret.starts_with("nbs_"));
  EXPECT_NE(secret, GenerateClientSecret());
  std::string hash = HashSecret(secret, 1000);
  EXPECT_NE(hash, HashSecret(secret, 1000));  // salted
  EXPECT_TRUE(*VerifySecret(secret, hash));
  EXPECT_FALSE(*VerifySecret(secret + "x", hash));
  EXPECT_EQ(VerifySecret(secret, "plain-text-secret").status().code(),
            absl::StatusCode::kInvalidArgument);
}

class JwtTest : public ::testing::Test {
 protected:
  KeyLookup Keys() {
    return [this](std::string_view id) -> const SigningKey* {
      for (const SigningKey& k : keys_)
        if (k.id == id) return &k;
      return nullptr;
    };
  }
  TokenClaims Claims() {
    return {.subject = "etl", .issued_at_s = 1000, .expires_at_s = 4600, .epoch = 3,
            .tables = {"main.s.t"}, .admin = {}, .token_id = "j1"};
  }
  std::vector<SigningKey> keys_ = {{"k1", std::string(32, 'a')}, {"k2", std::string(32, 'b')}};
};

TEST_F(JwtTest, SignedTokenVerifiesWithItsClaims) {
  std::string token = SignToken(Claims(), keys_[1]);
  EXPECT_TRUE(LooksLikeJwt(token));
  auto claims = VerifyToken(token, Keys(), 2000);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "etl");
  EXPECT_EQ(claims->epoch, 3);
  EXPECT_EQ(claims->tables, std::vector<std::string>{"main.s.t"});
  EXPECT_EQ(claims->expires_at_s, 4600);
}

TEST_F(JwtTest, ExpiredTokenIsUnauthenticated) {
  auto s = VerifyToken(SignToken(Claims(), keys_[0]), Keys(), 4600).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s;
}

TEST_F(JwtTest, AlteredPayloadFailsTheSignature) {
  std::string token = SignToken(Claims(), keys_[0]);
  TokenClaims wider = Claims();
  wider.tables = {"*.*.*"};
  std::string other = SignToken(wider, keys_[0]);
  size_t a = token.find('.'), b = other.find('.');
  std::string forged = token.substr(0, a) + other.substr(b, other.rfind('.') - b) +
                       token.substr(token.rfind('.'));
  auto s = VerifyToken(forged, Keys(), 2000).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("signature is invalid"), std::string::npos) << s;
}

TEST_F(JwtTest, TokenSignedWithAnotherKeyUnderAKnownIdIsRefused) {
  std::string forged = SignToken(Claims(), {"k1", std::string(32, 'z')});
  EXPECT_NE(VerifyToken(forged, Keys(), 2000).status().message().find("signature is invalid"),
            std::string::npos);
}

TEST_F(JwtTest, UnknownKeyIdIsRefused) {
  auto s = VerifyToken(SignToken(Claims(), {"k9", std::string(32, 'a')}), Keys(), 2000).status();
  EXPECT_NE(s.message().find("'k9'"), std::string::npos) << s;
}

TEST_F(JwtTest, AlgNoneIsRefused) {
  std::string header = Base64UrlEncode(R"({"alg":"none","typ":"JWT","kid":"k1"})");
  std::string token = SignToken(Claims(), keys_[0]);
  std::string payload = token.substr(token.find('.') + 1);
  payload = payload.substr(0, payload.find('.'));
  for (const std::string& t : {header + "." + payload + ".", header + "." + payload + ".c2ln"}) {
    auto s = VerifyToken(t, Keys(), 2000).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(s.message().find("algorithm 'none'"), std::string::npos) << s;
  }
  std::string hs512 = Base64UrlEncode(R"({"alg":"HS512","kid":"k1"})") + "." + payload + ".x";
  EXPECT_NE(VerifyToken(hs512, Keys(), 2000).status().message().find("'HS512'"),
            std::string::npos);
}

TEST_F(JwtTest, MalformedTokensSayWhatIsWrong) {
  for (const char* t : {"", "abc", "a.b", "a.b.c.d", "!!.e30.e30", "e30.e30.e30"}) {
    auto s = VerifyToken(t, Keys(), 2000).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << t;
    EXPECT_FALSE(s.message().empty());
  }
}

TEST(GrantsTest, PrivilegesAndSecurablesParse) {
  EXPECT_EQ(*ParsePrivilege("use catalog"), Privilege::kUseCatalog);
  EXPECT_EQ(*ParsePrivilege("USE_SCHEMA"), Privilege::kUseSchema);
  EXPECT_EQ(*ParsePrivilege("All Privileges"), Privilege::kAllPrivileges);
  EXPECT_NE(ParsePrivilege("WRITE").status().message().find("MODIFY"), std::string::npos);
  EXPECT_EQ(ParseSecurable("table", "main.s.t")->ToString(), "TABLE main.s.t");
  EXPECT_EQ(ParseSecurable("CATALOG", "*")->name, "*");
  EXPECT_FALSE(ParseSecurable("TABLE", "main.s").ok());
  EXPECT_FALSE(ParseSecurable("SCHEMA", "*.x").ok());
  EXPECT_FALSE(ParseSecurable("VIEW", "a.b.c").ok());
}

TEST(GrantsTest, PrivilegesOnAContainerHoldInside) {
  Policy p;
  p.grants = {{Privilege::kModify, *ParseSecurable("SCHEMA", "main.sales"), "etl"},
              {Privilege::kAllPrivileges, *ParseSecurable("TABLE", "ops.x.y"), "etl"},
              {Privilege::kAdmin, *ParseSecurable("CATALOG", "*"), "root"}};
  EXPECT_TRUE(p.Holds("etl", Privilege::kModify, *ParseSecurable("TABLE", "Main.Sales.orders")));
  EXPECT_FALSE(p.Holds("etl", Privilege::kModify, *ParseSecurable("TABLE", "main.hr.pay")));
  EXPECT_FALSE(p.Holds("etl", Privilege::kModify, *ParseSecurable("CATALOG", "main")));
  EXPECT_TRUE(p.Holds("etl", Privilege::kSelect, *ParseSecurable("TABLE", "ops.x.y")));
  EXPECT_TRUE(p.Holds("root", Privilege::kAdmin, *ParseSecurable("TABLE", "a.b.c")));
  EXPECT_FALSE(p.Holds("root", Privilege::kModify, *ParseSecurable("TABLE", "a.b.c")));
  EXPECT_EQ(p.Patterns("etl", Privilege::kModify),
            (std::vector<std::string>{"main.sales.*", "ops.x.y"}));
  EXPECT_EQ(p.Patterns("root", Privilege::kAdmin), std::vector<std::string>{"*.*.*"});
}

TEST(GrantsTest, PolicyJsonRoundTripsAndRejectsDuplicates) {
  Policy p;
  p.principals.push_back({.name = "etl", .secret_hash = "h", .epoch = 4, .created_ms = 7});
  p.grants.push_back({Privilege::kUseCatalog, *ParseSecurable("CATALOG", "main"), "etl"});
  auto back = PolicyFromJson(PolicyToJson(p), "f", false);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->principals[0].epoch, 4);
  EXPECT_EQ(back->grants, p.grants);
  auto dup = PolicyFromJson(R"({"principals": [{"name": "a", "secret_hash": "h"},
                                               {"name": "A", "secret_hash": "h"}]})",
                            "f", false);
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kInvalidArgument);
  Policy declared;
  declared.principals.push_back({.name = "etl", .secret_hash = "h", .declared = true});
  EXPECT_NE(MergePolicies(p, declared).status().message().find("also created"),
            std::string::npos);
  EXPECT_FALSE(ValidatePrincipalName("a b").ok());
  EXPECT_FALSE(ValidatePrincipalName("x:y").ok());
}

// What the official SDKs send (specs/zerobus-wire.md "OAuth"), url-encoded.
constexpr char kSdkBody[] =
    "grant_type=client_credentials&scope=all-apis&resource=api%3A%2F%2Fdatabricks%2Fworkspaces%"
    "2F127%2FzerobusDirectWriteApi&authorization_details=%5B%7B%22type%22%3A%22unity_catalog_"
    "privileges%22%2C%22privileges%22%3A%5B%22USE+CATALOG%22%5D%2C%22object_type%22%3A%22CATALOG"
    "%22%2C%22object_full_path%22%3A%22main%22%7D%2C%7B%22type%22%3A%22unity_catalog_privileges%"
    "22%2C%22privileges%22%3A%5B%22SELECT%22%2C%22MODIFY%22%5D%2C%22object_type%22%3A%22TABLE%22"
    "%2C%22object_full_path%22%3A%22main.s.t%22%7D%5D";

TEST(TokenRequestTest, ParsesWhatTheSdksSend) {
  auto r = ParseTokenRequest("Basic " + std::string("ZXRsOm5ic19zM2NyZXQ="), kSdkBody);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->client_id, "etl");
  EXPECT_EQ(r->client_secret, "nbs_s3cret");
  EXPECT_EQ(r->grant_type, "client_credentials");
  EXPECT_EQ(r->resource, "api://databricks/workspaces/127/zerobusDirectWriteApi");
  ASSERT_TRUE(r->has_details);
  ASSERT_EQ(r->details.size(), 2u);
  EXPECT_EQ(r->details[0].on.ToString(), "CATALOG main");
  EXPECT_EQ(r->details[0].privileges, std::vector<Privilege>{Privilege::kUseCatalog});
  EXPECT_EQ(r->details[1].privileges,
            (std::vector<Privilege>{Privilege::kSelect, Privilege::kModify}));
}

TEST(TokenRequestTest, BadRequestsSayWhatIsWrong) {
  EXPECT_EQ(ParseTokenRequest("", "grant_type=client_credentials").status().code(),
            absl::StatusCode::kUnauthenticated);
  auto post = ParseTokenRequest("", "client_id=a&client_secret=b&grant_type=client_credentials");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->client_secret, "b");
  EXPECT_EQ(ParseTokenRequest("Basic !!!", "").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParseTokenRequest("Bearer x", "").status().code(), absl::StatusCode::kUnauthenticated);
  auto dup = ParseTokenRequest("Basic YTpi", "scope=a&scope=b");
  EXPECT_NE(dup.status().message().find("'scope' is given twice"), std::string::npos);
  auto esc = ParseTokenRequest("Basic YTpi", "scope=%zz");
  EXPECT_NE(esc.status().message().find("%-escape"), std::string::npos);
  auto details = ParseTokenRequest("Basic YTpi", "authorization_details=%7B%7D");
  EXPECT_NE(details.status().message().find("JSON array"), std::string::npos);
  auto priv = ParseTokenRequest(
      "Basic YTpi",
      "authorization_details=[{\"type\":\"unity_catalog_privileges\",\"privileges\":[\"FLY\"],"
      "\"object_type\":\"TABLE\",\"object_full_path\":\"a.b.c\"}]");
  EXPECT_NE(priv.status().message().find("unknown privilege 'FLY'"), std::string::npos);
}

}  // namespace
}  // namespace nobus::auth
