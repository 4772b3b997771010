// Routes of an HTTP server: method + path pattern -> handler, and where the handler runs. A
// pattern is literal text with `{}` standing for one non-empty path segment (no '/'), e.g.
// "/api/2.1/unity-catalog/tables/{}"; what it matched is Request::params. Also the parsing of a
// request target into a decoded path and query (the code in front of every handler; fuzzed by
// test/fuzz/http_request_fuzz.cc).
//
// Thread-safety: Add before the server starts; Find is const and thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace nobus::http {

// Where a handler runs. kEventLoop: on the connection's event-loop thread; it must not block
// (health, metrics, anything answered from memory). kWorker: on the worker pool; it may block
// (disk, locks, waiting for room in the ingest buffers) without stalling other connections.
enum class Runs { kEventLoop, kWorker };

class Router {
 public:
  void Add(std::string method, std::string pattern, Runs runs, AsyncHandler handler);
  void Add(std::string method, std::string pattern, Runs runs, Handler handler);

  struct Route {
    std::string method;
    std::vector<std::string> pieces;  // the pattern's literal parts; a {} between each two
    Runs runs;
    AsyncHandler handler;
  };
  enum class Found { kRoute, kNoPath, kWrongMethod };
  // The route for `method` and the decoded `path`, filling *params; kWrongMethod when the path
  // matches only routes of other methods (their methods in *allowed, comma-separated).
  Found Find(std::string_view method, std::string_view path, const Route** route,
             std::vector<std::string>* params, std::string* allowed) const;

 private:
  std::vector<Route> routes_;
};

// Splits a request target ("/a/b%20c?x=1&y") into the percent-decoded path and query pairs ('+'
// is a space in the query); an absolute-form target ("http://host/a") loses its scheme and host.
// InvalidArgument for any other target not starting with '/', bad percent-escapes, or a decoded
// NUL.
[[nodiscard]] absl::Status ParseTarget(std::string_view target, std::string* path, Fields* query);

}  // namespace nobus::http
