// Service principals and their Unity-Catalog-like grants: the policy the token endpoint consults
// before it issues a token. A value type with pure functions; the file that holds it is
// policy_store.h. Privileges granted on a catalog or schema hold for everything inside it, and
// CATALOG * means every catalog; ALL PRIVILEGES holds every privilege. Names compare
// case-insensitively, as in Unity Catalog.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nobus::auth {

enum class Privilege { kUseCatalog, kUseSchema, kSelect, kModify, kAdmin, kAllPrivileges };
// "USE CATALOG", "use_catalog", "MODIFY", "ALL PRIVILEGES", ...; InvalidArgument listing them.
[[nodiscard]] absl::StatusOr<Privilege> ParsePrivilege(std::string_view text);
std::string_view PrivilegeName(Privilege p);

enum class SecurableType { kCatalog, kSchema, kTable };
struct Securable {
  SecurableType type = SecurableType::kTable;
  std::string name;  // "main", "main.sales", "main.sales.orders"; a catalog may be "*"
  std::string ToString() const;  // "TABLE main.sales.orders"
  bool operator==(const Securable&) const = default;
};
// `type` is CATALOG, SCHEMA or TABLE (any case); `name` must have 1, 2 or 3 valid parts to match.
[[nodiscard]] absl::StatusOr<Securable> ParseSecurable(std::string_view type,
                                                       std::string_view name);

struct Principal {
  std::string name;         // also the OAuth client_id
  std::string secret_hash;  // crypto.h HashSecret
  int64_t epoch = 1;        // bumped by every revoke: tokens issued before stop working
  int64_t created_ms = 0;
  bool declared = false;    // from the config file (read-only for the CLI)
};

struct Grant {
  Privilege privilege = Privilege::kModify;
  Securable on;
  std::string principal;
  bool operator==(const Grant&) const = default;
};

// InvalidArgument unless `name` is 1-128 characters of [A-Za-z0-9._@-].
[[nodiscard]] absl::Status ValidatePrincipalName(std::string_view name);

struct Policy {
  std::vector<Principal> principals;
  std::vector<Grant> grants;

  const Principal* Find(std::string_view principal) const;
  Principal* Find(std::string_view principal);
  // True when `principal` holds `privilege` on `on` directly, through a catalog or schema that
  // contains it, or through ALL PRIVILEGES.
  bool Holds(std::string_view principal, Privilege privilege, const Securable& on) const;
  // Table patterns (authorizer.h) covering every table on which `principal` holds `privilege`.
  std::vector<std::string> Patterns(std::string_view principal, Privilege privilege) const;
  // The grants of one principal, or on one securable (`on` empty name = all).
  std::vector<Grant> GrantsOf(std::string_view principal) const;
};

// The principals.json document (also the "principals"/"grants" keys of the config file).
std::string PolicyToJson(const Policy& policy);
// InvalidArgument naming `origin` and the key for malformed content, unknown privileges,
// duplicate principals or grants to unknown principals.
[[nodiscard]] absl::StatusOr<Policy> PolicyFromJson(std::string_view text, std::string_view origin,
                                                    bool declared);
// `extra` (config-declared) joined to `base` (the file); InvalidArgument on a principal in both.
[[nodiscard]] absl::StatusOr<Policy> MergePolicies(Policy base, const Policy& extra);

}  // namespace nobus::auth
