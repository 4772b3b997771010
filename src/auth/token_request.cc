#include "auth/token_request.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "auth/crypto.h"

namespace nobus::auth {
namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%') {
      int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = hi >= 0 ? HexValue(s[i + 2]) : -1;
      if (lo < 0)
        return absl::InvalidArgumentError(
            Cat("the form body has a bad %-escape at byte ", i, ": send it url-encoded"));
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "Basic base64(urlencode(id):urlencode(secret))" (RFC 6749 section 2.3.1).
absl::Status ReadBasic(std::string_view authorization, TokenRequest* request) {
  constexpr std::string_view kBasic = "basic ";
  std::string prefix(authorization.substr(0, kBasic.size()));
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto bad = absl::UnauthenticatedError(
      "the authorization header must be 'Basic base64(client_id:client_secret)'");
  if (prefix != kBasic) return bad;
  std::string b64(authorization.substr(kBasic.size()));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  std::replace(b64.begin(), b64.end(), '+', '-');
  std::replace(b64.begin(), b64.end(), '/', '_');
  std::optional<std::string> pair = Base64UrlDecode(b64);
  size_t colon = pair ? pair->find(':') : std::string::npos;
  if (colon == std::string::npos) return bad;
  auto id = FormDecode(std::string_view(*pair).substr(0, colon));
  auto secret = FormDecode(std::string_view(*pair).substr(colon + 1));
  if (!id.ok() || !secret.ok()) return bad;
  request->client_id = *id;
  request->client_secret = *secret;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RequestedPrivileges>> ParseDetails(std::string_view text) {
  auto bad = [](std::string_view what) {
    return absl::InvalidArgumentError(Cat("authorization_details ", what));
  };
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_array()) return bad("must be a JSON array");
  std::vector<RequestedPrivileges> out;
  for (const json& item : doc) {
    if (!item.is_object()) return bad("entries must be objects");
    auto str = [&](const char* key) {
      return item.contains(key) && item[key].is_string() ? item[key].get<std::string>() : "";
    };
    if (str("type") != "unity_catalog_privileges")
      return bad(Cat("entry type '", str("type"), "' is not unity_catalog_privileges"));
    RequestedPrivileges r;
    NOBUS_ASSIGN_OR_RETURN(r.on, ParseSecurable(str("object_type"), str("object_full_path")));
    if (!item.contains("privileges") || !item["privileges"].is_array())
      return bad("entries need a privileges list");
    for (const json& p : item["privileges"]) {
      if (!p.is_string()) return bad("privileges must be strings");
      NOBUS_ASSIGN_OR_RETURN(Privilege privilege, ParsePrivilege(p.get<std::string>()));
      r.privileges.push_back(privilege);
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseForm(std::string_view body) {
  std::map<std::string, std::string> form;
  for (size_t start = 0; start <= body.size();) {
    size_t amp = body.find('&', start);
    std::string_view pair = body.substr(start, amp == std::string_view::npos ? amp : amp - start);
    start = amp == std::string_view::npos ? body.size() + 1 : amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    NOBUS_ASSIGN_OR_RETURN(std::string key, FormDecode(pair.substr(0, eq)));
    NOBUS_ASSIGN_OR_RETURN(std::string value, FormDecode(eq == std::string_view::npos
                                                             ? std::string_view()
                                                             : pair.substr(eq + 1)));
    if (!form.emplace(key, std::move(value)).second)
      return absl::InvalidArgumentError(Cat("form field '", key, "' is given twice"));
  }
  return form;
}

absl::StatusOr<TokenRequest> ParseTokenRequest(std::string_view authorization,
                                               std::string_view body) {
  NOBUS_ASSIGN_OR_RETURN(auto form, ParseForm(body));
  TokenRequest request;
  if (!authorization.empty()) {
    NOBUS_RETURN_IF_ERROR(ReadBasic(authorization, &request));
  } else if (form.contains("client_id") && form.contains("client_secret")) {
    request.client_id = form["client_id"];
    request.client_secret = form["client_secret"];
  } else {
    return absl::UnauthenticatedError(
        "no client credentials: send 'Authorization: Basic base64(client_id:client_secret)'");
  }
  request.grant_type = form["grant_type"];
  request.scope = form["scope"];
  request.resource = form["resource"];
  if (auto it = form.find("authorization_details"); it != form.end()) {
    request.has_details = true;
    NOBUS_ASSIGN_OR_RETURN(request.details, ParseDetails(it->second));
  }
  return request;
}

}  // namespace nobus::auth
