// Internal to src/http: one client connection, plain (tcp::socket) or TLS (ssl::stream). All of
// its handlers run on its strand; it reads one request, hands it to the route's handler, writes
// the reply, then reads the next (pipelined requests wait in `buffer_` meanwhile). One deadline
// timer covers the current phase (handshake, idle, header, body, write).
//
// Ownership: shared by its pending async operations and by an outstanding Reply; destroyed when
// the last of them is done. Thread-safety: strand-confined.
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "http/core.h"

namespace nobus::http {

namespace beast = boost::beast;
using PlainStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

template <class Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, PlainStream>;

  // `counted`: Admit counted it (Release on destruction).
  Connection(Server::Core* core, Stream stream, std::string addr, int port, bool counted);
  ~Connection();

  // Serves requests; with a `refusal`, answers only that (after the TLS handshake) and closes.
  void Start(std::optional<Response> refusal = std::nullopt);

 private:
  enum class Phase { kHandshake, kIdle, kHeader, kBody, kHandler, kWrite, kClosed };

  tcp::socket& Socket() {
    if constexpr (kTls) return stream_.next_layer();
    else return stream_;
  }
  void Arm(Phase phase, int64_t ms);
  void OnDeadline();
  void WaitForRequest();
  void ReadHeader(int64_t deadline_ms);
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  // Answers a read error; false when there was none.
  bool OnReadError(beast::error_code ec, bool header);
  void Dispatch();
  void Write(Response res, bool counted);
  void OnWritten(bool close, bool counted, beast::error_code ec);
  void Fail(CloseReason reason, int status, const char* code, std::string message);
  void Close();

  Server::Core* const core_;
  Stream stream_;
  asio::steady_timer timer_;
  uint64_t deadline_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  beast::http::response<beast::http::string_body> out_;
  Phase phase_ = Phase::kHandshake;
  bool timed_out_ = false;
  bool first_request_ = true;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  std::string path_;  // of the request being answered, for on_response
  const std::string addr_;
  const int port_;
  const bool counted_;
};

extern template class Connection<PlainStream>;
extern template class Connection<TlsStream>;

}  // namespace nobus::http
