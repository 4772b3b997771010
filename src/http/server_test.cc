// http::Server in process: routing, keep-alive and pipelining, 100-continue, replies from other
// threads, and every limit (408, 413, 431, 503, idle close) with its metric. Raw sockets play the
// misbehaving clients.
#include "http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <atomic>
#include <mutex>
#include <thread>

namespace nobus::http {
namespace {

// A raw client socket; reads until the peer closes or `timeout` passes.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // Everything until EOF (or `timeout`); *closed says whether the peer closed.
  std::string ReadAll(std::chrono::milliseconds timeout, bool* closed = nullptr) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, n);
        continue;
      }
      if (closed != nullptr) *closed = n == 0 || (n < 0 && errno == ECONNRESET);
      return out;
    }
  }
  // Reads until `count` responses' worth of "HTTP/1.1 " status lines arrived (or timeout).
  std::string ReadResponses(int count, std::chrono::milliseconds timeout) {
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    while (Count(out, "HTTP/1.1 ") < count || !Complete(out)) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, n);
    }
    return out;
  }

 private:
  static int Count(const std::string& s, const std::string& what) {
    int n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }
  // The last response's body (Content-Length) is all there.
  static bool Complete(const std::string& s) {
    size_t head = s.rfind("HTTP/1.1 ");
    size_t end = s.find("\r\n\r\n", head);
    if (end == std::string::npos) return false;
    size_t cl = s.find("Content-Length: ", head);
    size_t length = cl == std::string::npos || cl > end ? 0 : std::stoul(s.substr(cl + 16));
    return s.size() >= end + 4 + length;
  }
  int fd_ = -1;
  bool connected_ = false;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options) {
    router_.Add("GET", "/hello/{}", Runs::kEventLoop,
                Handler([](const Request& req, Response& res) {
                  res.SetContent("hello " + req.params[0] + " " + std::string(req.Query("x")),
                                 "text/plain");
                }));
    router_.Add("POST", "/echo", Runs::kWorker, Handler([](const Request& req, Response& res) {
                  res.SetContent(req.body, "application/octet-stream");
                }));
    // Answers from another thread, later (as REST insert does once rows are durable).
    router_.Add("POST", "/later", Runs::kEventLoop, AsyncHandler([this](Request req, Reply reply) {
                  std::lock_guard lock(later_mu_);
                  ++later_started_;
                  later_.emplace_back([req = std::move(req), reply = std::move(reply)]() mutable {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    Response res;
                    res.SetContent("done " + req.body, "text/plain");
                    reply(std::move(res));
                  });
                }));
    router_.Add("GET", "/throws", Runs::kWorker,
                Handler([](const Request&, Response&) { throw std::runtime_error("boom"); }));
    options.metrics = &metrics_;
    server_ = std::make_unique<Server>(std::move(options), &router_);
    absl::StatusOr<int> port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    server_->Start();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::lock_guard lock(later_mu_);
    for (std::thread& t : later_) t.join();
  }
  int64_t Closed(const std::string& reason) {
    return metrics_.GetCounter("nobus_http_closed_total", "", {{"reason", reason}})->value();
  }

  MetricsRegistry metrics_;
  Router router_;
  std::mutex later_mu_;
  std::vector<std::thread> later_;  // guarded by later_mu_
  std::atomic<int> later_started_{0};
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

constexpr auto kWait = std::chrono::seconds(10);

