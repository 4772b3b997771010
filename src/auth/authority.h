// The OAuth authority of one node: issues access tokens at POST /oidc/v1/token to service
// principals whose secret and grants allow it, and verifies the tokens it (or a node sharing the
// auth directory) issued. State is the auth directory (auth_dir.h) joined with the principals and
// grants declared in the config file; every call first notices changes to the directory (a stat),
// so grants and revocations take effect at once, on every node sharing it.
//
// Verification is a signature check plus in-memory compares (epoch, expiry): no I/O besides that
// stat. Failed client authentications are logged and limited per client_id.
// Thread-safety: all methods are thread-safe. Borrows fs and clock.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/grants.h"
#include "auth/jwt.h"
#include "common/status.h"
#include "env/env.h"

namespace nobus::auth {

struct AuthorityOptions {
  std::string dir;                   // the auth directory
  int64_t token_ttl_s = 3600;        // access token lifetime
  Policy declared;                   // principals and grants from the config file
  int max_failures_per_minute = 10;  // per client_id; then 429 until the minute is over
};

// An HTTP answer of the token endpoint: status and JSON body.
struct TokenReply {
  int http_status = 200;
  std::string body;
};

class Authority {
 public:
  // Creates the directory and a first signing key if needed, loads the policy; InvalidArgument
  // for a malformed policy file or a principal both declared and created.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Authority>> Open(env::FileSystem* fs,
                                                                       env::Clock* clock,
                                                                       AuthorityOptions options);
  ~Authority();

  // POST /oidc/v1/token. 200 {"access_token", "token_type": "Bearer", "expires_in"}; 400
  // invalid_request / unsupported_grant_type; 401 invalid_client (unknown client or wrong
  // secret: the same answer for both); 403 access_denied naming the missing privilege; 429
  // when the client failed too often. `peer` is only logged.
  TokenReply IssueToken(std::string_view authorization, std::string_view body,
                        std::string_view peer);

  // The claims of a token this deployment issued, whose principal still exists with the epoch
  // the token carries. Unauthenticated naming the problem otherwise.
  [[nodiscard]] absl::StatusOr<TokenClaims> Verify(std::string_view token);
  // For open streams: OK while `claims` is unexpired and its principal not revoked since.
  [[nodiscard]] absl::Status StillValid(const TokenClaims& claims);

  // True when any principal exists (then every request must authenticate).
  bool has_principals();
  // Re-reads the directory now (SIGHUP); on error the previous state stays.
  [[nodiscard]] absl::Status Reload();

 private:
  struct State;
  class FailureLimiter;
  Authority(env::FileSystem* fs, env::Clock* clock, AuthorityOptions options);
  // The current state, reloaded first when the directory changed.
  std::shared_ptr<const State> Current();
  absl::StatusOr<std::shared_ptr<const State>> Load();
  absl::StatusOr<TokenClaims> Authorize(const State& state, const struct TokenRequest& request);
  // Unauthenticated when the claims' principal is gone, revoked since, or the token expired.
  absl::Status CheckPrincipal(const State& state, const TokenClaims& claims);

  env::FileSystem* const fs_;
  env::Clock* const clock_;
  const AuthorityOptions options_;
  std::mutex mu_;
  std::shared_ptr<const State> state_;  // guarded by mu_
  std::unique_ptr<FailureLimiter> limiter_;
};

}  // namespace nobus::auth
