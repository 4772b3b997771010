#include "auth/jwt.h"

#include <nlohmann/json.hpp>

#include "auth/crypto.h"

namespace nobus::auth {
namespace {

using nlohmann::json;

absl::Status Malformed(std::string_view what) {
  return absl::UnauthenticatedError(
      Cat("malformed access token (", what,
          "): send the access_token that POST /oidc/v1/token returned, as 'Bearer <token>'"));
}

// A JSON object from one base64url part, or null when it is not one.
json DecodeObject(std::string_view part) {
  std::optional<std::string> text = Base64UrlDecode(part);
  if (!text) return json();
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() ? doc : json();
}

bool ReadPatterns(const json& doc, const char* key, std::vector<std::string>* out) {
  if (!doc.contains(key)) return true;
  const json& list = doc[key];
  if (!list.is_array()) return false;
  for (const json& item : list) {
    if (!item.is_string()) return false;
    out->push_back(item.get<std::string>());
  }
  return true;
}

absl::StatusOr<TokenClaims> ReadClaims(const json& doc) {
  TokenClaims c;
  if (!doc.contains("sub") || !doc["sub"].is_string()) return Malformed("no subject");
  c.subject = doc["sub"].get<std::string>();
  for (auto [key, out] : {std::pair{"iat", &c.issued_at_s}, std::pair{"exp", &c.expires_at_s},
                          std::pair{"ep", &c.epoch}}) {
    if (!doc.contains(key) || !doc[key].is_number_integer()) return Malformed(Cat("no ", key));
    *out = doc[key].get<int64_t>();
  }
  if (!ReadPatterns(doc, "tables", &c.tables) || !ReadPatterns(doc, "admin", &c.admin))
    return Malformed("tables and admin must be lists of strings");
  if (doc.contains("jti") && doc["jti"].is_string()) c.token_id = doc["jti"].get<std::string>();
  return c;
}

}  // namespace

std::string SignToken(const TokenClaims& claims, const SigningKey& key) {
  json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", key.id}};
  json payload = {{"iss", "nobus"},       {"sub", claims.subject},
                  {"iat", claims.issued_at_s}, {"exp", claims.expires_at_s},
                  {"ep", claims.epoch},   {"tables", claims.tables},
                  {"admin", claims.admin}, {"jti", claims.token_id}};
  std::string input = Cat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(payload.dump()));
  return Cat(input, ".", Base64UrlEncode(HmacSha256(key.secret, input)));
}

bool LooksLikeJwt(std::string_view token) {
  size_t first = token.find('.');
  if (first == std::string_view::npos) return false;
  size_t second = token.find('.', first + 1);
  return second != std::string_view::npos && token.find('.', second + 1) == std::string_view::npos;
}

absl::StatusOr<TokenClaims> VerifyToken(std::string_view token, const KeyLookup& keys,
                                        int64_t now_s) {
  if (!LooksLikeJwt(token)) return Malformed("expected header.payload.signature");
  size_t first = token.find('.');
  size_t second = token.find('.', first + 1);
  json header = DecodeObject(token.substr(0, first));
  if (header.is_null()) return Malformed("the header is not base64url JSON");
  if (!header.contains("alg") || !header["alg"].is_string()) return Malformed("no alg");
  std::string alg = header["alg"].get<std::string>();
  if (alg != "HS256")
    return absl::UnauthenticatedError(Cat("access token algorithm '", alg,
                                          "' is not accepted: nobus only accepts tokens it "
                                          "signed (HS256); fetch one from POST /oidc/v1/token"));
  if (!header.contains("kid") || !header["kid"].is_string()) return Malformed("no kid");
  std::string kid = header["kid"].get<std::string>();
  const SigningKey* key = keys(kid);
  if (key == nullptr)
    return absl::UnauthenticatedError(
        Cat("access token was signed with key '", kid,
            "', which this server does not hold (retired, or from another deployment): fetch a "
            "new token"));
  std::optional<std::string> signature = Base64UrlDecode(token.substr(second + 1));
  if (!signature ||
      !ConstantTimeEquals(*signature, HmacSha256(key->secret, token.substr(0, second))))
    return absl::UnauthenticatedError(
        "access token signature is invalid (altered or forged): fetch a new token from POST "
        "/oidc/v1/token");
  json payload = DecodeObject(token.substr(first + 1, second - first - 1));
  if (payload.is_null()) return Malformed("the payload is not base64url JSON");
  NOBUS_ASSIGN_OR_RETURN(TokenClaims claims, ReadClaims(payload));
  if (claims.expires_at_s <= now_s)
    return absl::UnauthenticatedError(Cat("access token expired ", now_s - claims.expires_at_s,
                                          " s ago: fetch a new token from POST /oidc/v1/token"));
  return claims;
}

}  // namespace nobus::auth
