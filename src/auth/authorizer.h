// Bearer-token authorization for every front end (gRPC streams, REST ingest, table API, admin).
// Tokens come from the config file (config.h TokenGrant). With no tokens configured the server is
// open (loopback-only use, enforced by ValidateConfig). Codes follow specs/zerobus-wire.md: a
// missing or unknown token is Unauthenticated, a token that does not cover the table is
// PermissionDenied.
//
// Thread-safety: immutable after construction; all methods may be called from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "table/catalog.h"

namespace nobus::auth {

// One static bearer token from the config file ("simple mode") and what it may do. `tables` holds
// patterns "catalog.schema.table" where a part is either a name (case-insensitive) or `*` for any
// name. An admin token may write every table and call the /admin endpoints.
struct TokenGrant {
  std::string token;
  std::vector<std::string> tables;
  bool admin = false;
};

// InvalidArgument unless `pattern` is "catalog.schema.table" with each part a valid name part or
// "*".
[[nodiscard]] absl::Status ValidateTablePattern(std::string_view pattern);
// True if `pattern` (validated) covers `name`; parts compare case-insensitively.
bool PatternCovers(std::string_view pattern, const table::TableName& name);

class Authorizer {
 public:
  explicit Authorizer(const std::vector<TokenGrant>& grants);

  bool enabled() const { return !grants_.empty(); }
  // `authorization` is the raw header value ("Bearer <token>"), empty when absent.
  // OK when auth is disabled, or the token is known and covers `table` (admin covers all).
  [[nodiscard]] absl::Status AuthorizeTable(std::string_view authorization,
                                            const table::TableName& table) const;
  // OK when auth is disabled or the token is known (reads of the table API).
  [[nodiscard]] absl::Status Authenticate(std::string_view authorization) const;
  // OK when auth is disabled or the token is an admin token.
  [[nodiscard]] absl::Status AuthorizeAdmin(std::string_view authorization) const;

 private:
  // The grant for the header's token; Unauthenticated naming what is wrong.
  absl::StatusOr<const TokenGrant*> Find(std::string_view authorization) const;

  std::map<std::string, TokenGrant, std::less<>> grants_;
};

}  // namespace nobus::auth
