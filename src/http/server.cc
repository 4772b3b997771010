#include "http/server.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <future>
#include <boost/asio/strand.hpp>

#include "common/logging.h"
#include "http/connection.h"

namespace nobus::http {
namespace {

constexpr const char* kReasonLabels[] = {
    "idle_timeout",    "header_timeout", "body_timeout", "write_timeout",        "header_too_large",
    "body_too_large",  "bad_request",    "too_many_connections", "too_many_per_client"};
static_assert(std::size(kReasonLabels) == static_cast<size_t>(CloseReason::kCount));

int ThreadsOr(int n, int fallback) { return n > 0 ? n : fallback; }

}  // namespace

Server::Core::Core(ServerOptions options_in, const Router* router_in)
    : options(std::move(options_in)),
      router(router_in) {
  MetricsRegistry* m = options.metrics != nullptr ? options.metrics : &own_metrics;
  connections = m->GetGauge("nobus_http_connections", "HTTP connections open now.");
  accepted = m->GetCounter("nobus_http_connections_accepted_total", "HTTP connections accepted.");
  for (size_t i = 0; i < std::size(kReasonLabels); ++i)
    closed[i] = m->GetCounter("nobus_http_closed_total",
                              "HTTP connections nobusd closed itself, by reason.",
                              {{"reason", kReasonLabels[i]}});
}

std::optional<CloseReason> Server::Core::Admit(const std::string& addr) {
  std::lock_guard lock(mu);
  if (open >= options.max_connections) return CloseReason::kTooManyConnections;
  int64_t& mine = per_client[addr];
  if (options.max_connections_per_client > 0 && mine >= options.max_connections_per_client)
    return CloseReason::kTooManyPerClient;
  ++mine;
  ++open;
  connections->Set(static_cast<double>(open));
  return std::nullopt;
}

void Server::Core::Release(const std::string& addr) {
  std::lock_guard lock(mu);
  --open;
  connections->Set(static_cast<double>(open));
  auto it = per_client.find(addr);
  if (it != per_client.end() && --it->second <= 0) per_client.erase(it);
}

// Lock-free on the request path; Stop sets `stopping` before it reads `requests`, so either a
// request's increment is seen there or the request sees `stopping` (both are seq_cst).
bool Server::Core::BeginRequest() {
  requests.fetch_add(1);
  if (!stopping.load()) return true;
  EndRequest();
  return false;
}

void Server::Core::EndRequest() {
  if (requests.fetch_sub(1) == 1 && stopping.load()) {
    std::lock_guard lock(mu);  // pairs with Stop's wait: no lost wake-up
    idle.notify_all();
  }
}

void Server::Core::Accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors (or a transient error): back off instead of spinning.
      NOBUS_LOG_WARN_LIMITED("HTTP accept failed: {} (raise the open-files limit or lower "
                             "http_max_connections)",
                             ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](beast::error_code e) {
        if (!e) Accept();
      });
      return;
    }
    OnAccepted(std::move(socket));
    Accept();
  });
}

void Server::Core::OnAccepted(tcp::socket socket) {
  beast::error_code ec;
  tcp::endpoint remote = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  accepted->Add();
  socket.set_option(tcp::no_delay(true), ec);
  std::string addr = remote.address().to_string();
  std::optional<CloseReason> refused = Admit(addr);
  std::optional<Response> refusal;
  if (refused) {
    CountClosed(*refused);
    refusal = ErrorResponse(
        503, "TEMPORARILY_UNAVAILABLE",
        *refused == CloseReason::kTooManyConnections
            ? Cat("too many HTTP connections (http_max_connections is ", options.max_connections,
                  "): retry later or against another node")
            : Cat("too many HTTP connections from ", addr, " (http_max_connections_per_client is ",
                  options.max_connections_per_client, "): reuse keep-alive connections"));
  }
  if (tls) {
    std::make_shared<Connection<TlsStream>>(this, TlsStream(std::move(socket), *tls),
                                            std::move(addr), remote.port(), !refused)
        ->Start(std::move(refusal));
  } else {
    std::make_shared<Connection<PlainStream>>(this, std::move(socket), std::move(addr),
                                              remote.port(), !refused)
        ->Start(std::move(refusal));
  }
}

Server::Server(ServerOptions options, const Router* router)
    : core_(std::make_unique<Core>(std::move(options), router)) {
  if (core_->options.tls_setup) {
    core_->tls.emplace(asio::ssl::context::tls_server);
    core_->options.tls_setup(*core_->tls->native_handle());
  }
}

Server::~Server() { Stop(); }

absl::StatusOr<int> Server::Bind(std::string_view host_in, int port) {
  std::string host(host_in);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  tcp::acceptor& acceptor = core_->acceptor;
  if (!ec) {
    tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return absl::UnavailableError(Cat("cannot listen for HTTP on ", host_in, ":", port, " (",
                                      ec.message(), "): choose another --http-listen"));
  }
  return static_cast<int>(acceptor.local_endpoint().port());
}

void Server::Start() {
  Core& c = *core_;
  c.work.emplace(c.io.get_executor());
  c.Accept();
  int n = ThreadsOr(c.options.io_threads, static_cast<int>(std::thread::hardware_concurrency()));
  for (int i = 0; i < std::max(n, 1); ++i) c.io_threads.emplace_back([&c] { c.io.run(); });
  c.workers_work.emplace(c.workers.get_executor());
  for (int i = 0; i < ThreadsOr(c.options.worker_threads, 8); ++i)
    c.worker_threads.emplace_back([&c] {
      // Linux: a thread's niceness is its own (setpriority on its thread id).
      const id_t tid = static_cast<id_t>(syscall(SYS_gettid));
      errno = 0;
      int nice = getpriority(PRIO_PROCESS, tid);
      if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(nice + c.options.worker_nice, 19));
      c.workers.run();
    });
}

void Server::Stop() {
  Core& c = *core_;
  if (c.io_threads.empty()) return;
  std::promise<void> closed;
  asio::post(c.accept_strand, [&c, &closed] {
    beast::error_code ignored;
    c.acceptor.close(ignored);
    c.accept_retry.cancel();
    closed.set_value();
  });
  closed.get_future().wait();  // no connection is accepted from here on
  {
    std::unique_lock lock(c.mu);
    c.stopping = true;
    c.idle.wait(lock, [&c] { return c.requests.load() == 0; });
  }
  c.work.reset();
  c.io.stop();
  for (std::thread& t : c.io_threads) t.join();
  c.io_threads.clear();
  c.workers_work.reset();
  for (std::thread& t : c.worker_threads) t.join();
  c.worker_threads.clear();
}

}  // namespace nobus::http
