// One HTTP/1.1 request and its response, as handlers see them (no Beast types leak out), and the
// one way a handler answers: a Reply, called exactly once from any thread. Errors carry nobus's
// REST error shape {"error_code": ..., "message": ...} (doc/server.md "Errors").
//
// Thread-safety: Request and Response are plain values. A Reply may be moved to and called from
// any thread; calling it twice is a bug (the second call is ignored).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nobus::http {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;               // as sent: "GET", "POST", ...
  std::string path;                 // percent-decoded, without the query
  std::vector<std::string> params;  // what the route's {} segments matched, in order
  Fields query;                     // decoded name/value pairs, in order
  Fields headers;                   // names as sent
  std::string body;
  std::string remote_addr;
  int remote_port = 0;

  // The first header named `name` (case-insensitive); empty when absent.
  std::string_view Header(std::string_view name) const;
  bool HasQuery(std::string_view name) const;
  // The first query value named `name`; empty when absent.
  std::string_view Query(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain";
  std::string body;
  Fields headers;  // extra headers besides Content-Type, Content-Length and Connection
  bool close = false;  // close the connection after this response

  void SetContent(std::string content, std::string type) {
    body = std::move(content);
    content_type = std::move(type);
  }
  void SetHeader(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// A JSON error body in nobus's REST shape; `message` is escaped.
Response ErrorResponse(int status, std::string_view error_code, std::string_view message);

// Sends one response. Move-only; calling it a second time does nothing. Destroyed uncalled (a
// handler that forgot to answer, or threw), it answers 500 so the client is never left hanging.
class Reply {
 public:
  using Sink = std::function<void(Response)>;
  Reply() = default;
  explicit Reply(Sink sink) : sink_(std::move(sink)) {}
  Reply(Reply&& other) noexcept : sink_(std::exchange(other.sink_, nullptr)) {}
  Reply& operator=(Reply&& other) noexcept;
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;
  ~Reply();

  void operator()(Response response);

 private:
  Sink sink_;
};

// Handlers. A Handler fills `res` and returns (adapted into an AsyncHandler that replies at once);
// an AsyncHandler answers through `reply` later, from any thread (e.g. once rows are durable).
using Handler = std::function<void(const Request& req, Response& res)>;
using AsyncHandler = std::function<void(Request req, Reply reply)>;

}  // namespace nobus::http
