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

Authorizer::Authorizer(const std::vector<TokenGrant>& grants) {
  for (const TokenGrant& g : grants) grants_[g.token] = g;
}

absl::StatusOr<const TokenGrant*> Authorizer::Find(std::string_view authorization) const {
  if (authorization.empty())
    return absl::UnauthenticatedError(
        "missing 'authorization: Bearer <token>' header: this server requires a token");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !EqualsIgnoreCase(authorization.substr(0, kBearer.size()), kBearer))
    return absl::UnauthenticatedError("the authorization header must be 'Bearer <token>'");
  std::string_view token = authorization.substr(kBearer.size());
  auto it = grants_.find(token);
  if (it == grants_.end())
    return absl::UnauthenticatedError("unknown token: use a token listed in the server's config");
  return &it->second;
}

absl::Status Authorizer::AuthorizeTable(std::string_view authorization,
                                        const table::TableName& table) const {
  if (!enabled()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(const TokenGrant* grant, Find(authorization));
  if (grant->admin) return absl::OkStatus();
  for (const std::string& pattern : grant->tables) {
    if (PatternCovers(pattern, table)) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      Cat("this token may not write table '", table.ToString(),
          "': add a pattern covering it to the token's \"tables\" in the server config"));
}

absl::Status Authorizer::Authenticate(std::string_view authorization) const {
  if (!enabled()) return absl::OkStatus();
  return Find(authorization).status();
}

absl::Status Authorizer::AuthorizeAdmin(std::string_view authorization) const {
  if (!enabled()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(const TokenGrant* grant, Find(authorization));
  if (!grant->admin)
    return absl::PermissionDeniedError(
        "this endpoint needs an admin token (\"admin\": true in the server config)");
  return absl::OkStatus();
}

}  // namespace nobus::auth
