#include "auth/grants.h"

#include <absl/strings/ascii.h>
#include <absl/strings/str_split.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "table/catalog.h"

namespace nobus::auth {
namespace {

using nlohmann::json;

constexpr std::pair<Privilege, std::string_view> kPrivileges[] = {
    {Privilege::kUseCatalog, "USE CATALOG"}, {Privilege::kUseSchema, "USE SCHEMA"},
    {Privilege::kSelect, "SELECT"},          {Privilege::kModify, "MODIFY"},
    {Privilege::kAdmin, "ADMIN"},            {Privilege::kAllPrivileges, "ALL PRIVILEGES"}};

std::string Upper(std::string_view s) { return absl::AsciiStrToUpper(std::string(s)); }
std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

// The lower-cased dot-separated parts of a securable name.
std::vector<std::string> Parts(std::string_view name) {
  return absl::StrSplit(Lower(name), '.');
}

// True when securable `outer` is or contains `inner`.
bool Contains(const Securable& outer, const Securable& inner) {
  std::vector<std::string> o = Parts(outer.name), i = Parts(inner.name);
  if (o.size() > i.size()) return false;
  if (o.size() == 1 && o[0] == "*") return true;
  return std::equal(o.begin(), o.end(), i.begin());
}

std::string_view TypeName(SecurableType t) {
  switch (t) {
    case SecurableType::kCatalog: return "CATALOG";
    case SecurableType::kSchema: return "SCHEMA";
    case SecurableType::kTable: return "TABLE";
  }
  return "?";
}

absl::Status KeyError(std::string_view origin, std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(Cat(origin, ": '", key, "' ", what));
}

std::string StringAt(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

absl::StatusOr<Principal> ReadPrincipal(const json& item, std::string_view origin,
                                        std::string_view key, bool declared) {
  if (!item.is_object()) return KeyError(origin, key, "must be an object");
  Principal p;
  p.name = StringAt(item, "name");
  p.secret_hash = StringAt(item, "secret_hash");
  NOBUS_RETURN_IF_ERROR(Annotate(ValidatePrincipalName(p.name), Cat(origin, ": ", key)));
  if (p.secret_hash.empty())
    return KeyError(origin, Cat(key, ".secret_hash"),
                    "must be the hash `nobus principal hash-secret` prints");
  for (auto [k, out] : {std::pair{"epoch", &p.epoch}, std::pair{"created_ms", &p.created_ms}}) {
    if (!item.contains(k)) continue;
    if (!item[k].is_number_integer()) return KeyError(origin, Cat(key, ".", k), "must be an integer");
    *out = item[k].get<int64_t>();
  }
  p.declared = declared;
  return p;
}

absl::StatusOr<Grant> ReadGrant(const json& item, std::string_view origin, std::string_view key) {
  if (!item.is_object()) return KeyError(origin, key, "must be an object");
  Grant g;
  auto privilege = ParsePrivilege(StringAt(item, "privilege"));
  if (!privilege.ok()) return Annotate(privilege.status(), Cat(origin, ": ", key));
  g.privilege = *privilege;
  auto on = ParseSecurable(StringAt(item, "on"), StringAt(item, "name"));
  if (!on.ok()) return Annotate(on.status(), Cat(origin, ": ", key));
  g.on = *on;
  g.principal = StringAt(item, "principal");
  return g;
}

}  // namespace

absl::StatusOr<Privilege> ParsePrivilege(std::string_view text) {
  std::string upper = Upper(text);
  std::replace(upper.begin(), upper.end(), '_', ' ');
  for (auto [p, name] : kPrivileges)
    if (upper == name) return p;
  return absl::InvalidArgumentError(Cat("unknown privilege '", text,
                                        "': use USE CATALOG, USE SCHEMA, SELECT, MODIFY, ADMIN or "
                                        "ALL PRIVILEGES"));
}

std::string_view PrivilegeName(Privilege p) {
  for (auto [q, name] : kPrivileges)
    if (p == q) return name;
  return "?";
}

std::string Securable::ToString() const { return Cat(TypeName(type), " ", name); }

absl::StatusOr<Securable> ParseSecurable(std::string_view type, std::string_view name) {
  std::string upper = Upper(type);
  Securable s;
  size_t want = 0;
  if (upper == "CATALOG") s.type = SecurableType::kCatalog, want = 1;
  else if (upper == "SCHEMA") s.type = SecurableType::kSchema, want = 2;
  else if (upper == "TABLE") s.type = SecurableType::kTable, want = 3;
  else
    return absl::InvalidArgumentError(
        Cat("unknown securable '", type, "': use CATALOG, SCHEMA or TABLE"));
  std::vector<std::string> parts = Parts(name);
  if (parts.size() != want)
    return absl::InvalidArgumentError(Cat(upper, " name '", name, "' must have ", want,
                                          want == 1 ? " part" : " dot-separated parts"));
  if (!(want == 1 && parts[0] == "*")) {
    for (const std::string& part : parts)
      NOBUS_RETURN_IF_ERROR(table::ValidateNamePart(part, Cat(Lower(upper), " name part")));
  }
  s.name = std::string(name);
  return s;
}

absl::Status ValidatePrincipalName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 128;
  for (char c : name)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
                c == '-');
  if (!ok)
    return absl::InvalidArgumentError(
        Cat("principal name '", name, "' must be 1-128 characters of letters, digits, . _ @ -"));
  return absl::OkStatus();
}

