#include "auth/authority.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "auth/auth_dir.h"
#include "auth/crypto.h"
#include "auth/token_request.h"
#include "common/logging.h"

namespace nobus::auth {
namespace {

using nlohmann::json;

TokenReply Reply(int status, std::string_view error, std::string_view description) {
  return {status, json{{"error", error}, {"error_description", description}}.dump()};
}

bool Requests(const RequestedPrivileges& r, Privilege p) {
  for (Privilege q : r.privileges)
    if (q == p || q == Privilege::kAllPrivileges) return true;
  return false;
}

}  // namespace

struct Authority::State {
  std::string fingerprint;  // what the directory looked like when loaded
  Policy policy;
  std::vector<SigningKey> keys;
  const SigningKey* Find(std::string_view id) const {
    for (const SigningKey& k : keys)
      if (k.id == id) return &k;
    return nullptr;
  }
};

// Failed client authentications per client_id within the current minute.
class Authority::FailureLimiter {
 public:
  explicit FailureLimiter(int max_per_minute) : max_(max_per_minute) {}
  // Seconds until `client` may try again; 0 when it may now.
  int64_t RetryAfterS(const std::string& client, int64_t now_ms) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = failures_.find(client);
    if (it == failures_.end() || now_ms - it->second.window_start_ms >= 60'000) return 0;
    if (it->second.count < max_) return 0;
    return (it->second.window_start_ms + 60'000 - now_ms + 999) / 1000;
  }
  void Fail(const std::string& client, int64_t now_ms) {
    std::lock_guard<std::mutex> l(mu_);
    if (failures_.size() > 10'000) Prune(now_ms);
    Entry& e = failures_[client];
    if (now_ms - e.window_start_ms >= 60'000) e = {now_ms, 0};
    ++e.count;
  }

 private:
  struct Entry {
    int64_t window_start_ms = 0;
    int count = 0;
  };
  void Prune(int64_t now_ms) {
    std::erase_if(failures_, [&](const auto& kv) {
      return now_ms - kv.second.window_start_ms >= 60'000;
    });
    if (failures_.size() > 10'000) failures_.clear();  // a spray of made-up ids: start over
  }
  const int max_;
  std::mutex mu_;
  std::map<std::string, Entry> failures_;
};

Authority::Authority(env::FileSystem* fs, env::Clock* clock, AuthorityOptions options)
    : fs_(fs),
      clock_(clock),
      options_(std::move(options)),
      limiter_(std::make_unique<FailureLimiter>(options_.max_failures_per_minute)) {}

Authority::~Authority() = default;

absl::StatusOr<std::unique_ptr<Authority>> Authority::Open(env::FileSystem* fs, env::Clock* clock,
                                                           AuthorityOptions options) {
  NOBUS_RETURN_IF_ERROR(InitAuthDir(fs, clock, options.dir));
  std::unique_ptr<Authority> authority(new Authority(fs, clock, std::move(options)));
  NOBUS_ASSIGN_OR_RETURN(authority->state_, authority->Load());
  return authority;
}

absl::StatusOr<std::shared_ptr<const Authority::State>> Authority::Load() {
  auto state = std::make_shared<State>();
  absl::StatusOr<env::FileInfo> info = fs_->Stat(PolicyFile(options_.dir));
  state->fingerprint = info.ok() ? Cat(info->mtime_ms, "/", info->size_bytes) : "-";
  NOBUS_ASSIGN_OR_RETURN(Policy file, LoadPolicyFile(fs_, options_.dir));
  NOBUS_ASSIGN_OR_RETURN(state->policy, MergePolicies(std::move(file), options_.declared));
  NOBUS_ASSIGN_OR_RETURN(state->keys, LoadSigningKeys(fs_, options_.dir));
  if (state->keys.empty())
    return absl::FailedPreconditionError(Cat("no signing key in ", SigningKeyDir(options_.dir),
                                             ": run `nobus key rotate`"));
  for (const SigningKey& k : state->keys) state->fingerprint += Cat(" ", k.id);
  return std::shared_ptr<const State>(std::move(state));
}

std::shared_ptr<const Authority::State> Authority::Current() {
  std::lock_guard<std::mutex> l(mu_);
  absl::StatusOr<env::FileInfo> info = fs_->Stat(PolicyFile(options_.dir));
  std::string fingerprint = info.ok() ? Cat(info->mtime_ms, "/", info->size_bytes) : "-";
  absl::StatusOr<std::vector<std::string>> names = fs_->ListDir(SigningKeyDir(options_.dir));
  if (names.ok()) {
    for (const std::string& n : *names)
      if (n.ends_with(".key")) fingerprint += Cat(" ", n.substr(0, n.size() - 4));
  }
  if (fingerprint != state_->fingerprint) {
    absl::StatusOr<std::shared_ptr<const State>> loaded = Load();
    if (loaded.ok()) {
      state_ = *loaded;
    } else {
      NOBUS_LOG_ERROR("auth directory {} changed but cannot be loaded (keeping the previous "
                      "principals, grants and keys): {}",
                      options_.dir, loaded.status().ToString());
    }
  }
  return state_;
}

absl::Status Authority::Reload() {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<const State> loaded, Load());
  std::lock_guard<std::mutex> l(mu_);
  state_ = std::move(loaded);
  return absl::OkStatus();
}

bool Authority::has_principals() { return !Current()->policy.principals.empty(); }

absl::StatusOr<TokenClaims> Authority::Authorize(const State& state,
                                                 const TokenRequest& request) {
  const Principal* principal = state.policy.Find(request.client_id);
  TokenClaims claims;
  claims.subject = principal->name;
  claims.epoch = principal->epoch;
  if (!request.has_details) {
    claims.tables = state.policy.Patterns(principal->name, Privilege::kModify);
    claims.admin = state.policy.Patterns(principal->name, Privilege::kAdmin);
  }
  for (const RequestedPrivileges& r : request.details) {
    std::string missing;
    for (Privilege p : r.privileges) {
      if (!state.policy.Holds(principal->name, p, r.on))
        missing += Cat(missing.empty() ? "" : ",", PrivilegeName(p));
    }
    if (!missing.empty())
      return absl::PermissionDeniedError(
          Cat("principal '", principal->name, "' does not hold ", missing, " on ",
              r.on.ToString(), ": an administrator grants it with `nobus grant '", missing,
              "' ON ", r.on.ToString(), " TO ", principal->name, "`"));
    std::string pattern = r.on.name;
    for (size_t dots = std::count(pattern.begin(), pattern.end(), '.'); dots < 2; ++dots)
      pattern += ".*";
    if (r.on.name == "*") pattern = "*.*.*";
    if (Requests(r, Privilege::kModify)) claims.tables.push_back(pattern);
    if (Requests(r, Privilege::kAdmin)) claims.admin.push_back(pattern);
  }
  int64_t now_s = clock_->NowMicros() / 1'000'000;
  claims.issued_at_s = now_s;
  claims.expires_at_s = now_s + options_.token_ttl_s;
  claims.token_id = Base64UrlEncode(RandomBytes(12));
  return claims;
}

TokenReply Authority::IssueToken(std::string_view authorization, std::string_view body,
                                 std::string_view peer) {
  absl::StatusOr<TokenRequest> request = ParseTokenRequest(authorization, body);
  if (absl::IsUnauthenticated(request.status()))
    return Reply(401, "invalid_client", std::string(request.status().message()));
  if (!request.ok()) return Reply(400, "invalid_request", std::string(request.status().message()));
  if (request->grant_type != "client_credentials")
    return Reply(400, "unsupported_grant_type",
                 Cat("grant_type '", request->grant_type,
                     "' is not supported: nobus issues tokens for client_credentials"));
  const int64_t now_ms = clock_->NowMillis();
  if (int64_t wait_s = limiter_->RetryAfterS(request->client_id, now_ms); wait_s > 0) {
    NOBUS_LOG_WARN("token request refused: client '{}' from {} failed too often", request->client_id,
                   peer);
    return Reply(429, "slow_down",
                 Cat("too many failed attempts for this client: retry in ", wait_s, " s"));
  }
  std::shared_ptr<const State> state = Current();
  const Principal* principal = state->policy.Find(request->client_id);
  // Unknown clients cost a hash too, so timing does not tell which client ids exist.
  static const std::string kDummyHash = HashSecret("nobus-dummy-secret");
  absl::StatusOr<bool> match = VerifySecret(request->client_secret,
                                            principal ? principal->secret_hash : kDummyHash);
  if (!match.ok() || !*match || principal == nullptr) {
    limiter_->Fail(request->client_id, now_ms);
    NOBUS_LOG_WARN("token request refused: client '{}' from {}: {}", request->client_id, peer,
                   principal == nullptr ? "unknown client" : "wrong secret");
    return Reply(401, "invalid_client", "client authentication failed");
  }
  absl::StatusOr<TokenClaims> claims = Authorize(*state, *request);
  if (!claims.ok()) {
    NOBUS_LOG_WARN("token request refused: {}", claims.status().ToString());
    return Reply(403, "access_denied", std::string(claims.status().message()));
  }
  std::string token = SignToken(*claims, state->keys.back());
  NOBUS_LOG_DEBUG("issued token {} to '{}' for tables [{}]", claims->token_id, claims->subject,
                  fmt::join(claims->tables, ", "));
  return {200, json{{"access_token", token},
                    {"token_type", "Bearer"},
                    {"expires_in", options_.token_ttl_s}}
                   .dump()};
}

absl::StatusOr<TokenClaims> Authority::Verify(std::string_view token) {
  std::shared_ptr<const State> state = Current();
  NOBUS_ASSIGN_OR_RETURN(
      TokenClaims claims,
      VerifyToken(token, [&](std::string_view id) { return state->Find(id); },
                  clock_->NowMicros() / 1'000'000));
  NOBUS_RETURN_IF_ERROR(CheckPrincipal(*state, claims));
  return claims;
}

absl::Status Authority::StillValid(const TokenClaims& claims) {
  return CheckPrincipal(*Current(), claims);
}

absl::Status Authority::CheckPrincipal(const State& state, const TokenClaims& claims) {
  const Principal* principal = state.policy.Find(claims.subject);
  if (principal == nullptr)
    return absl::UnauthenticatedError(
        Cat("principal '", claims.subject, "' of this access token was deleted"));
  if (principal->epoch != claims.epoch)
    return absl::UnauthenticatedError(
        Cat("the grants of principal '", claims.subject,
            "' were revoked after this access token was issued: fetch a new token"));
  if (claims.expires_at_s <= clock_->NowMicros() / 1'000'000)
    return absl::UnauthenticatedError("access token expired: fetch a new token");
  return absl::OkStatus();
}

}  // namespace nobus::auth
