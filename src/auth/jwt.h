// Access tokens: compact JWS (RFC 7515) carrying JWT claims (RFC 7519), signed HS256 with a key of
// the signing key ring (signing_keys.h). Issued by the token endpoint (authority.h), checked on
// every stream open, REST request and table call without any lookup besides the key id.
// Claims beyond the registered ones: "ep" (the principal's revocation epoch when issued),
// "tables" (patterns the token may write) and "admin" (patterns it administers; "*.*.*" is node
// admin). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nobus::auth {

struct TokenClaims {
  std::string subject;  // the principal
  int64_t issued_at_s = 0;
  int64_t expires_at_s = 0;
  int64_t epoch = 0;
  std::vector<std::string> tables;
  std::vector<std::string> admin;
  std::string token_id;  // "jti", for logs
};

struct SigningKey {
  std::string id;      // "kid" in the token header
  std::string secret;  // 32 random bytes
};

std::string SignToken(const TokenClaims& claims, const SigningKey& key);

// The key with this id, or null when the ring does not hold it.
using KeyLookup = std::function<const SigningKey*(std::string_view key_id)>;

// The claims of a well-formed, correctly signed, unexpired token. Unauthenticated otherwise, the
// message naming what is wrong (malformed, algorithm other than HS256 including "none", unknown
// key, bad signature, expired) and what to do next.
[[nodiscard]] absl::StatusOr<TokenClaims> VerifyToken(std::string_view token,
                                                      const KeyLookup& keys, int64_t now_s);

// True when `token` has the shape of a JWS (three dot-separated parts), so it is not meant as a
// static token from the config.
bool LooksLikeJwt(std::string_view token);

}  // namespace nobus::auth
