// Access management on a node's auth directory (src/auth/auth_dir.h), Unity-Catalog style:
//   nobus principal create|list|delete NAME, nobus principal hash-secret
//   nobus grant PRIVILEGE ON CATALOG|SCHEMA|TABLE NAME TO PRINCIPAL
//   nobus revoke PRIVILEGE ON CATALOG|SCHEMA|TABLE NAME FROM PRINCIPAL
//   nobus grants show [PRINCIPAL]
//   nobus key rotate
// They edit the directory itself (locked, atomic), so they work before nobusd first starts and on
// any machine that mounts a shared auth directory; running nodes pick changes up at once.
#include <absl/strings/match.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "auth/auth_dir.h"
#include "auth/crypto.h"
#include "auth/grants.h"
#include "cli/cli.h"
#include "env/env.h"

namespace nobus::cli {
namespace {

struct AuthFlags {
  std::string data_dir = "./data";
  std::string auth_dir;
  std::string name;
  std::vector<std::string> words;
  int64_t retire_after_s = 86400;
  std::string Dir() const { return auth_dir.empty() ? env::JoinPath(data_dir, "auth") : auth_dir; }
};

AuthFlags& flags() {
  static AuthFlags f;
  return f;
}

void AddDirOptions(CLI::App* cmd) {
  cmd->add_option("--data-dir", flags().data_dir, "nobusd's data directory (auth lives in DIR/auth)")
      ->capture_default_str();
  cmd->add_option("--auth-dir", flags().auth_dir,
                  "The auth directory itself, when nobusd runs with --auth-dir (shared by nodes)");
}

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "nobus: %s\n", std::string(status.message()).c_str());
  return 1;
}

std::string Date(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%SZ", std::gmtime(&t));
  return buf;
}

absl::Status CreatePrincipal() {
  const std::string name = flags().name;
  NOBUS_RETURN_IF_ERROR(auth::ValidatePrincipalName(name));
  const std::string secret = auth::GenerateClientSecret();
  NOBUS_RETURN_IF_ERROR(auth::UpdatePolicyFile(
      env::PosixFileSystem(), flags().Dir(), [&](auth::Policy* policy) -> absl::Status {
        if (policy->Find(name) != nullptr)
          return absl::AlreadyExistsError(
              Cat("principal '", name, "' already exists: pick another name, or `nobus principal "
                                       "delete ", name, "` first (its tokens stop working)"));
        policy->principals.push_back({.name = name,
                                      .secret_hash = auth::HashSecret(secret),
                                      .created_ms = env::SystemClock()->NowMillis()});
        return absl::OkStatus();
      }));
  std::printf(
      "Created service principal '%s' in %s.\n"
      "  client_id:     %s\n"
      "  client_secret: %s\n"
      "The secret is shown only now (nobus keeps a salted hash). Give it access, e.g.:\n"
      "  nobus grant 'USE CATALOG' ON CATALOG main TO %s\n"
      "  nobus grant 'USE SCHEMA' ON SCHEMA main.default TO %s\n"
      "  nobus grant SELECT,MODIFY ON TABLE main.default.events TO %s\n",
      name.c_str(), flags().Dir().c_str(), name.c_str(), secret.c_str(), name.c_str(),
      name.c_str(), name.c_str());
  return absl::OkStatus();
}

absl::Status ListPrincipals() {
  NOBUS_ASSIGN_OR_RETURN(auth::Policy policy,
                         auth::LoadPolicyFile(env::PosixFileSystem(), flags().Dir()));
  if (policy.principals.empty()) {
    std::printf("no service principals in %s (create one with `nobus principal create NAME`)\n",
                flags().Dir().c_str());
    return absl::OkStatus();
  }
  std::printf("%-24s %-22s %6s %s\n", "NAME", "CREATED", "EPOCH", "GRANTS");
  for (const auth::Principal& p : policy.principals)
    std::printf("%-24s %-22s %6lld %zu\n", p.name.c_str(), Date(p.created_ms).c_str(),
                static_cast<long long>(p.epoch), policy.GrantsOf(p.name).size());
  return absl::OkStatus();
}

absl::Status DeletePrincipal() {
  const std::string name = flags().name;
  NOBUS_RETURN_IF_ERROR(auth::UpdatePolicyFile(
      env::PosixFileSystem(), flags().Dir(), [&](auth::Policy* policy) -> absl::Status {
        auth::Principal* p = policy->Find(name);
        if (p == nullptr)
          return absl::NotFoundError(Cat("no principal '", name, "' in ", flags().Dir(),
                                         " (see `nobus principal list`)"));
        std::string exact = p->name;
        std::erase_if(policy->principals, [&](const auth::Principal& q) { return q.name == exact; });
        std::erase_if(policy->grants, [&](const auth::Grant& g) {
          return auth::ValidatePrincipalName(g.principal).ok() && policy->Find(g.principal) == nullptr;
        });
        return absl::OkStatus();
      }));
  std::printf("deleted principal '%s' and its grants; its access tokens no longer work\n",
              name.c_str());
  return absl::OkStatus();
}