const Principal* Policy::Find(std::string_view principal) const {
  for (const Principal& p : principals)
    if (Lower(p.name) == Lower(principal)) return &p;
  return nullptr;
}

Principal* Policy::Find(std::string_view principal) {
  return const_cast<Principal*>(std::as_const(*this).Find(principal));
}

bool Policy::Holds(std::string_view principal, Privilege privilege, const Securable& on) const {
  for (const Grant& g : grants) {
    if (Lower(g.principal) != Lower(principal)) continue;
    if (g.privilege != privilege && g.privilege != Privilege::kAllPrivileges) continue;
    if (Contains(g.on, on)) return true;
  }
  return false;
}

std::vector<std::string> Policy::Patterns(std::string_view principal, Privilege privilege) const {
  std::vector<std::string> out;
  for (const Grant& g : grants) {
    if (Lower(g.principal) != Lower(principal)) continue;
    if (g.privilege != privilege && g.privilege != Privilege::kAllPrivileges) continue;
    std::string pattern = g.on.name;
    for (size_t n = Parts(g.on.name).size(); n < 3; ++n) pattern += ".*";
    if (std::find(out.begin(), out.end(), pattern) == out.end()) out.push_back(pattern);
  }
  return out;
}

std::vector<Grant> Policy::GrantsOf(std::string_view principal) const {
  std::vector<Grant> out;
  for (const Grant& g : grants)
    if (principal.empty() || Lower(g.principal) == Lower(principal)) out.push_back(g);
  return out;
}

std::string PolicyToJson(const Policy& policy) {
  json principals = json::array(), grants = json::array();
  for (const Principal& p : policy.principals) {
    if (p.declared) continue;
    principals.push_back({{"name", p.name},
                          {"secret_hash", p.secret_hash},
                          {"epoch", p.epoch},
                          {"created_ms", p.created_ms}});
  }
  for (const Grant& g : policy.grants) {
    const Principal* owner = policy.Find(g.principal);
    if (owner != nullptr && owner->declared) continue;
    grants.push_back({{"privilege", PrivilegeName(g.privilege)},
                      {"on", TypeName(g.on.type)},
                      {"name", g.on.name},
                      {"principal", g.principal}});
  }
  return json{{"principals", principals}, {"grants", grants}}.dump(2) + "\n";
}

absl::StatusOr<Policy> PolicyFromJson(std::string_view text, std::string_view origin,
                                      bool declared) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object())
    return absl::InvalidArgumentError(Cat(origin, ": not a JSON object with principals and grants"));
  Policy policy;
  for (const char* key : {"principals", "grants"}) {
    if (doc.contains(key) && !doc[key].is_array()) return KeyError(origin, key, "must be an array");
  }
  if (doc.contains("principals")) {
    size_t i = 0;
    for (const json& item : doc["principals"]) {
      NOBUS_ASSIGN_OR_RETURN(Principal p,
                             ReadPrincipal(item, origin, Cat("principals[", i++, "]"), declared));
      if (policy.Find(p.name) != nullptr)
        return KeyError(origin, "principals", Cat("names '", p.name, "' twice"));
      policy.principals.push_back(std::move(p));
    }
  }
  if (doc.contains("grants")) {
    size_t i = 0;
    for (const json& item : doc["grants"]) {
      NOBUS_ASSIGN_OR_RETURN(Grant g, ReadGrant(item, origin, Cat("grants[", i++, "]")));
      policy.grants.push_back(std::move(g));
    }
  }
  return policy;
}

absl::StatusOr<Policy> MergePolicies(Policy base, const Policy& extra) {
  for (const Principal& p : extra.principals) {
    if (base.Find(p.name) != nullptr)
      return absl::InvalidArgumentError(Cat("principal '", p.name,
                                            "' is declared in the config file and also created "
                                            "with `nobus principal create`: delete one of them"));
    base.principals.push_back(p);
  }
  base.grants.insert(base.grants.end(), extra.grants.begin(), extra.grants.end());
  return base;
}

}  // namespace nobus::auth
