// nobusd's HTTP listener under misbehaving clients (doc/server.md "HTTP API"), over raw sockets:
//   - hundreds of idle and half-sent connections do not stop /healthz or a REST insert from
//     being served, and each is closed by the server after http_header_timeout_ms (408 or a plain
//     close), counted in nobus_http_closed_total{reason="header_timeout"};
//   - a body that stalls gets 408 after http_body_timeout_ms; an idle keep-alive connection is
//     closed silently after http_idle_timeout_ms;
//   - a header above http_max_header_bytes gets 431, a body above max_message_bytes 413, a
//     connection beyond http_max_connections(_per_client) 503, all with the JSON error shape;
//   - pipelined requests on one connection are answered in order.
// Limits are small in the config so the tests are quick; no assertion depends on the server being
// fast, only on it answering at all before a generous deadline.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr const char* kTable = "main.default.events";
constexpr const char* kInsertPath = "/zerobus/v1/tables/main.default.events/insert";
// Every wait for the server is bounded by this; it is a hang detector, not a speed requirement.
constexpr milliseconds kGenerous(30000);

// ---- A raw HTTP/1.1 client ----

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses one complete response at the front of `bytes` and removes it; nullopt while incomplete.
// The body is Content-Length bytes (nobusd always sends one).
std::optional<RawResponse> TakeResponse(std::string* bytes) {
  size_t end = bytes->find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  std::istringstream head(bytes->substr(0, end));
  std::string line, version;
  RawResponse r;
  std::getline(head, line);
  std::istringstream(line) >> version >> r.status;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    r.headers[Lower(line.substr(0, colon))] = v == std::string::npos ? "" : line.substr(v);
  }
  size_t length = r.headers.contains("content-length")
                      ? std::stoul(r.headers["content-length"])
                      : 0;
  if (bytes->size() < end + 4 + length) return std::nullopt;
  r.body = bytes->substr(end + 4, length);
  bytes->erase(0, end + 4 + length);
  return r;
}

enum class End { kEof, kReset, kTimeout };

// One TCP connection to nobusd's (plaintext) HTTP listener.
class RawConn {
 public:
  explicit RawConn(const std::string& address) {
    size_t colon = address.rfind(':');
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    if (::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) return;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return;
    int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    pollfd p{fd_, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof(error);
    if ((rc != 0 && errno != EINPROGRESS) ||
        (rc != 0 && ::poll(&p, 1, static_cast<int>(kGenerous.count())) != 1) ||
        ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0)
      Close();
  }
  ~RawConn() { Close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool ok() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Writes all of `bytes` (the server may have closed already: false then).
  bool Send(const std::string& bytes) {
    for (size_t done = 0; done < bytes.size();) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(kGenerous.count())) != 1) return false;
        continue;
      }
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads one response; nullopt if the connection ended or `timeout` passed first.
  std::optional<RawResponse> ReadResponse(milliseconds timeout = kGenerous) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
      if (auto r = TakeResponse(&pending_)) return r;
      if (ReadSome(deadline) != 1) return std::nullopt;
    }
  }

  // Reads until the server closes (EOF or reset) or `deadline`; the bytes stay in pending().
  End ReadToEnd(steady_clock::time_point deadline) {
    for (;;) {
      int got = ReadSome(deadline);
      if (got == 0) return End::kEof;
      if (got < 0) return errno == ECONNRESET ? End::kReset : End::kTimeout;
    }
  }

  // True if the server sent something or closed (a read would not block).
  bool Readable() const {
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
  }

  std::string& pending() { return pending_; }

 private:
  // 1 after appending bytes to pending_, 0 on EOF, -1 on error or deadline (errno = ETIMEDOUT).
  int ReadSome(steady_clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
      pollfd p{fd_, POLLIN, 0};
      if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
        errno = ETIMEDOUT;
        return -1;
      }
      char buf[16384];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        pending_.append(buf, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0) return 0;
      if (errno != EAGAIN && errno != EINTR) return -1;
    }
  }

  int fd_ = -1;
  std::string pending_;
};

std::string Get(const std::string& path, const std::string& extra_headers = "") {
  return "GET " + path + " HTTP/1.1\r\nHost: nobus\r\n" + extra_headers + "\r\n";
}

// Expects `r` to be `status` with the JSON error shape and `error_code`, and Connection: close.
void ExpectErrorAndClose(const std::optional<RawResponse>& r, int status,
                         const std::string& error_code) {
  ASSERT_TRUE(r.has_value()) << "no response";
  EXPECT_EQ(r->status, status) << r->body;
  json body = r->Json();
  EXPECT_EQ(body.value("error_code", ""), error_code) << r->body;
  EXPECT_FALSE(body.value("message", "").empty()) << r->body;
  EXPECT_EQ(Lower(r->Header("connection")), "close");
}

