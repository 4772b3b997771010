// The few cryptographic primitives auth needs, on OpenSSL: base64url (JWS), HMAC-SHA256 (token
// signatures), constant-time comparison, random bytes, and slow salted hashes of client secrets
// (PBKDF2-HMAC-SHA256). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::auth {

// RFC 4648 section 5, without padding.
std::string Base64UrlEncode(std::string_view bytes);
// Nullopt for characters outside the alphabet, padding, or an impossible length.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);
// 32 raw bytes.
std::string Sha256(std::string_view data);
// Equal bytes, in time that depends only on the lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);
// Cryptographically strong random bytes (RAND_bytes).
std::string RandomBytes(size_t n);

inline constexpr int kSecretHashIterations = 210'000;  // OWASP 2023 for PBKDF2-HMAC-SHA256

// A new client secret: "nbs_" + 43 base64url characters (256 random bits).
std::string GenerateClientSecret();
// "pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>" with a fresh 16-byte salt.
std::string HashSecret(std::string_view secret, int iterations = kSecretHashIterations);
// True when `secret` matches `encoded` (constant-time compare of the derived hash). InvalidArgument
// when `encoded` is not a hash HashSecret wrote.
[[nodiscard]] absl::StatusOr<bool> VerifySecret(std::string_view secret, std::string_view encoded);

}  // namespace nobus::auth
