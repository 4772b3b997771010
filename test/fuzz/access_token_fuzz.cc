// libFuzzer target for access token verification (auth/jwt.h; untrusted bytes: the bearer token
// of every stream, REST and table request). Two shapes per input: the input as a whole token, and
// the input as the payload of a correctly signed token (so the claims parser is reached).
// Invariants: no crash or sanitizer report; a token that verifies carries a signature equal to
// the HMAC of its signing input (nothing unsigned is ever accepted); a verified payload has a
// subject. Built as a fuzzer with -DNOBUS_FUZZ=ON (clang), and run by auth_test over known-bad
// inputs (NOBUS_FUZZ_REGRESSION).
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/crypto.h"
#include "auth/jwt.h"
#include "fuzz_checks.h"

using nobus::fuzz::Check;

int NobusAccessTokenFuzzOne(const uint8_t* bytes, size_t size) {
  namespace auth = nobus::auth;
  static const auth::SigningKey kKey{"k1", std::string(32, 'k')};
  auth::KeyLookup keys = [](std::string_view id) { return id == kKey.id ? &kKey : nullptr; };
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  auto whole = auth::VerifyToken(input, keys, 1000);
  if (whole.ok()) {
    size_t last = input.rfind('.');
    Check(auth::Base64UrlDecode(input.substr(last + 1)) ==
          auth::HmacSha256(kKey.secret, input.substr(0, last)));
  } else {
    Check(whole.status().code() == absl::StatusCode::kUnauthenticated);
  }
  std::string signing_input =
      auth::Base64UrlEncode(R"({"alg":"HS256","kid":"k1"})") + "." + auth::Base64UrlEncode(input);
  std::string token =
      signing_input + "." + auth::Base64UrlEncode(auth::HmacSha256(kKey.secret, signing_input));
  auto claims = auth::VerifyToken(token, keys, 1000);
  Check(claims.ok() ? claims->expires_at_s > 1000 : claims.status().code() ==
                                                        absl::StatusCode::kUnauthenticated);
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusAccessTokenFuzzOne(bytes, size);
}
#endif
