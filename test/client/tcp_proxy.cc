#include "tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace nobus::client::testing {
namespace {

constexpr size_t kPipeBytes = 256 << 10;

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Closes with SO_LINGER {on, 0}: the peer gets a RST instead of a FIN.
void CloseWithReset(int fd) {
  if (fd < 0) return;
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  ::close(fd);
}

int ConnectTo(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1))));
  std::string host = host_port.substr(0, colon);
  if (host == "localhost") host = "127.0.0.1";
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return -1;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  SetNonBlocking(fd);
  return fd;
}

}  // namespace

struct TcpProxy::Pipe {
  std::vector<char> buffer = std::vector<char>(kPipeBytes);
  size_t start = 0;
  size_t end = 0;
  bool has_data() const { return end > start; }
  bool has_room() const { return end < buffer.size() || start > 0; }
};

struct TcpProxy::Connection {
  int client = -1;
  int upstream = -1;
  Pipe to_upstream;
  Pipe to_client;
};

absl::StatusOr<std::unique_ptr<TcpProxy>> TcpProxy::Start(std::string upstream) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoToStatus(errno, "socket", "proxy");
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || ::listen(fd, 64) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, "bind/listen", "127.0.0.1:0");
  }
  SetNonBlocking(fd);
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    ::close(fd);
    return ErrnoToStatus(errno, "eventfd", "proxy");
  }
  return std::unique_ptr<TcpProxy>(
      new TcpProxy(fd, wake, ntohs(addr.sin_port), std::move(upstream)));
}

TcpProxy::TcpProxy(int listen_fd, int wake_fd, int port, std::string upstream)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port), upstream_(std::move(upstream)) {
  thread_ = std::thread([this] { Loop(); });
}

TcpProxy::~TcpProxy() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  Wake();
  thread_.join();
  for (auto& c : connections_) {
    ::close(c->client);
    ::close(c->upstream);
  }
  ::close(listen_fd_);
  ::close(wake_fd_);
}

void TcpProxy::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof(one));
}

void TcpProxy::SetUpstream(std::string upstream) {
  std::lock_guard lock(mu_);
  upstream_ = std::move(upstream);
}

void TcpProxy::ResetAll() {
  {
    std::lock_guard lock(mu_);
    reset_requested_ = true;
  }
  Wake();
}

void TcpProxy::Stall(std::chrono::milliseconds duration) {
  {
    std::lock_guard lock(mu_);
    stalled_until_ = std::chrono::steady_clock::now() + duration;
  }
  Wake();
}

void TcpProxy::Resume() {
  {
    std::lock_guard lock(mu_);
    stalled_until_ = std::chrono::steady_clock::now();
  }
  Wake();
}

void TcpProxy::RunCommands() {
  bool reset = false;
  {
    std::lock_guard lock(mu_);
    std::swap(reset, reset_requested_);
  }
  if (!reset) return;
  for (auto& c : connections_) {
    CloseWithReset(c->client);
    CloseWithReset(c->upstream);
    ++resets_;
  }
  connections_.clear();
}

void TcpProxy::AcceptOne() {
  int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (client < 0) return;
  ++accepted_;
  int one = 1;
  ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::string upstream;
  {
    std::lock_guard lock(mu_);
    upstream = upstream_;
  }
  int server = ConnectTo(upstream);
  if (server < 0) {
    CloseWithReset(client);  // like a refused connection, as fast as possible
    return;
  }
  auto c = std::make_unique<Connection>();
  c->client = client;
  c->upstream = server;
  connections_.push_back(std::move(c));
}

// Moves bytes for one socket of `c` after poll() said `revents`. False: close the connection.
bool TcpProxy::Pump(Connection* c, bool from_client, short revents) {
  int self = from_client ? c->client : c->upstream;
  int other = from_client ? c->upstream : c->client;
  Pipe& in = from_client ? c->to_upstream : c->to_client;    // bytes read from self
  Pipe& out = from_client ? c->to_client : c->to_upstream;   // bytes to write to self
  if (revents & (POLLIN | POLLHUP | POLLERR)) {
    if (in.start > 0 && in.end == in.buffer.size()) {
      std::memmove(in.buffer.data(), in.buffer.data() + in.start, in.end - in.start);
      in.end -= in.start;
      in.start = 0;
    }
    if (in.end < in.buffer.size()) {
      ssize_t n = ::read(self, in.buffer.data() + in.end, in.buffer.size() - in.end);
      if (n == 0) return false;
      if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (n > 0) in.end += static_cast<size_t>(n);
    }
    if (in.has_data()) {
      ssize_t w = ::send(other, in.buffer.data() + in.start, in.end - in.start, MSG_NOSIGNAL);
      if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (w > 0) {
        in.start += static_cast<size_t>(w);
        bytes_ += w;
      }
      if (in.start == in.end) in.start = in.end = 0;
    }
  }
  if ((revents & POLLOUT) && out.has_data()) {
    ssize_t w = ::send(self, out.buffer.data() + out.start, out.end - out.start, MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) return false;
    if (w > 0) {
      out.start += static_cast<size_t>(w);
      bytes_ += w;
    }
    if (out.start == out.end) out.start = out.end = 0;
  }
  return true;
}

void TcpProxy::Loop() {
  std::vector<pollfd> fds;
  while (true) {
    RunCommands();
    std::chrono::steady_clock::time_point stalled_until;
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stalled_until = stalled_until_;
    }
    auto now = std::chrono::steady_clock::now();
    const bool stalled = now < stalled_until;
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (auto& c : connections_) {
      short client_events = 0, upstream_events = 0;
      if (!stalled) {
        if (c->to_upstream.has_room()) client_events |= POLLIN;
        if (c->to_client.has_data()) client_events |= POLLOUT;
        if (c->to_client.has_room()) upstream_events |= POLLIN;
        if (c->to_upstream.has_data()) upstream_events |= POLLOUT;
      }
      fds.push_back({c->client, client_events, 0});
      fds.push_back({c->upstream, upstream_events, 0});
    }
    int timeout_ms = -1;
    if (stalled) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(stalled_until - now);
      timeout_ms = static_cast<int>(std::max<int64_t>(1, left.count() + 1));
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) return;
    if (fds[0].revents & POLLIN) {
      uint64_t value;
      [[maybe_unused]] ssize_t n = ::read(wake_fd_, &value, sizeof(value));
    }
    if (fds[1].revents & POLLIN) AcceptOne();
    if (stalled) continue;
    size_t count = std::min(connections_.size(), (fds.size() - 2) / 2);
    for (size_t i = 0; i < count; ++i) {
      Connection* c = connections_[i].get();
      bool ok = Pump(c, true, fds[2 + 2 * i].revents) && Pump(c, false, fds[3 + 2 * i].revents);
      if (!ok) {
        CloseWithReset(c->client);
        CloseWithReset(c->upstream);
        c->client = c->upstream = -1;
      }
    }
    std::erase_if(connections_, [](const auto& c) { return c->client < 0; });
  }
}

}  // namespace nobus::client::testing
