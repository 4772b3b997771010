#include "http/router.h"

#include <strings.h>

#include <cstdlib>

#include "common/logging.h"

namespace nobus::http {
namespace {

// Splits "a/{}/b" into {"a/", "/b"}.
std::vector<std::string> SplitPattern(const std::string& pattern) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t at = pattern.find("{}"); at != std::string::npos; at = pattern.find("{}", start)) {
    pieces.push_back(pattern.substr(start, at - start));
    start = at + 2;
  }
  pieces.push_back(pattern.substr(start));
  return pieces;
}

bool Matches(const Router::Route& route, std::string_view path, std::vector<std::string>* params) {
  params->clear();
  const std::vector<std::string>& pieces = route.pieces;
  if (!path.starts_with(pieces[0])) return false;
  path.remove_prefix(pieces[0].size());
  for (size_t i = 1; i < pieces.size(); ++i) {
    size_t end = path.find('/');  // {} is one whole segment
    if (end == std::string_view::npos) end = path.size();
    if (end == 0) return false;
    params->emplace_back(path.substr(0, end));
    path.remove_prefix(end);
    if (!path.starts_with(pieces[i])) return false;
    path.remove_prefix(pieces[i].size());
  }
  return path.empty();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::Status Decode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return absl::InvalidArgumentError(
            Cat("bad percent-escape at offset ", i, " of '", in, "': use %XX with two hex digits"));
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return absl::InvalidArgumentError(Cat("'", in, "' decodes to a NUL byte"));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out->push_back(c);
  }
  return absl::OkStatus();
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Runs runs, AsyncHandler handler) {
  std::vector<std::string> pieces = SplitPattern(pattern);
  for (size_t i = 0; i + 1 < pieces.size(); ++i)
    if (!pieces[i].ends_with('/') || !(pieces[i + 1].empty() || pieces[i + 1].starts_with('/')))
    {
      NOBUS_LOG_ERROR("route pattern '{}': {{}} must be a whole path segment", pattern);
      std::abort();  // a bug in the route table, found at start-up
    }
  routes_.push_back(Route{std::move(method), std::move(pieces), runs, std::move(handler)});
}

void Router::Add(std::string method, std::string pattern, Runs runs, Handler handler) {
  Add(std::move(method), std::move(pattern), runs,
      AsyncHandler([handler = std::move(handler)](Request req, Reply reply) {
        Response res;
        handler(req, res);
        reply(std::move(res));
      }));
}

Router::Found Router::Find(std::string_view method, std::string_view path, const Route** route,
                           std::vector<std::string>* params, std::string* allowed) const {
  allowed->clear();
  for (const Route& r : routes_) {
    if (!Matches(r, path, params)) continue;
    if (r.method == method) {
      *route = &r;
      return Found::kRoute;
    }
    if (!allowed->empty()) allowed->append(", ");
    allowed->append(r.method);
  }
  params->clear();
  return allowed->empty() ? Found::kNoPath : Found::kWrongMethod;
}

absl::Status ParseTarget(std::string_view target, std::string* path, Fields* query) {
  query->clear();
  // Absolute form (RFC 9112 3.2.2): drop the scheme and authority.
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() > scheme.size() &&
        strncasecmp(target.data(), scheme.data(), scheme.size()) == 0) {
      size_t slash = target.find_first_of("/?", scheme.size());
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
      if (target.starts_with('?')) return ParseTarget(Cat("/", target), path, query);
    }
  }
  if (!target.starts_with('/'))
    return absl::InvalidArgumentError(
        Cat("request target '", target, "' must be a path starting with '/'"));
  size_t mark = target.find('?');
  NOBUS_RETURN_IF_ERROR(Decode(target.substr(0, mark), /*plus_is_space=*/false, path));
  if (mark == std::string_view::npos) return absl::OkStatus();
  std::string_view rest = target.substr(mark + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    NOBUS_RETURN_IF_ERROR(Decode(pair.substr(0, eq), /*plus_is_space=*/true, &name));
    if (eq != std::string_view::npos)
      NOBUS_RETURN_IF_ERROR(Decode(pair.substr(eq + 1), /*plus_is_space=*/true, &value));
    query->emplace_back(std::move(name), std::move(value));
  }
  return absl::OkStatus();
}

}  // namespace nobus::http
