// Internal to src/http: what every connection of one Server shares (server.cc owns it). Declared
// in destruction order: the accounting outlives the io_context, whose destruction destroys the
// connections still parked in it.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "http/server.h"

namespace nobus::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Why nobusd closed a connection itself (the label of nobus_http_closed_total).
enum class CloseReason {
  kIdleTimeout,
  kHeaderTimeout,
  kBodyTimeout,
  kWriteTimeout,
  kHeaderTooLarge,
  kBodyTooLarge,
  kBadRequest,
  kTooManyConnections,
  kTooManyPerClient,
  kCount
};

struct Server::Core {
  Core(ServerOptions options, const Router* router);

  // Counts a new connection from `addr`; OK, or the refusal to answer it with.
  std::optional<CloseReason> Admit(const std::string& addr);
  void Release(const std::string& addr);  // a connection Admit counted is gone
  void CountClosed(CloseReason reason) { closed[static_cast<int>(reason)]->Add(); }

  // A request dispatched to a handler, until its response is written. False while stopping.
  bool BeginRequest();
  void EndRequest();

  void Accept();
  void OnAccepted(tcp::socket socket);

  const ServerOptions options;
  const Router* const router;

  std::atomic<bool> stopping{false};  // set by Stop (under mu, for the wait on `idle`)
  std::atomic<int64_t> requests{0};   // dispatched requests whose response is not written yet
  std::mutex mu;
  std::condition_variable idle;  // signalled when `requests` drops to 0 while stopping
  int64_t open = 0;             // guarded by mu
  std::unordered_map<std::string, int64_t> per_client;  // guarded by mu

  MetricsRegistry own_metrics;  // when options.metrics is null
  Gauge* connections = nullptr;
  Counter* accepted = nullptr;
  Counter* closed[static_cast<int>(CloseReason::kCount)] = {};

  std::optional<asio::ssl::context> tls;
  // Runs::kWorker handlers: their own threads, at a lower CPU priority than the loop threads, so
  // under overload the loop (health, accepting, reading) stays prompt and work queues here.
  asio::io_context workers;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> workers_work;
  std::vector<std::thread> worker_threads;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // The listener and its retry timer are used from the loop threads: one strand for both.
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(io)};
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};
  std::vector<std::thread> io_threads;
};

}  // namespace nobus::http
