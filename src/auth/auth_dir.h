// The auth directory (default <data dir>/auth; nodes of one deployment may share it): the policy
// file principals.json (service principals, salted secret hashes, grants) and the signing key
// ring signing-keys/k<created_ms>.key (32 random bytes, base64url). Written by the `nobus`
// principal/grant/key commands, read by nobusd, which notices changes by itself (authority.h).
//
// Durability: every update is a synced temporary file renamed over the old one, under an
// exclusive flock on <dir>/.lock, so readers see the old or the new file whole and concurrent
// writers do not lose each other's changes. The directory is made 0700.
// Thread-safety: free functions on the given FileSystem; safe to call from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "auth/grants.h"
#include "auth/jwt.h"
#include "common/status.h"
#include "env/env.h"

namespace nobus::auth {

std::string PolicyFile(const std::string& dir);
std::string SigningKeyDir(const std::string& dir);

// Creates the directory (0700) and, when the ring is empty, a first signing key.
[[nodiscard]] absl::Status InitAuthDir(env::FileSystem* fs, env::Clock* clock,
                                       const std::string& dir);

// The policy file's principals and grants; an empty policy when the file does not exist.
[[nodiscard]] absl::StatusOr<Policy> LoadPolicyFile(env::FileSystem* fs, const std::string& dir);
// Load, apply `change`, write back (locked, atomic). Nothing is written when `change` fails.
[[nodiscard]] absl::Status UpdatePolicyFile(env::FileSystem* fs, const std::string& dir,
                                            const std::function<absl::Status(Policy*)>& change);

// The ring, oldest first (the newest signs).
[[nodiscard]] absl::StatusOr<std::vector<SigningKey>> LoadSigningKeys(env::FileSystem* fs,
                                                                      const std::string& dir);
// Adds a key that becomes the signing key; keys superseded more than `retire_after_s` ago are
// deleted (their tokens have expired: retire_after_s must be at least the token lifetime).
// Returns the new key's id.
[[nodiscard]] absl::StatusOr<std::string> RotateSigningKey(env::FileSystem* fs, env::Clock* clock,
                                                           const std::string& dir,
                                                           int64_t retire_after_s);

}  // namespace nobus::auth
