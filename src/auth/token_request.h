// The OAuth 2.0 client-credentials request the official SDKs send to POST /oidc/v1/token
// (specs/zerobus-wire.md "OAuth"): HTTP Basic client_id:client_secret (or client_secret_post form
// fields), and a form body with grant_type, scope, resource and authorization_details (a JSON list
// of Unity Catalog privileges on a catalog, schema or table). Parsing only, of untrusted bytes
// (fuzzed: test/fuzz/token_request_fuzz.cc); the decision is authority.h's. Thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "auth/grants.h"
#include "common/status.h"

namespace nobus::auth {

struct RequestedPrivileges {
  Securable on;
  std::vector<Privilege> privileges;
};

struct TokenRequest {
  std::string client_id;
  std::string client_secret;
  std::string grant_type;
  std::string scope;
  std::string resource;
  bool has_details = false;  // authorization_details was sent
  std::vector<RequestedPrivileges> details;
};

// application/x-www-form-urlencoded: '+' is a space, %XX a byte. InvalidArgument for a bad escape
// or a key given twice.
[[nodiscard]] absl::StatusOr<std::map<std::string, std::string>> ParseForm(std::string_view body);

// Unauthenticated when no client credentials were sent (or the Basic header is not
// base64("id:secret")); InvalidArgument naming the field for anything else malformed.
[[nodiscard]] absl::StatusOr<TokenRequest> ParseTokenRequest(std::string_view authorization,
                                                             std::string_view body);

}  // namespace nobus::auth
