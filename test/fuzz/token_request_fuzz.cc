// libFuzzer target for the token endpoint's parsing (auth/token_request.h; untrusted bytes: the
// Authorization header and the form body of POST /oidc/v1/token, including the JSON of
// authorization_details). The input's first line is the header, the rest the body.
// Invariants: no crash or sanitizer report; errors are Unauthenticated (credentials) or
// InvalidArgument (everything else); every accepted securable parses again from its own text.
// Built as a fuzzer with -DNOBUS_FUZZ=ON (clang), and run by auth_test over known-bad inputs
// (NOBUS_FUZZ_REGRESSION).
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/token_request.h"
#include "fuzz_checks.h"

using nobus::fuzz::Check;

int NobusTokenRequestFuzzOne(const uint8_t* bytes, size_t size) {
  namespace auth = nobus::auth;
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  size_t newline = input.find('\n');
  std::string_view header = input.substr(0, newline);
  std::string_view body = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  auto request = auth::ParseTokenRequest(header, body);
  if (!request.ok()) {
    Check(request.status().code() == absl::StatusCode::kUnauthenticated ||
          request.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  for (const auth::RequestedPrivileges& r : request->details) {
    std::string text = r.on.ToString();
    auto again = auth::ParseSecurable(text.substr(0, text.find(' ')), r.on.name);
    Check(again.ok() && *again == r.on);
  }
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusTokenRequestFuzzOne(bytes, size);
}
#endif
