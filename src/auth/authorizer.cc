#include "auth/authorizer.h"

#include <algorithm>
#include <cctype>

namespace nobus::auth {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

std::vector<std::string_view> SplitDots(std::string_view s) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t dot; (dot = s.find('.', start)) != std::string_view::npos; start = dot + 1)
    parts.push_back(s.substr(start, dot - start));
  parts.push_back(s.substr(start));
  return parts;
}

}  // namespace

absl::Status ValidateTablePattern(std::string_view pattern) {
  std::vector<std::string_view> parts = SplitDots(pattern);
  if (parts.size() != 3)
    return absl::InvalidArgumentError(Cat("table pattern '", pattern,
                                          "' must have three parts, e.g. main.default.* or "
                                          "cat.sch.tbl"));
  for (std::string_view part : parts) {
    if (part == "*") continue;
    absl::Status s = table::ValidateNamePart(part, "table pattern part");
    if (!s.ok()) return Annotate(s, Cat("table pattern '", pattern, "'"));
  }
  return absl::OkStatus();
}

bool PatternCovers(std::string_view pattern, const table::TableName& name) {
  std::vector<std::string_view> parts = SplitDots(pattern);
  if (parts.size() != 3) return false;
  const std::string* actual[3] = {&name.catalog, &name.schema, &name.table};
  for (int i = 0; i < 3; ++i) {
    if (parts[i] != "*" && !EqualsIgnoreCase(parts[i], *actual[i])) return false;
  }
  return true;
}

struct Authorizer::Access {
  Caller caller;
  std::vector<std::string> tables;  // patterns it may write
  std::vector<std::string> admin;   // patterns it administers
  bool static_admin = false;        // a static admin token: everything
};

namespace {

bool AnyCovers(const std::vector<std::string>& patterns, const table::TableName& table) {
  for (const std::string& p : patterns)
    if (PatternCovers(p, table)) return true;
  return false;
}

std::string Joined(const std::vector<std::string>& patterns) {
  std::string out;
  for (const std::string& p : patterns) out += Cat(out.empty() ? "" : ", ", p);
  return out.empty() ? "no tables" : out;
}

}  // namespace

Authorizer::Authorizer(const std::vector<TokenGrant>& grants, Authority* authority)
    : authority_(authority) {
  for (const TokenGrant& g : grants) grants_[g.token] = g;
}

bool Authorizer::enabled() const {
  return !grants_.empty() || (authority_ != nullptr && authority_->has_principals());
}

absl::StatusOr<Authorizer::Access> Authorizer::Resolve(std::string_view authorization) const {
  if (authorization.empty())
    return absl::UnauthenticatedError(
        "missing 'authorization: Bearer <token>' header: this server requires a token");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer))
    return absl::UnauthenticatedError("the authorization header must be 'Bearer <token>'");
  std::string_view token = authorization.substr(kBearer.size());
  if (auto it = grants_.find(token); it != grants_.end()) {
    return Access{.caller = {.principal = "static token"},
                  .tables = it->second.tables,
                  .static_admin = it->second.admin};
  }
  if (authority_ == nullptr || !LooksLikeJwt(token))
    return absl::UnauthenticatedError(
        authority_ == nullptr
            ? "unknown token: use a token listed in the server's config"
            : "unknown token: use a token listed in the server's config, or an access token "
              "from POST /oidc/v1/token (client id and secret of a service principal)");
  NOBUS_ASSIGN_OR_RETURN(TokenClaims claims, authority_->Verify(token));
  return Access{.caller = {.principal = claims.subject, .token = claims},
                .tables = claims.tables,
                .admin = claims.admin};
}

absl::StatusOr<Caller> Authorizer::AuthorizeTable(std::string_view authorization,
                                                  const table::TableName& table) const {
  if (!enabled()) return Caller{.principal = "anonymous"};
  NOBUS_ASSIGN_OR_RETURN(Access access, Resolve(authorization));
  if (access.static_admin || AnyCovers(access.tables, table) || AnyCovers(access.admin, table))
    return std::move(access.caller);
  if (!access.caller.token)
    return absl::PermissionDeniedError(
        Cat("this token may not write table '", table.ToString(),
            "': add a pattern covering it to the token's \"tables\" in the server config"));
  return absl::PermissionDeniedError(
      Cat("this access token of principal '", access.caller.principal,
          "' may not write table '", table.ToString(), "' (it was issued for ",
          Joined(access.tables), "): request a token for this table, with MODIFY on it "
          "granted to the principal"));
}

absl::Status Authorizer::AuthorizeTableAdmin(std::string_view authorization,
                                             const table::TableName& table) const {
  if (!enabled()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(Access access, Resolve(authorization));
  if (!access.caller.token) return AuthorizeTable(authorization, table).status();
  if (AnyCovers(access.admin, table)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      Cat("principal '", access.caller.principal, "' may not create or drop table '",
          table.ToString(), "': it needs ADMIN on the table, its schema or its catalog"));
}

absl::Status Authorizer::Authenticate(std::string_view authorization) const {
  if (!enabled()) return absl::OkStatus();
  return Resolve(authorization).status();
}

absl::Status Authorizer::AuthorizeAdmin(std::string_view authorization) const {
  if (!enabled()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(Access access, Resolve(authorization));
  if (access.static_admin) return absl::OkStatus();
  if (access.caller.token) {
    for (const std::string& p : access.admin)
      if (p == "*.*.*") return absl::OkStatus();
    return absl::PermissionDeniedError(
        Cat("principal '", access.caller.principal,
            "' may not call admin endpoints: it needs ADMIN ON CATALOG *"));
  }
  return absl::PermissionDeniedError(
      "this endpoint needs an admin token (\"admin\": true in the server config)");
}

absl::Status Authorizer::StillValid(const Caller& caller) const {
  if (!caller.token || authority_ == nullptr) return absl::OkStatus();
  return authority_->StillValid(*caller.token);
}

}  // namespace nobus::auth
