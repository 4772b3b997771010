// Front door of src/auth: the authorization decision of every front end (gRPC streams, REST
// ingest, table API, admin; later Kafka and MQTT). A request carries "Bearer <token>": either a
// static token from the config file (the simple mode) or an OAuth access token that authority.h
// issued to a service principal. With neither configured the server is open (loopback only,
// unless --insecure). Codes follow specs/zerobus-wire.md: a missing, unknown, malformed, expired or
// revoked token is Unauthenticated; a valid token that does not cover the table is
// PermissionDenied naming it.
//
// Thread-safety: immutable after construction; all methods may be called from any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authority.h"
#include "auth/jwt.h"
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

// Who made a request: a principal with an OAuth access token (kept so a long-lived stream can be
// checked again), a static token, or anyone when auth is off.
struct Caller {
  std::string principal;             // "static token", "anonymous" or the principal's name
  std::optional<TokenClaims> token;  // OAuth access tokens only
};

class Authorizer {
 public:
  // `authority` (borrowed, may be null) verifies OAuth access tokens; without it only the static
  // tokens exist.
  explicit Authorizer(const std::vector<TokenGrant>& grants, Authority* authority = nullptr);

  // Auth is on when static tokens are configured or any principal exists.
  bool enabled() const;
  // `authorization` is the raw header value ("Bearer <token>"), empty when absent.
  // The caller when auth is off, or the token is valid and may write `table` (static admin tokens
  // and admin grants cover all tables).
  [[nodiscard]] absl::StatusOr<Caller> AuthorizeTable(std::string_view authorization,
                                                      const table::TableName& table) const;
  // Creating or dropping `table`: static tokens as for writing; access tokens need ADMIN on it.
  [[nodiscard]] absl::Status AuthorizeTableAdmin(std::string_view authorization,
                                                 const table::TableName& table) const;
  // OK when auth is off or the token is valid (reads of the table API).
  [[nodiscard]] absl::Status Authenticate(std::string_view authorization) const;
  // OK when auth is off or the token may call /admin endpoints (static admin, ADMIN ON CATALOG *).
  [[nodiscard]] absl::Status AuthorizeAdmin(std::string_view authorization) const;
  // For open streams: OK while the caller's access token is unexpired and not revoked.
  [[nodiscard]] absl::Status StillValid(const Caller& caller) const;

 private:
  struct Access;
  // What the header's token may do; Unauthenticated naming what is wrong.
  absl::StatusOr<Access> Resolve(std::string_view authorization) const;

  std::map<std::string, TokenGrant, std::less<>> grants_;
  Authority* const authority_;
};

}  // namespace nobus::auth
