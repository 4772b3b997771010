// The TCP side of nobusd's binary-protocol listeners (Boost.Asio; src/kafka today): accepts
// connections, cuts the byte stream into frames with the protocol's Framing, hands each frame to a
// FrameHandler and writes the answers back in frame order, while later frames are already being
// handled (Kafka clients pipeline up to 5 produce requests). A frame larger than max_frame_bytes,
// a Framing error, an idle deadline that passed, or a handler asking for it, closes that
// connection only (after the answer, and after `close_delay_ms` when the handler asks: clients
// must get to read an authentication failure before the EOF); `last_words` may write a final
// frame first (MQTT's DISCONNECT with a reason code). A handler may also push a frame nobody asked
// for (ConnectionContext::push). With `tls_setup` every connection is TLS (Kafka's SSL / SASL_SSL,
// MQTT over TLS), with the SSL_CTX the other listeners use.
//
// Lifecycle: Bind, then Serve runs the event-loop threads; Stop closes the listener and every
// connection (after its last words and the answers already made, for at most a second) and joins
// the threads (the handler must answer pending replies or drop them; a reply
// after Stop is ignored). Thread-safety: Start/Stop from one thread; replies from any thread.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::net {

// The answer to one frame: the bytes to write as they are, nothing (e.g. a Kafka acks=0 produce),
// and whether to close the connection after it.
struct Answer {
  std::optional<std::string> response;
  bool close = false;
  int close_delay_ms = 0;  // with close: keep the connection this long after the answer is written
  // Replaces the connection's idle deadline once this answer is written (MQTT's keep alive after
  // CONNECT): the connection is closed when no frame arrives for this long; 0 = never.
  std::optional<int64_t> idle_timeout_ms;
};
using Reply = std::function<void(Answer)>;

// One connection as the handler sees it. `state` is the handler's own (e.g. SASL): it sets it,
// and it lives as long as the connection; only the handler's calls for this connection (one at a
// time, in frame order) touch it.
// `push` writes an answer nobody asked for, after those already written (e.g. MQTT's DISCONNECT
// when another connection takes the session over); callable from any thread, also after the
// connection closed (then it does nothing).
struct ConnectionContext {
  std::string peer;  // "ip:port"
  std::shared_ptr<void> state;
  std::function<void(Answer)> push;
};

// Called on an event-loop thread for every frame, in order per connection; answers through
// `reply` exactly once, from any thread, now or later.
using FrameHandler = std::function<void(std::string frame, ConnectionContext& connection, Reply reply)>;

// How a protocol delimits its frames in the byte stream. `frame_size` gets the frame's first
// bytes read so far (at least min_head_bytes) and returns the whole frame's size, header
// included, or 0 when it needs one more header byte; an error closes the connection (logged).
// The handler gets the frame without its first `strip_bytes` (e.g. Kafka's size prefix).
struct Framing {
  size_t min_head_bytes = 4;
  std::function<absl::StatusOr<size_t>(std::string_view head)> frame_size;
  size_t strip_bytes = 0;
};

struct FramedServerOptions {
  std::string protocol;  // "kafka": names the listener in log lines and errors
  Framing framing;
  int io_threads = 1;
  int64_t max_frame_bytes = 16 << 20;
  int max_inflight_per_connection = 16;  // unanswered requests before reading pauses
  int handshake_timeout_ms = 10000;       // TLS only: a client must finish its handshake in this
  // A connection that sends no frame for this long is closed (0 = never), until an Answer sets
  // another deadline (Answer::idle_timeout_ms). MQTT: a client must CONNECT within 10 s.
  int64_t idle_timeout_ms = 0;
  // Optional: when the listener closes a connection on its own (a framing error: the status as
  // Framing returned it, or ResourceExhausted for a frame over max_frame_bytes; an idle deadline:
  // DeadlineExceeded), the frame to write before closing, if any. Called on the connection's
  // event-loop thread, never while a handler call of the connection runs.
  // Non-empty: TLS on every connection; sets up the listener's SSL_CTX (auth::HttpTls::SetUp).
  std::function<bool(SSL_CTX&)> tls_setup;
  std::function<std::optional<std::string>(const absl::Status& why, ConnectionContext&)> last_words;
};

class FramedServer {
 public:
  FramedServer(FramedServerOptions options, FrameHandler handler);
  ~FramedServer();

  // Binds host:port (port 0 picks one); returns the bound port. Nothing is accepted before Serve.
  [[nodiscard]] absl::StatusOr<int> Bind(const std::string& host, int port);
  void Serve();
  void Stop();
  int connections() const;
  bool tls() const;

  struct Impl;  // server.cc

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace nobus::net
