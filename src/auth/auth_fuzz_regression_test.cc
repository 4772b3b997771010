// The auth fuzz targets (test/fuzz/access_token_fuzz.cc, token_request_fuzz.cc, compiled in here
// with NOBUS_FUZZ_REGRESSION) over hostile inputs and seeded random mutations of valid ones: each
// must be refused or parsed, never crash (a target aborts on a broken invariant, failing the test).
#include <gtest/gtest.h>

#include <string>

#include "auth/crypto.h"
#include "auth/jwt.h"
#include "mutations.h"

int NobusAccessTokenFuzzOne(const uint8_t* bytes, size_t size);
int NobusTokenRequestFuzzOne(const uint8_t* bytes, size_t size);

namespace nobus::auth {
namespace {

void Token(const std::string& s) {
  NobusAccessTokenFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
void Request(const std::string& s) {
  NobusTokenRequestFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Flips, insertions of JSON and form punctuation, truncations of `seed`.
std::vector<std::string> Mutations(const std::string& seed, int n) {
  using namespace std::string_view_literals;
  return fuzz::Mutations(seed, n, "{}[]\".,:%=&+\\\0"sv);
}

TEST(AuthFuzzRegressionTest, HostileTokens) {
  SigningKey key{"k1", std::string(32, 'k')};
  TokenClaims claims{.subject = "etl", .issued_at_s = 1, .expires_at_s = 5000, .epoch = 1,
                     .tables = {"main.s.t"}};
  std::string valid = SignToken(claims, key);
  for (const std::string& s :
       {std::string(), std::string(".."), std::string("a.b.c"), valid, valid + ".x",
        std::string(R"({"sub":"a","iat":1,"exp":9e99,"ep":1})"),
        std::string(R"({"sub":1,"iat":"x","exp":null,"ep":[],"tables":{"a":1}})"),
        std::string(R"({"sub":"a","iat":1,"exp":18446744073709551616,"ep":1})"),
        std::string(R"({"sub":"a","iat":1,"exp":5000,"ep":1,"admin":[1,2]})"),
        std::string(1 << 16, '.'), std::string("\xff\xfe\x00", 3)})
    Token(s);
  for (const std::string& m : Mutations(valid, 3000)) Token(m);
  for (const std::string& m :
       Mutations(R"({"sub":"etl","iat":1,"exp":5000,"ep":1,"tables":["a.b.c"]})", 3000))
    Token(m);
}

TEST(AuthFuzzRegressionTest, HostileTokenRequests) {
  const std::string sdk =
      "Basic ZXRsOm5ic19zM2NyZXQ=\ngrant_type=client_credentials&scope=all-apis&"
      "authorization_details=%5B%7B%22type%22%3A%22unity_catalog_privileges%22%2C%22privileges%22"
      "%3A%5B%22SELECT%22%2C%22MODIFY%22%5D%2C%22object_type%22%3A%22TABLE%22%2C%22object_full_"
      "path%22%3A%22main.s.t%22%7D%5D";
  for (const std::string& s :
       {std::string(), std::string("\n"), std::string("Basic\n"), std::string("Basic ====\n"),
        std::string("Basic Og==\n%"), std::string("\nclient_id=a&client_secret=b&=&&=x"),
        std::string("Basic YTpi\nauthorization_details=[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]"),
        std::string("Basic YTpi\nauthorization_details=[{\"type\":\"unity_catalog_privileges\","
                    "\"privileges\":[\"MODIFY\"],\"object_type\":\"CATALOG\","
                    "\"object_full_path\":\"*\"}]"),
        sdk})
    Request(s);
  for (const std::string& m : Mutations(sdk, 5000)) Request(m);
}

}  // namespace
}  // namespace nobus::auth