TEST_F(HttpServerTest, RoutesKeepAliveAndPipelining) {
  StartServer({});
  RawClient c(port_);
  // Two requests in one write, then a third: three answers, in order, on one connection.
  c.Send("GET /hello/a?x=1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /echo HTTP/1.1\r\nHost: h\r\n"
         "Content-Length: 5\r\n\r\nabcde");
  std::string two = c.ReadResponses(2, kWait);
  EXPECT_NE(two.find("hello a 1"), std::string::npos) << two;
  EXPECT_LT(two.find("hello a 1"), two.find("abcde")) << two;
  c.Send("GET /nope HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string third = c.ReadResponses(1, kWait);
  EXPECT_NE(third.find("404 Not Found"), std::string::npos) << third;
  EXPECT_NE(third.find("\"error_code\":\"ENDPOINT_NOT_FOUND\""), std::string::npos) << third;
  c.Send("DELETE /echo HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string fourth = c.ReadResponses(1, kWait);
  EXPECT_NE(fourth.find("405"), std::string::npos) << fourth;
  EXPECT_NE(fourth.find("Allow: POST"), std::string::npos) << fourth;
}

TEST_F(HttpServerTest, RepliesLaterFromAnotherThreadAndContinues) {
  StartServer({});
  RawClient c(port_);
  c.Send("POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy");
  EXPECT_NE(c.ReadResponses(1, kWait).find("done xy"), std::string::npos);
  c.Send("POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n");
  std::string cont = c.ReadResponses(1, kWait);
  EXPECT_NE(cont.find("HTTP/1.1 100 Continue"), std::string::npos) << cont;
  c.Send("z");
  EXPECT_NE(c.ReadResponses(1, kWait).find("done z"), std::string::npos);
}

TEST_F(HttpServerTest, AThrowingHandlerGets500AndTheConnectionLives) {
  StartServer({});
  RawClient c(port_);
  c.Send("GET /throws HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(c.ReadResponses(1, kWait).find("500 Internal Server Error"), std::string::npos);
  c.Send("GET /hello/b HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(c.ReadResponses(1, kWait).find("hello b"), std::string::npos);
}

TEST_F(HttpServerTest, SlowHeaderAndBodyGet408ThenClose) {
  StartServer({.header_timeout_ms = 300, .body_timeout_ms = 300});
  RawClient header(port_), body(port_), silent(port_);
  header.Send("GET /hello/a HTTP/1.1\r\nHo");
  body.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc");
  // Meanwhile others are served.
  RawClient ok(port_);
  ok.Send("GET /hello/c HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_NE(ok.ReadResponses(1, kWait).find("hello c"), std::string::npos);
  for (RawClient* c : {&header, &body, &silent}) {
    bool closed = false;
    std::string got = c->ReadAll(kWait, &closed);
    EXPECT_NE(got.find("408 Request Timeout"), std::string::npos) << got;
    EXPECT_NE(got.find("REQUEST_TIMEOUT"), std::string::npos) << got;
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(Closed("header_timeout"), 2);
  EXPECT_EQ(Closed("body_timeout"), 1);
}

TEST_F(HttpServerTest, IdleKeepAliveClosesSilently) {
  StartServer({.idle_timeout_ms = 300});
  RawClient c(port_);
  c.Send("GET /hello/a HTTP/1.1\r\nHost: h\r\n\r\n");
  std::string first = c.ReadResponses(1, kWait);
  ASSERT_NE(first.find("hello a"), std::string::npos);
  bool closed = false;
  EXPECT_EQ(c.ReadAll(kWait, &closed), "");
  EXPECT_TRUE(closed);
  EXPECT_EQ(Closed("idle_timeout"), 1);
}

TEST_F(HttpServerTest, OversizeHeaderAndBody) {
  StartServer(
      {.max_header_bytes = 1024, .max_body_bytes = 100, .body_limit_name = "max_message_bytes"});
  RawClient big_header(port_), big_body(port_), chunked(port_);
  big_header.Send("GET /hello/a HTTP/1.1\r\nHost: h\r\nX: " + std::string(4096, 'x') + "\r\n\r\n");
  std::string got = big_header.ReadAll(kWait);
  EXPECT_NE(got.find("431"), std::string::npos) << got;
  EXPECT_NE(got.find("http_max_header_bytes (1024)"), std::string::npos) << got;
  big_body.Send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 101\r\n\r\n");
  got = big_body.ReadAll(kWait);
  EXPECT_NE(got.find("413"), std::string::npos) << got;
  EXPECT_NE(got.find("max_message_bytes (100)"), std::string::npos) << got;
  chunked.Send("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n80\r\n" +
               std::string(128, 'y') + "\r\n0\r\n\r\n");
  got = chunked.ReadAll(kWait);
  EXPECT_NE(got.find("413"), std::string::npos) << got;
  EXPECT_EQ(Closed("header_too_large"), 1);
  EXPECT_EQ(Closed("body_too_large"), 2);
}

TEST_F(HttpServerTest, MalformedRequestsGet400) {
  StartServer({});
  for (const char* bad : {"GARBAGE\r\n\r\n", "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n",
                          "GET /hello/a HTTP/1.1\r\nContent-Length: x\r\n\r\n"}) {
    RawClient c(port_);
    c.Send(bad);
    std::string got = c.ReadResponses(1, kWait);
    EXPECT_NE(got.find("400 Bad Request"), std::string::npos) << bad << got;
    EXPECT_NE(got.find("MALFORMED_REQUEST"), std::string::npos) << got;
  }
}

TEST_F(HttpServerTest, ConnectionLimitsAnswer503AndFreeUp) {
  StartServer({.max_connections_per_client = 3});
  std::vector<std::unique_ptr<RawClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawClient>(port_));
    held.back()->Send("GET /hello/x HTTP/1.1\r\nHost: h\r\n\r\n");
    ASSERT_NE(held.back()->ReadResponses(1, kWait).find("hello x"), std::string::npos);
  }
  RawClient fourth(port_);
  bool closed = false;
  std::string got = fourth.ReadAll(kWait, &closed);
  EXPECT_NE(got.find("503"), std::string::npos) << got;
  EXPECT_NE(got.find("http_max_connections_per_client is 3"), std::string::npos) << got;
  EXPECT_TRUE(closed);
  EXPECT_EQ(Closed("too_many_per_client"), 1);
  held.pop_back();
  // The slot frees once the server notices the close; retry until it does.
  std::string served;
  for (int i = 0; i < 100 && served.find("hello y") == std::string::npos; ++i) {
    RawClient again(port_);
    again.Send("GET /hello/y HTTP/1.1\r\nHost: h\r\n\r\n");
    served = again.ReadResponses(1, kWait);
    if (served.find("hello y") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(served.find("hello y"), std::string::npos) << served;
}

TEST_F(HttpServerTest, StopWaitsForPendingReplies) {
  StartServer({});
  RawClient c(port_);
  c.Send("POST /later HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nq");
  // Let the request reach its handler, then stop: the reply still goes out, with a close.
  for (int i = 0; i < 200 && later_started_ == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server_->Stop();
  std::string got = c.ReadResponses(1, kWait);
  EXPECT_NE(got.find("done q"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
}

}  // namespace
}  // namespace nobus::http