// Expects the server to close `conn` (after what it already sent) with nothing more on the wire.
void ExpectClosedByServer(RawConn& conn) {
  End end = conn.ReadToEnd(steady_clock::now() + kGenerous);
  EXPECT_NE(end, End::kTimeout) << "the server did not close the connection";
  EXPECT_EQ(conn.pending(), "") << "unexpected bytes before the close";
}

// ---- /metrics ----

std::string ClosedTotal(const std::string& reason) {
  return "nobus_http_closed_total{reason=\"" + reason + "\"}";
}
constexpr const char* kOpenConnections = "nobus_http_connections";

// The value of one series on /metrics (`series` exactly as printed, labels included); 0 if absent,
// -1 if /metrics did not answer.
double Metric(const Nobusd& server, const std::string& series) {
  HttpReply r = HttpCall(server, "GET", "/metrics");
  if (r.status != 200) return -1;
  std::istringstream text(r.body.value("raw", ""));
  for (std::string line; std::getline(text, line);)
    if (line.starts_with(series + " ")) return std::stod(line.substr(series.size() + 1));
  return 0;
}

bool PollUntil(const std::function<bool()>& done, milliseconds timeout = kGenerous) {
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// Expects nobus_http_closed_total{reason} to reach `at_least` (it counts after the close).
void ExpectClosedCount(const Nobusd& server, const std::string& reason, double at_least) {
  double last = 0;
  EXPECT_TRUE(PollUntil([&] { return (last = Metric(server, ClosedTotal(reason))) >= at_least; }))
      << ClosedTotal(reason) << " = " << last << ", expected at least " << at_least;
}

class HttpLimitsTest : public ServerTest {
 protected:
  void SetUp() override {}  // each test starts nobusd with its own config

  // Opens a connection and completes one GET /healthz on it (kept alive), retrying for a while
  // on 503: connections the test closed a moment ago may still count until the server sees EOF.
  std::unique_ptr<RawConn> OpenServed() {
    const auto deadline = steady_clock::now() + kGenerous;
    while (steady_clock::now() < deadline) {
      auto conn = std::make_unique<RawConn>(server_->http_address());
      if (conn->ok() && conn->Send(Get("/healthz"))) {
        std::optional<RawResponse> r = conn->ReadResponse();
        if (r && r->status == 200) return conn;
        if (!r || r->status != 503) break;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    ADD_FAILURE() << "could not get a connection served";
    return nullptr;
  }

  // With `limit` connections open and served, one more is refused with 503 naming `key`.
  void ExpectConnectionLimit(int limit, const std::string& key, const std::string& reason);
};

// ---- a) idle and half-sent connections ----

TEST_F(HttpLimitsTest, SlowConnectionsDoNotBlockOthersAndTimeOut) {
  constexpr int kIdle = 300, kHalfSent = 300;
  // Long enough for /healthz and one insert to be answered while every bad connection is still
  // open, even on a busy machine.
  ASSERT_NO_FATAL_FAILURE(StartServer(R"({"http_header_timeout_ms": 8000})"));
  MakeTable(kTable, "id BIGINT NOT NULL");
  const double closed_before = Metric(*server_, ClosedTotal("header_timeout"));

  std::vector<std::unique_ptr<RawConn>> bad;
  for (int i = 0; i < kIdle + kHalfSent; ++i) {
    bad.push_back(std::make_unique<RawConn>(server_->http_address()));
    ASSERT_TRUE(bad.back()->ok()) << "connection " << i;
    if (i >= kIdle) {
      ASSERT_TRUE(bad.back()->Send(
          "POST /zerobus/v1/tables/x/insert HTTP/1.1\r\nHost: a\r\nContent-Le"));
    }
  }
  HttpReply health = HttpCall(*server_, "GET", "/healthz");
  EXPECT_EQ(health.status, 200) << health.body.dump();
  HttpReply insert = HttpCall(*server_, "POST", kInsertPath, R"([{"id": 42}])");
  EXPECT_EQ(insert.status, 200) << insert.body.dump();
  int closed_early = 0;
  for (const auto& conn : bad) closed_early += conn->Readable() ? 1 : 0;
  EXPECT_EQ(closed_early, 0) << "bad connections answered before the good requests were: the "
                                "good ones waited for them";
  double open = 0;
  const double all_bad = static_cast<double>(bad.size());
  EXPECT_TRUE(PollUntil([&] { return (open = Metric(*server_, kOpenConnections)) >= all_bad; }))
      << kOpenConnections << " = " << open;

  // After the header timeout every one is answered 408 (or just closed), then closed.
  int answered = 0, silent = 0;
  const auto deadline = steady_clock::now() + kGenerous;
  for (size_t i = 0; i < bad.size(); ++i) {
    End end = bad[i]->ReadToEnd(deadline);
    ASSERT_NE(end, End::kTimeout) << "connection " << i << " still open";
    std::string& bytes = bad[i]->pending();
    if (bytes.empty()) {
      ++silent;
      continue;
    }
    std::optional<RawResponse> r = TakeResponse(&bytes);
    ASSERT_NO_FATAL_FAILURE(ExpectErrorAndClose(r, 408, "REQUEST_TIMEOUT")) << "connection " << i;
    EXPECT_EQ(bytes, "") << "connection " << i << ": bytes after the 408";
    ++answered;
  }
  std::printf("%d connections answered 408, %d closed silently\n", answered, silent);
  ExpectClosedCount(*server_, "header_timeout", closed_before + all_bad);
  EXPECT_TRUE(PollUntil([&] { return Metric(*server_, kOpenConnections) < 10; }));
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{R"({"id":42})"});
}

// ---- b) body deadline, c) idle keep-alive ----

TEST_F(HttpLimitsTest, StalledBodyGets408ThenClose) {
  ASSERT_NO_FATAL_FAILURE(StartServer(R"({"http_body_timeout_ms": 1500})"));
  MakeTable(kTable, "id BIGINT NOT NULL");
  RawConn conn(server_->http_address());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send(std::string("POST ") + kInsertPath +
                        " HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100\r\n\r\n[{\"id\": 1}"));  // 10 of 100 bytes
  ASSERT_NO_FATAL_FAILURE(ExpectErrorAndClose(conn.ReadResponse(), 408, "REQUEST_TIMEOUT"));
  ExpectClosedByServer(conn);
  ExpectClosedCount(*server_, "body_timeout", 1);
  EXPECT_TRUE(StopAndReadRows(kTable).empty());
}

TEST_F(HttpLimitsTest, IdleKeepAliveConnectionIsClosedSilently) {
  ASSERT_NO_FATAL_FAILURE(StartServer(R"({"http_idle_timeout_ms": 1500})"));
  RawConn conn(server_->http_address());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send(Get("/healthz")));
  std::optional<RawResponse> r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(Lower(r->Header("connection")), "close");
  ExpectClosedByServer(conn);  // no 408: nothing was in progress
  ExpectClosedCount(*server_, "idle_timeout", 1);
}

