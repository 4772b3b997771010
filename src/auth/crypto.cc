#include "auth/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <vector>

namespace nobus::auth {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string Pbkdf2(std::string_view secret, std::string_view salt, int iterations) {
  std::string out(32, '\0');
  int ok = PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                             reinterpret_cast<const unsigned char*>(salt.data()),
                             static_cast<int>(salt.size()), iterations, EVP_sha256(),
                             static_cast<int>(out.size()),
                             reinterpret_cast<unsigned char*>(out.data()));
  if (ok != 1) std::abort();  // only fails on allocation failure
  return out;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = DecodeChar(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // non-canonical trailing bits
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &len) == nullptr)
    std::abort();
  return std::string(reinterpret_cast<const char*>(mac.data()), len);
}

std::string Sha256(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1)
    std::abort();
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    std::abort();  // no entropy: nothing secure can be done
  return out;
}

std::string GenerateClientSecret() { return Cat("nbs_", Base64UrlEncode(RandomBytes(32))); }

std::string HashSecret(std::string_view secret, int iterations) {
  std::string salt = RandomBytes(16);
  return Cat("pbkdf2-sha256$", iterations, "$", Base64UrlEncode(salt), "$",
             Base64UrlEncode(Pbkdf2(secret, salt, iterations)));
}

absl::StatusOr<bool> VerifySecret(std::string_view secret, std::string_view encoded) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t end = encoded.find('$', start);
    parts.push_back(encoded.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  int iterations = 0;
  auto [ptr, ec] = parts.size() == 4 ? std::from_chars(parts[1].data(),
                                                       parts[1].data() + parts[1].size(),
                                                       iterations)
                                     : std::from_chars_result{nullptr, std::errc::invalid_argument};
  std::optional<std::string> salt, hash;
  if (parts.size() == 4) {
    salt = Base64UrlDecode(parts[2]);
    hash = Base64UrlDecode(parts[3]);
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256" || ec != std::errc() ||
      ptr != parts[1].data() + parts[1].size() || iterations < 1 || iterations > 10'000'000 ||
      !salt || !hash || hash->size() != 32)
    return absl::InvalidArgumentError(
        "not a secret hash written by nobus (expected pbkdf2-sha256$<iterations>$<salt>$<hash>)");
  return ConstantTimeEquals(Pbkdf2(secret, *salt, iterations), *hash);
}

}  // namespace nobus::auth
