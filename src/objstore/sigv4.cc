#include "objstore/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "common/coding.h"

namespace nobus::objstore {
namespace {

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are signed trimmed, with runs of spaces collapsed to one.
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// Lowercased, sorted headers with their canonical values.
std::vector<std::pair<std::string, std::string>> SortedHeaders(const Headers& headers) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) out.emplace_back(Lower(name), CanonicalValue(value));
  std::sort(out.begin(), out.end());
  return out;
}

std::string SignedHeaderNames(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : SortedHeaders(headers)) {
    if (!out.empty()) out.push_back(';');
    out += name;
  }
  return out;
}

// "20130524T000000Z" and its date part.
std::string AmzDate(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  return PercentEncode(text, [encode_slash](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
           (c == '/' && !encode_slash);
  });
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof(digest));
}

std::string CanonicalRequest(const RequestToSign& request) {
  std::vector<std::pair<std::string, std::string>> query;
  for (const auto& [k, v] : request.query) query.emplace_back(UriEncode(k, true), UriEncode(v, true));
  std::sort(query.begin(), query.end());
  std::string out = request.method + "\n" + UriEncode(request.path, false) + "\n";
  for (size_t i = 0; i < query.size(); ++i) {
    if (i > 0) out.push_back('&');
    out += query[i].first + "=" + query[i].second;
  }
  out.push_back('\n');
  for (const auto& [name, value] : SortedHeaders(request.headers)) out += name + ":" + value + "\n";
  out += "\n" + SignedHeaderNames(request.headers) + "\n" + request.payload_sha256;
  return out;
}

Headers SignV4(const RequestToSign& request, const Credentials& credentials,
               std::string_view region, std::string_view service, int64_t unix_seconds) {
  std::string amz_date = AmzDate(unix_seconds);
  std::string date = amz_date.substr(0, 8);
  Headers added = {{"x-amz-date", amz_date}, {"x-amz-content-sha256", request.payload_sha256}};
  if (!credentials.session_token.empty())
    added.emplace_back("x-amz-security-token", credentials.session_token);

  RequestToSign signed_request = request;
  signed_request.headers.insert(signed_request.headers.end(), added.begin(), added.end());
  std::string scope = date + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  std::string string_to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                               Sha256Hex(CanonicalRequest(signed_request));
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  std::string mac = HmacSha256(key, string_to_sign);
  std::string signature = Hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
  added.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id +
                                          "/" + scope + ",SignedHeaders=" +
                                          SignedHeaderNames(signed_request.headers) +
                                          ",Signature=" + signature);
  return added;
}

}  // namespace nobus::objstore
