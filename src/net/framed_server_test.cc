// net::FramedServer in process with a toy protocol whose head is one or two bytes (like MQTT's
// variable-length header, which Kafka's fixed prefix does not exercise): frames pipelined and
// answered in order even when the handler answers out of order, a head that needs more bytes,
// the stripped prefix, an oversize frame and a framing error closing only their connection, and
// a handler's close (with its delay) after the answer, idle deadlines (the listener's first one
// and one an answer sets) with the last words written before closing, and a pushed answer. Raw
// sockets play the clients.
#include "net/framed_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace nobus::net {
namespace {

// A frame is a head then a body: head byte b < 0x80 is a body of b bytes; b >= 0x80 takes a second
// head byte and the body is ((b & 0x7f) << 8 | b2) bytes; 0xff alone is a framing error.
absl::StatusOr<size_t> ToySize(std::string_view head) {
  const auto b0 = static_cast<uint8_t>(head[0]);
  if (b0 == 0xff) return absl::InvalidArgumentError("head byte 0xff");
  if (b0 < 0x80) return 1 + b0;
  if (head.size() < 2) return 0;
  return 2 + (((b0 & 0x7f) << 8) | static_cast<uint8_t>(head[1]));
}

std::string Frame(std::string body) {
  if (body.size() < 0x80) return std::string(1, static_cast<char>(body.size())) + body;
  return std::string{static_cast<char>(0x80 | (body.size() >> 8)), static_cast<char>(body.size() & 0xff)} +
         body;
}

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  }
  ~RawClient() { close(fd_); }
  void Send(const std::string& bytes) {
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `n` bytes arrived, the peer closed, or 10 s passed; *closed: the peer closed.
  std::string Read(size_t n, bool* closed = nullptr) {
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    bool eof = false;
    while (out.size() < n) {
      ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got <= 0) {
        eof = got == 0 || errno == ECONNRESET;
        break;
      }
      out.append(buf, static_cast<size_t>(got));
    }
    if (closed != nullptr) *closed = eof;
    return out;
  }

 private:
  int fd_;
};