// ---- d) size and connection limits ----

TEST_F(HttpLimitsTest, HeaderAboveTheLimitGets431) {
  ASSERT_NO_FATAL_FAILURE(StartServer());  // default http_max_header_bytes: 16384
  {
    // 12 KB in six fields is within the limit.
    std::string fields;
    for (int i = 0; i < 6; ++i) fields += Cat("X-Filler-", i, ": ", std::string(2000, 'x'), "\r\n");
    RawConn conn(server_->http_address());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.Send(Get("/healthz", fields)));
    std::optional<RawResponse> r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->status, 200);
  }
  RawConn conn(server_->http_address());
  ASSERT_TRUE(conn.ok());
  conn.Send(Get("/healthz", "X-Filler: " + std::string(40000, 'x') + "\r\n"));  // may be cut
  ASSERT_NO_FATAL_FAILURE(
      ExpectErrorAndClose(conn.ReadResponse(), 431, "REQUEST_HEADER_FIELDS_TOO_LARGE"));
  EXPECT_NE(conn.ReadToEnd(steady_clock::now() + kGenerous), End::kTimeout);
  ExpectClosedCount(*server_, "header_too_large", 1);
}

// Exists with the cpp-httplib server too: no new config key.
TEST_F(HttpLimitsTest, BodyAboveMaxMessageBytesGets413) {
  ASSERT_NO_FATAL_FAILURE(StartServer(R"({"max_message_bytes": 1024})"));
  MakeTable(kTable, "id BIGINT NOT NULL");
  auto post = [&](const std::string& body) {
    auto conn = std::make_unique<RawConn>(server_->http_address());
    EXPECT_TRUE(conn->Send(Cat("POST ", kInsertPath, " HTTP/1.1\r\nHost: a\r\nContent-Type: ",
                               "application/json\r\nContent-Length: ", body.size(), "\r\n\r\n",
                               body)));
    return conn->ReadResponse();
  };
  std::string exactly_at_limit = R"([{"id": 1})";
  exactly_at_limit += std::string(1024 - exactly_at_limit.size() - 1, ' ') + "]";
  std::optional<RawResponse> ok = post(exactly_at_limit);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->status, 200) << ok->body;

  std::optional<RawResponse> r = post(std::string(4096, ' '));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_EQ(r->Json().value("error_code", ""), "REQUEST_LIMIT_EXCEEDED") << r->body;
  EXPECT_NE(r->Json().value("message", "").find("max_message_bytes"), std::string::npos);
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{R"({"id":1})"});
}