absl::Status HashSecretFromStdin() {
  std::string secret;
  if (!std::getline(std::cin, secret) || secret.empty())
    return absl::InvalidArgumentError("no secret on stdin: echo -n 'SECRET' | nobus principal "
                                      "hash-secret");
  std::printf("%s\n", auth::HashSecret(secret).c_str());
  return absl::OkStatus();
}

// "PRIVILEGE[,PRIVILEGE] ON TYPE NAME TO|FROM PRINCIPAL" from the positional words.
struct GrantStatement {
  std::vector<auth::Privilege> privileges;
  auth::Securable on;
  std::string principal;
};

absl::StatusOr<GrantStatement> ParseStatement(const std::vector<std::string>& words,
                                              std::string_view to) {
  auto usage = [&](std::string_view what) {
    return absl::InvalidArgumentError(Cat(what, ": write PRIVILEGE ON CATALOG|SCHEMA|TABLE NAME ",
                                          to, " PRINCIPAL, e.g. MODIFY ON TABLE main.s.t ", to,
                                          " etl"));
  };
  size_t on = 0;
  while (on < words.size() && !absl::EqualsIgnoreCase(words[on], "ON")) ++on;
  if (on == 0 || on + 5 != words.size() ||
      !absl::EqualsIgnoreCase(words[on + 3], absl::string_view(to.data(), to.size())))
    return usage("cannot read the statement");
  std::string privileges;
  for (size_t i = 0; i < on; ++i) privileges += Cat(i ? " " : "", words[i]);
  GrantStatement s;
  for (size_t start = 0;;) {
    size_t comma = privileges.find(',', start);
    std::string one = privileges.substr(start, comma == std::string::npos ? comma : comma - start);
    while (!one.empty() && one.front() == ' ') one.erase(0, 1);
    while (!one.empty() && one.back() == ' ') one.pop_back();
    NOBUS_ASSIGN_OR_RETURN(auth::Privilege p, auth::ParsePrivilege(one));
    s.privileges.push_back(p);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  NOBUS_ASSIGN_OR_RETURN(s.on, auth::ParseSecurable(words[on + 1], words[on + 2]));
  s.principal = words.back();
  return s;
}

absl::Status Grant() {
  NOBUS_ASSIGN_OR_RETURN(GrantStatement s, ParseStatement(flags().words, "TO"));
  NOBUS_RETURN_IF_ERROR(auth::UpdatePolicyFile(
      env::PosixFileSystem(), flags().Dir(), [&](auth::Policy* policy) -> absl::Status {
        const auth::Principal* p = policy->Find(s.principal);
        if (p == nullptr)
          return absl::NotFoundError(Cat("no principal '", s.principal, "' in ", flags().Dir(),
                                         ": create it with `nobus principal create ",
                                         s.principal, "`"));
        for (auth::Privilege privilege : s.privileges) {
          auth::Grant g{privilege, s.on, p->name};
          if (std::find(policy->grants.begin(), policy->grants.end(), g) == policy->grants.end())
            policy->grants.push_back(g);
        }
        return absl::OkStatus();
      }));
  for (auth::Privilege p : s.privileges)
    std::printf("granted %s ON %s TO %s\n", std::string(auth::PrivilegeName(p)).c_str(),
                s.on.ToString().c_str(), s.principal.c_str());
  return absl::OkStatus();
}

absl::Status Revoke() {
  NOBUS_ASSIGN_OR_RETURN(GrantStatement s, ParseStatement(flags().words, "FROM"));
  NOBUS_RETURN_IF_ERROR(auth::UpdatePolicyFile(
      env::PosixFileSystem(), flags().Dir(), [&](auth::Policy* policy) -> absl::Status {
        auth::Principal* p = policy->Find(s.principal);
        if (p == nullptr)
          return absl::NotFoundError(Cat("no principal '", s.principal, "' in ", flags().Dir()));
        size_t before = policy->grants.size();
        for (auth::Privilege privilege : s.privileges)
          std::erase(policy->grants, auth::Grant{privilege, s.on, p->name});
        if (policy->grants.size() == before)
          return absl::NotFoundError(Cat("principal '", p->name, "' has no such grant on ",
                                         s.on.ToString(), " (see `nobus grants show ", p->name,
                                         "`)"));
        ++p->epoch;  // tokens issued before no longer work: new ones carry the new grants
        return absl::OkStatus();
      }));
  std::printf("revoked; the access tokens issued to '%s' so far no longer work (new tokens "
              "carry the remaining grants)\n",
              s.principal.c_str());
  return absl::OkStatus();
}

absl::Status ShowGrants() {
  NOBUS_ASSIGN_OR_RETURN(auth::Policy policy,
                         auth::LoadPolicyFile(env::PosixFileSystem(), flags().Dir()));
  std::vector<auth::Grant> grants = policy.GrantsOf(flags().name);
  if (grants.empty()) std::printf("no grants\n");
  for (const auth::Grant& g : grants)
    std::printf("%-16s %-40s %s\n", std::string(auth::PrivilegeName(g.privilege)).c_str(),
                g.on.ToString().c_str(), g.principal.c_str());
  return absl::OkStatus();
}

absl::Status RotateKey() {
  NOBUS_ASSIGN_OR_RETURN(std::string id,
                         auth::RotateSigningKey(env::PosixFileSystem(), env::SystemClock(),
                                                flags().Dir(), flags().retire_after_s));
  std::printf("new signing key %s in %s: nodes sign with it from now on; keys superseded more "
              "than %lld s ago were deleted\n",
              id.c_str(), auth::SigningKeyDir(flags().Dir()).c_str(),
              static_cast<long long>(flags().retire_after_s));
  return absl::OkStatus();
}

}  // namespace