class FramedServerTest : public ::testing::Test {
 protected:
  // Starts a server whose handler answers "<body>!" (a body "close" closes after the answer,
  // "late" is answered after the next frame's answer was produced, "idle" sets a 200 ms idle
  // deadline, "push" also pushes "pushed" after its answer). With `last_words` the listener's own
  // closes write "bye: <status message>".
  void Start(size_t strip = 0, int64_t idle_timeout_ms = 0, bool last_words = false) {
    FramedServerOptions o;
    o.protocol = "toy";
    o.framing = Framing{.min_head_bytes = 1, .frame_size = ToySize, .strip_bytes = strip};
    o.max_frame_bytes = 1000;
    o.idle_timeout_ms = idle_timeout_ms;
    if (last_words)
      o.last_words = [](const absl::Status& why, ConnectionContext&) {
        return std::optional<std::string>(Cat("bye: ", why.message()));
      };
    server_ = std::make_unique<FramedServer>(o, [this](std::string frame, ConnectionContext& c,
                                                        Reply reply) {
      if (frame.ends_with("idle"))
        return reply(Answer{.response = frame + "!", .idle_timeout_ms = 200});
      if (frame.ends_with("push")) {
        reply(Answer{.response = frame + "!"});
        return c.push(Answer{.response = std::string("pushed")});
      }
      if (frame.ends_with("late")) {
        std::lock_guard<std::mutex> l(mu_);
        late_ = std::move(reply);
        return;
      }
      const bool close = frame.ends_with("close");
      reply(Answer{.response = frame + "!", .close = close, .close_delay_ms = close ? 50 : 0});
      std::lock_guard<std::mutex> l(mu_);
      if (late_) std::exchange(late_, nullptr)(Answer{.response = std::string("late!")});
    });
    absl::StatusOr<int> port = server_->Bind("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.status();
    port_ = *port;
    server_->Serve();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<FramedServer> server_;
  int port_ = 0;
  std::mutex mu_;
  Reply late_;
};

TEST_F(FramedServerTest, PipelinedFramesAreAnsweredInOrder) {
  Start();
  RawClient c(port_);
  const std::string big(300, 'x');  // a two-byte head: the "one more head byte" path
  c.Send(Frame("a") + Frame("late") + Frame(big) + Frame("b"));
  const std::string want = Frame("a") + "!" + "late!" + Frame(big) + "!" + Frame("b") + "!";
  EXPECT_EQ(c.Read(want.size()), want);
}

TEST_F(FramedServerTest, TheHandlerGetsTheFrameWithoutTheStrippedHead) {
  Start(/*strip=*/1);
  RawClient c(port_);
  c.Send(Frame("hello"));
  EXPECT_EQ(c.Read(6), "hello!");
}

TEST_F(FramedServerTest, OversizeFramesAndFramingErrorsCloseOnlyTheirConnection) {
  Start();
  RawClient keep(port_);
  keep.Send(Frame("a"));
  EXPECT_EQ(keep.Read(3), Frame("a") + "!");
  for (std::string bad : {Frame(std::string(1001, 'x')).substr(0, 2), std::string("\xff")}) {
    RawClient c(port_);
    c.Send(bad);
    bool closed = false;
    EXPECT_EQ(c.Read(1, &closed), "");
    EXPECT_TRUE(closed);
  }
  keep.Send(Frame("b"));
  EXPECT_EQ(keep.Read(3), Frame("b") + "!");
}

TEST_F(FramedServerTest, AHandlerCloseComesAfterItsAnswer) {
  Start();
  RawClient c(port_);
  c.Send(Frame("close") + Frame("never"));
  bool closed = false;
  EXPECT_EQ(c.Read(100, &closed), Frame("close") + "!");
  EXPECT_TRUE(closed);
}

TEST_F(FramedServerTest, AConnectionWithoutFramesIsClosedAtTheIdleDeadlineWithLastWords) {
  Start(/*strip=*/0, /*idle_timeout_ms=*/300, /*last_words=*/true);
  RawClient c(port_);
  bool closed = false;
  const std::string got = c.Read(1000, &closed);
  EXPECT_TRUE(got.starts_with("bye: no frame for 300 ms")) << got;
  EXPECT_TRUE(closed);
}

TEST_F(FramedServerTest, AnAnswerSetsTheIdleDeadlineAndFramesKeepItAway) {
  Start(/*strip=*/0, /*idle_timeout_ms=*/0, /*last_words=*/true);
  RawClient c(port_);
  c.Send(Frame("idle"));
  EXPECT_EQ(c.Read(6), Frame("idle") + "!");
  for (int i = 0; i < 5; ++i) {  // 500 ms of frames 100 ms apart: never 200 ms idle
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    c.Send(Frame("a"));
    EXPECT_EQ(c.Read(3), Frame("a") + "!");
  }
  bool closed = false;
  const std::string got = c.Read(1000, &closed);
  EXPECT_TRUE(got.starts_with("bye: no frame for 200 ms")) << got;
  EXPECT_TRUE(closed);
}

TEST_F(FramedServerTest, AFramingErrorGetsTheLastWords) {
  Start(/*strip=*/0, /*idle_timeout_ms=*/0, /*last_words=*/true);
  RawClient c(port_);
  c.Send("\xff");
  bool closed = false;
  EXPECT_EQ(c.Read(1000, &closed), "bye: head byte 0xff");
  EXPECT_TRUE(closed);
}

TEST_F(FramedServerTest, APushedAnswerFollowsTheAnswersWritten) {
  Start();
  RawClient c(port_);
  c.Send(Frame("push"));
  const std::string want = Frame("push") + "!" + "pushed";
  EXPECT_EQ(c.Read(want.size()), want);
  c.Send(Frame("b"));
  EXPECT_EQ(c.Read(3), Frame("b") + "!");
}

TEST_F(FramedServerTest, StopWritesTheLastWordsOfEveryConnection) {
  Start(/*strip=*/0, /*idle_timeout_ms=*/0, /*last_words=*/true);
  RawClient c(port_);
  c.Send(Frame("a"));
  EXPECT_EQ(c.Read(3), Frame("a") + "!");
  server_->Stop();
  bool closed = false;
  EXPECT_EQ(c.Read(1000, &closed), "bye: the server is shutting down");
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace nobus::net
