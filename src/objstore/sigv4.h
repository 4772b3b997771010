// AWS Signature Version 4 for S3 requests, header-based (the Authorization header): the canonical
// request, the string to sign, the derived signing key and the signature, on OpenSSL's SHA-256 and
// HMAC. Pure functions: no I/O, no clock (the caller passes the time), thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nobus::objstore {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Long-term keys, or temporary ones with their session token (AWS_SESSION_TOKEN).
struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: none
};

// What of a request the signature covers.
struct RequestToSign {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // decoded, e.g. "/bucket/dir/key name" (encoded here, '/' kept)
  std::vector<std::pair<std::string, std::string>> query;  // decoded key, value pairs
  Headers headers;  // at least "host"; names in any case
  std::string payload_sha256;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

// The headers to add to the request: x-amz-date, x-amz-content-sha256, x-amz-security-token
// (with a session token) and Authorization. Every header of `request` is signed, with the added
// ones. `unix_seconds` is the request time (AWS rejects requests more than 15 minutes off).
Headers SignV4(const RequestToSign& request, const Credentials& credentials,
               std::string_view region, std::string_view service, int64_t unix_seconds);

// The canonical request and the string to sign of SignV4, for tests and for error messages that
// show what was signed (S3 returns its own canonical request with SignatureDoesNotMatch).
std::string CanonicalRequest(const RequestToSign& request);

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (and '/', unless `encode_slash`).
std::string UriEncode(std::string_view text, bool encode_slash);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

}  // namespace nobus::objstore