void RegisterAuthCommands(CLI::App& app) {
  AuthFlags& f = flags();
  auto* principal = app.add_subcommand(
      "principal", "Service principals: the client id and secret an SDK exchanges for tokens");
  principal->require_subcommand(1);
  auto* create = principal->add_subcommand(
      "create", "Create a principal; prints its client_id and client_secret (once)");
  create->add_option("NAME", f.name, "Principal name, also its client_id")->required();
  AddDirOptions(create);
  create->callback([] { SetExitCode(Report(CreatePrincipal())); });
  auto* list = principal->add_subcommand("list", "List the principals");
  AddDirOptions(list);
  list->callback([] { SetExitCode(Report(ListPrincipals())); });
  auto* del = principal->add_subcommand("delete", "Delete a principal, its grants and tokens");
  del->add_option("NAME", f.name, "Principal name")->required();
  AddDirOptions(del);
  del->callback([] { SetExitCode(Report(DeletePrincipal())); });
  auto* hash = principal->add_subcommand(
      "hash-secret", "Read a secret on stdin, print its hash (for principals in the config file)");
  hash->callback([] { SetExitCode(Report(HashSecretFromStdin())); });

  auto* grant = app.add_subcommand(
      "grant", "Grant privileges: nobus grant MODIFY ON TABLE main.s.t TO etl (privileges: USE "
               "CATALOG, USE SCHEMA, SELECT, MODIFY, ADMIN, ALL PRIVILEGES; comma-separated)");
  grant->add_option("STATEMENT", f.words, "PRIVILEGE[,...] ON CATALOG|SCHEMA|TABLE NAME TO NAME")
      ->required();
  AddDirOptions(grant);
  grant->callback([] { SetExitCode(Report(Grant())); });
  auto* revoke = app.add_subcommand(
      "revoke", "Revoke privileges: nobus revoke MODIFY ON TABLE main.s.t FROM etl (the "
                "principal's tokens stop working at once)");
  revoke->add_option("STATEMENT", f.words, "PRIVILEGE[,...] ON CATALOG|SCHEMA|TABLE NAME FROM NAME")
      ->required();
  AddDirOptions(revoke);
  revoke->callback([] { SetExitCode(Report(Revoke())); });
  auto* grants = app.add_subcommand("grants", "Show grants");
  grants->require_subcommand(1);
  auto* show = grants->add_subcommand("show", "Show the grants of one principal, or all");
  show->add_option("PRINCIPAL", f.name, "Principal (default: all)");
  AddDirOptions(show);
  show->callback([] { SetExitCode(Report(ShowGrants())); });

  auto* key = app.add_subcommand("key", "Token signing keys");
  key->require_subcommand(1);
  auto* rotate = key->add_subcommand(
      "rotate", "Add a new signing key; tokens signed by older keys stay valid until they expire");
  rotate->add_option("--retire-after-s", f.retire_after_s,
                     "Delete keys superseded longer ago than this (at least the token lifetime)")
      ->capture_default_str();
  AddDirOptions(rotate);
  rotate->callback([] { SetExitCode(Report(RotateKey())); });
}

}  // namespace nobus::cli