void HttpLimitsTest::ExpectConnectionLimit(int limit, const std::string& key,
                                           const std::string& reason) {
  const double refused_before = Metric(*server_, ClosedTotal(reason));
  std::vector<std::unique_ptr<RawConn>> held;
  for (int i = 0; i < limit; ++i) {
    held.push_back(OpenServed());
    ASSERT_NE(held.back(), nullptr) << "connection " << i << " of " << limit;
  }
  // One more is refused at once, without sending anything.
  RawConn extra(server_->http_address());
  ASSERT_TRUE(extra.ok());
  std::optional<RawResponse> r = extra.ReadResponse();
  ASSERT_NO_FATAL_FAILURE(ExpectErrorAndClose(r, 503, "TEMPORARILY_UNAVAILABLE"));
  const std::string message = r->Json().value("message", "");
  EXPECT_NE(message.find(key), std::string::npos) << message;
  if (key == "http_max_connections") {
    EXPECT_EQ(message.find("per_client"), std::string::npos) << message;
  }
  ExpectClosedByServer(extra);
  // Once one of them is gone a new connection is served (after the server saw the close).
  held.front().reset();
  EXPECT_NE(OpenServed(), nullptr);
  held.clear();
  ExpectClosedCount(*server_, reason, refused_before + 1);
}

TEST_F(HttpLimitsTest, ConnectionBeyondThePerClientLimitGets503) {
  ASSERT_NO_FATAL_FAILURE(StartServer(
      R"({"http_max_connections_per_client": 5, "http_idle_timeout_ms": 60000,
          "http_header_timeout_ms": 60000})"));
  ExpectConnectionLimit(5, "http_max_connections_per_client", "too_many_per_client");
}

TEST_F(HttpLimitsTest, ConnectionBeyondTheNodeLimitGets503) {
  ASSERT_NO_FATAL_FAILURE(StartServer(
      R"({"http_max_connections": 5, "http_max_connections_per_client": 0,
          "http_idle_timeout_ms": 60000, "http_header_timeout_ms": 60000})"));
  ExpectConnectionLimit(5, "http_max_connections", "too_many_connections");
}

// ---- e) pipelining; malformed requests ----

// Exists with the cpp-httplib server too.
TEST_F(HttpLimitsTest, PipelinedRequestsAreAnsweredInOrder) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  RawConn conn(server_->http_address());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send(Get("/healthz") + Get("/healthz") + Get("/no/such/endpoint") +
                        Get("/healthz", "Connection: close\r\n")));
  int index = 0;
  for (int expected : {200, 200, 404, 200}) {
    std::optional<RawResponse> r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << "no response " << index << " (" << expected
                               << " was due); received: " << conn.pending();
    ++index;
    EXPECT_EQ(r->status, expected) << r->body;
    if (expected == 200) {
      EXPECT_EQ(r->body, "ok\n");
    }
  }
  ExpectClosedByServer(conn);  // the last request asked for it
}

TEST_F(HttpLimitsTest, MalformedRequestGets400ThenClose) {
  ASSERT_NO_FATAL_FAILURE(StartServer());
  const double before = Metric(*server_, ClosedTotal("bad_request"));
  RawConn conn(server_->http_address());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send("THIS IS NOT HTTP\r\n\r\n"));
  std::optional<RawResponse> r = conn.ReadResponse();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
  ExpectClosedByServer(conn);
  ExpectClosedCount(*server_, "bad_request", before + 1);
}

// ops_listen: a second, plaintext listener with the health endpoints and /metrics only.
TEST_F(HttpLimitsTest, OpsListenerServesHealthAndMetricsOnly) {
  ASSERT_NO_FATAL_FAILURE(StartServer(R"({"ops_listen": "127.0.0.1:0"})"));
  ASSERT_FALSE(server_->ops_address().empty()) << "no ops= in the listening line";
  RawConn conn(server_->ops_address());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Send(Get("/readyz") + Get("/metrics") + Get("/api/2.1/unity-catalog/tables") +
                        Get("/livez", "Connection: close\r\n")));
  int index = 0;
  for (int expected : {200, 200, 404, 200}) {
    std::optional<RawResponse> r = conn.ReadResponse();
    ASSERT_TRUE(r.has_value()) << "no response " << index << "; received: " << conn.pending();
    EXPECT_EQ(r->status, expected) << index << ": " << r->body;
    if (index == 0) {
      EXPECT_EQ(r->Json()["ready"], true) << r->body;
    } else if (index == 1) {
      EXPECT_NE(r->body.find("nobus_http_connections"), std::string::npos);
    }
    ++index;
  }
  ExpectClosedByServer(conn);
}

}  // namespace
}  // namespace nobus::server::testing
