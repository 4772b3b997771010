// An event-driven HTTP/1.1 server (Boost.Beast on Boost.Asio): a few event-loop threads serve
// every connection, so a slow or idle client costs a socket, not a thread. Keep-alive and
// pipelining (requests answered in order), `Expect: 100-continue`, optional TLS. Handlers come
// from a Router; kWorker handlers run on a separate pool so blocking work never stalls the loop.
//
// Limits, each answered with a clear status in the REST error shape (message.h) and counted in
// nobus_http_closed_total{reason}: connections in total and per client address (503, then
// close), header read deadline (408), body read deadline (408), idle keep-alive (silent close),
// header size (431), body size (413), malformed request (400). Also nobus_http_connections (open
// now) and nobus_http_connections_accepted_total.
//
// Lifecycle: construct, Bind, Start, Stop (also in the destructor). Thread-safety: Bind, Start
// and Stop from one thread; handlers run concurrently on the loop and worker threads.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/status.h"
#include "http/router.h"

namespace nobus::http {

struct ServerOptions {
  int io_threads = 0;      // event-loop threads; 0 = one per core
  int worker_threads = 8;  // for Runs::kWorker handlers
  int worker_nice = 5;     // their niceness above the loop threads' (lower CPU priority)
  int64_t max_connections = 16384;
  int64_t max_connections_per_client = 1024;  // 0 = no limit
  // A request's header must arrive within header_timeout_ms of the connection (first request) or
  // of its first byte (later requests); the body within body_timeout_ms of the header; a
  // keep-alive connection may wait idle_timeout_ms for its next request. Answering a slow reader
  // is bounded by body_timeout_ms too.
  int64_t header_timeout_ms = 10000;
  int64_t body_timeout_ms = 30000;
  int64_t idle_timeout_ms = 75000;
  int64_t max_header_bytes = 16384;
  int64_t max_body_bytes = 10 << 20;
  // Names the body limit in 413 messages (e.g. the config key).
  std::string body_limit_name = "max_body_bytes";
  // Set: serve HTTPS only; called once with the server's SSL_CTX (certificate, versions).
  std::function<bool(SSL_CTX&)> tls_setup;
  // Called after each response is queued (on a loop thread), for metrics.
  std::function<void(std::string_view path, int status)> on_response;
  MetricsRegistry* metrics = nullptr;  // may be null
};

class Server {
 public:
  // Borrows `router`, which must outlive the server.
  Server(ServerOptions options, const Router* router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0 picks a free port); returns the bound port. Unavailable with the
  // reason (address in use, not local) otherwise.
  [[nodiscard]] absl::StatusOr<int> Bind(std::string_view host, int port);
  void Start();
  // Stops accepting; requests that arrive from now on get 503; waits for running handlers and
  // their replies to be written; then stops the loop (open connections close with the server).
  void Stop();

  struct Core;  // the loop, the pools, the accounting (server.cc)

 private:
  std::unique_ptr<Core> core_;
};

}  // namespace nobus::http
