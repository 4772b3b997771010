// Test utility: a fault-injecting TCP proxy between an SDK and a server on loopback. It listens
// on 127.0.0.1 (port 0 = any), forwards each accepted connection to the upstream address, and on
// command resets every open connection (both sides get a TCP RST) or stalls them (stops moving
// bytes in both directions for a while; the sockets stay open, so only timeouts can notice).
// One poll() thread does all the I/O. Test-only; the public methods are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace nobus::client::testing {

class TcpProxy {
 public:
  // Starts listening; `upstream` is "host:port" (IPv4).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<TcpProxy>> Start(std::string upstream);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // "127.0.0.1:PORT" to give clients.
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Connections accepted later go to `upstream` (e.g. a restarted server on a new port).
  void SetUpstream(std::string upstream);
  // Sends RST on both sides of every open connection and forgets them.
  void ResetAll();
  // Stops forwarding on every connection, current and new, for `duration` (then resumes).
  void Stall(std::chrono::milliseconds duration);
  // Ends a stall early.
  void Resume();

  int64_t connections_accepted() const { return accepted_.load(); }
  int64_t resets() const { return resets_.load(); }
  int64_t bytes_forwarded() const { return bytes_.load(); }

 private:
  struct Pipe;
  struct Connection;

  TcpProxy(int listen_fd, int wake_fd, int port, std::string upstream);
  void Loop();
  void AcceptOne();
  void RunCommands();
  bool Pump(Connection* c, bool from_client, short revents);
  void Wake();

  const int listen_fd_;
  const int wake_fd_;  // eventfd: commands and shutdown interrupt poll()
  const int port_;
  std::mutex mu_;
  std::string upstream_;
  bool reset_requested_ = false;
  std::chrono::steady_clock::time_point stalled_until_;
  bool stop_ = false;
  std::vector<std::unique_ptr<Connection>> connections_;  // loop thread only
  std::atomic<int64_t> accepted_{0};
  std::atomic<int64_t> resets_{0};
  std::atomic<int64_t> bytes_{0};
  std::thread thread_;
};

}  // namespace nobus::client::testing
