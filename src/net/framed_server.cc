#include "net/framed_server.h"

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/logging.h"

namespace nobus::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using PlainStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

}  // namespace

// What the listener keeps of a connection, plain or TLS: a way to close it at Stop.
class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void Close() = 0;
  // The listener is stopping: last words (if the protocol has any), then close.
  virtual void Shutdown() = 0;
};

// One client connection: reads frames in order, keeps the answers in request order. All of its
// state is confined to its strand.
template <class Stream>
class Connection : public ConnectionBase, public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  Connection(Stream stream, FramedServer::Impl* server);
  void Start();
  void Close() override;
  void Shutdown() override;

 private:
  void ReadHead();  // the first min_head_bytes of the next frame
  void OnHead();    // the frame's size from its head: more head, or the rest of the frame
  void OnAnswer(uint64_t seq, Answer answer);  // on the strand
  void Flush();                                // on the strand
  void MaybeResumeReading();                   // on the strand
  void ArmIdle();                              // on the strand: the idle deadline's timer
  void CloseWith(const absl::Status& why);    // on the strand: last words, then close
  void Push(Answer answer);                    // on the strand
  tcp::socket& Socket() {
    if constexpr (kTls) return stream_.next_layer();
    else return stream_;
  }

  Stream stream_;
  Strand strand_;
  asio::steady_timer timer_;  // the TLS handshake deadline, then the delayed close
  asio::steady_timer idle_timer_;
  int64_t idle_timeout_ms_ = 0;  // 0: none
  std::chrono::steady_clock::time_point last_frame_;  // or the connection's start
  FramedServer::Impl* const server_;
  ConnectionContext context_;
  std::string frame_;  // the frame being read
  uint64_t next_seq_ = 0;     // the next frame's sequence number
  uint64_t next_write_ = 0;   // the next answer to write
  std::map<uint64_t, Answer> done_;  // answers that arrived, not yet written
  std::deque<std::string> out_;      // framed responses being written
  bool writing_ = false;
  bool reading_paused_ = false;
  bool closing_ = false;  // no more reads; close once the queued answers are written
  int close_delay_ms_ = 0;
  bool closed_ = false;
};

struct FramedServer::Impl {
  Impl(FramedServerOptions o, FrameHandler h) : options(std::move(o)), handler(std::move(h)) {
    if (options.tls_setup) {
      tls.emplace(asio::ssl::context::tls_server);
      options.tls_setup(*tls->native_handle());
    }
  }
  void Accept();
  template <class Stream>
  void Open(Stream stream);

  FramedServerOptions options;
  const FrameHandler handler;
  std::optional<asio::ssl::context> tls;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<std::shared_ptr<ConnectionBase>> open;  // guarded by mu
  std::atomic<bool> stopping{false};
};

template <class Stream>
Connection<Stream>::Connection(Stream stream, FramedServer::Impl* server)
    : stream_(std::move(stream)),
      strand_(asio::make_strand(server->io)),
      timer_(strand_),
      idle_timer_(strand_),
      idle_timeout_ms_(server->options.idle_timeout_ms),
      last_frame_(std::chrono::steady_clock::now()),
      server_(server) {
  boost::system::error_code ec;
  tcp::endpoint remote = Socket().remote_endpoint(ec);
  context_.peer = ec ? "unknown" : Cat(remote.address().to_string(), ":", remote.port());
  Socket().set_option(tcp::no_delay(true), ec);
}

template <class Stream>
void Connection<Stream>::Start() {
  std::weak_ptr<Connection> weak = this->shared_from_this();
  context_.push = [weak, strand = strand_](Answer answer) {
    std::shared_ptr<Connection> c = weak.lock();
    if (c == nullptr) return;
    asio::post(strand, [c, answer = std::move(answer)]() mutable { c->Push(std::move(answer)); });
  };
  asio::post(strand_, [self = this->shared_from_this()] {
    self->ArmIdle();
    if constexpr (kTls) {
      self->timer_.expires_after(
          std::chrono::milliseconds(self->server_->options.handshake_timeout_ms));
      self->timer_.async_wait([self](boost::system::error_code ec) {
        if (ec) return;  // cancelled: the handshake finished
        NOBUS_LOG_WARN_LIMITED("{}: closing connection from {}: no TLS handshake within {} ms",
                               self->server_->options.protocol, self->context_.peer, self->server_->options.handshake_timeout_ms);
        self->Close();
      });
      self->stream_.async_handshake(
          asio::ssl::stream_base::server,
          asio::bind_executor(self->strand_, [self](boost::system::error_code ec) {
            self->timer_.cancel();
            if (ec) {
              NOBUS_LOG_WARN_LIMITED("{}: TLS handshake with {} failed: {}",
                                     self->server_->options.protocol, self->context_.peer,
                                     ec.message());
              return self->Close();
            }
            self->ReadHead();
          }));
    } else {
      self->ReadHead();
    }
  });
}

template <class Stream>
void Connection<Stream>::Close() {
  asio::post(strand_, [self = this->shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    self->timer_.cancel();
    self->idle_timer_.cancel();
    boost::system::error_code ec;
    self->Socket().shutdown(tcp::socket::shutdown_both, ec);
    self->Socket().close(ec);
    std::lock_guard<std::mutex> l(self->server_->mu);
    self->server_->open.erase(self);
  });
}

template <class Stream>
void Connection<Stream>::Shutdown() {
  asio::post(strand_, [self = this->shared_from_this()] {
    self->CloseWith(absl::UnavailableError("the server is shutting down"));
  });
}

template <class Stream>
void Connection<Stream>::ReadHead() {
  if (closed_ || closing_) return;
  if (next_seq_ - next_write_ >= static_cast<uint64_t>(server_->options.max_inflight_per_connection)) {
    reading_paused_ = true;
    return;
  }
  frame_.resize(server_->options.framing.min_head_bytes);
  asio::async_read(stream_, asio::buffer(frame_.data(), frame_.size()),
                   asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                    boost::system::error_code ec, size_t) {
                     if (ec) return self->Close();
                     self->OnHead();
                   }));
}

template <class Stream>
void Connection<Stream>::OnHead() {
  const FramedServerOptions& o = server_->options;
  absl::StatusOr<size_t> size = o.framing.frame_size(frame_);
  if (size.ok() && *size == 0) {  // one more header byte
    frame_.push_back('\0');
    asio::async_read(stream_, asio::buffer(frame_.data() + frame_.size() - 1, 1),
                     asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                      boost::system::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->OnHead();
                     }));
    return;
  }
  if (size.ok() && *size > static_cast<uint64_t>(o.max_frame_bytes))
    size = absl::ResourceExhaustedError(
        Cat("a frame of ", *size, " bytes (limit ", o.max_frame_bytes, ")"));
  if (size.ok() && (*size < frame_.size() || *size < o.framing.strip_bytes))
    size = absl::InvalidArgumentError(Cat("a frame of ", *size, " bytes is shorter than its head"));
  if (!size.ok()) return CloseWith(size.status());
  const size_t head = frame_.size();
  frame_.resize(*size);
  asio::async_read(
      stream_, asio::buffer(frame_.data() + head, *size - head),
      asio::bind_executor(strand_, [self = this->shared_from_this()](boost::system::error_code ec,
                                                                     size_t) {
        if (ec) return self->Close();
        if (self->closing_ || self->closed_) return;  // read before an answer asked to close
        self->last_frame_ = std::chrono::steady_clock::now();
        const uint64_t seq = self->next_seq_++;
        std::weak_ptr<Connection> weak = self;
        Strand strand = self->strand_;
        std::string frame = std::move(self->frame_);
        if (const size_t strip = self->server_->options.framing.strip_bytes; strip > 0)
          frame.erase(0, strip);
        self->server_->handler(std::move(frame), self->context_,
                               [weak, strand, seq](Answer answer) {
                                 std::shared_ptr<Connection> c = weak.lock();
                                 if (c == nullptr) return;
                                 asio::post(strand, [c, seq, answer = std::move(answer)]() mutable {
                                   c->OnAnswer(seq, std::move(answer));
                                 });
                               });
        self->ReadHead();
      }));
}

template <class Stream>
void Connection<Stream>::OnAnswer(uint64_t seq, Answer answer) {
  if (closed_ || closing_) return;  // nothing after the answer that closes the connection
  done_.emplace(seq, std::move(answer));
  for (auto it = done_.find(next_write_); it != done_.end(); it = done_.find(next_write_)) {
    Answer a = std::move(it->second);
    done_.erase(it);
    ++next_write_;
    if (a.response) out_.push_back(std::move(*a.response));
    if (a.idle_timeout_ms) {
      idle_timeout_ms_ = *a.idle_timeout_ms;
      ArmIdle();
    }
    if (a.close) {
      closing_ = true;
      close_delay_ms_ = a.close_delay_ms;
      break;
    }
  }
  Flush();
  MaybeResumeReading();
}

template <class Stream>
void Connection<Stream>::Flush() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (!closing_) return;
    if (close_delay_ms_ <= 0) return Close();
    timer_.expires_after(std::chrono::milliseconds(std::exchange(close_delay_ms_, 0)));
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code) { self->Close(); });
    return;
  }
  writing_ = true;
  asio::async_write(stream_, asio::buffer(out_.front()),
                    asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                     boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) return self->Close();
                      self->out_.pop_front();
                      self->Flush();
                    }));
}

template <class Stream>
void Connection<Stream>::ArmIdle() {
  if (closed_) return;
  if (idle_timeout_ms_ <= 0) {
    idle_timer_.cancel();
    return;
  }
  idle_timer_.expires_at(last_frame_ + std::chrono::milliseconds(idle_timeout_ms_));
  idle_timer_.async_wait([self = this->shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_ || self->closing_ || self->idle_timeout_ms_ <= 0) return;
    const auto deadline = self->last_frame_ + std::chrono::milliseconds(self->idle_timeout_ms_);
    if (std::chrono::steady_clock::now() < deadline) return self->ArmIdle();  // a frame came
    self->CloseWith(absl::DeadlineExceededError(
        Cat("no frame for ", self->idle_timeout_ms_, " ms (idle deadline)")));
  });
}

template <class Stream>
void Connection<Stream>::CloseWith(const absl::Status& why) {
  if (closed_ || closing_) return;
  const FramedServerOptions& o = server_->options;
  if (!absl::IsUnavailable(why))  // not the listener's own stop
    NOBUS_LOG_WARN_LIMITED("{}: closing connection from {}: {}", o.protocol, context_.peer,
                           std::string(why.message()));
  closing_ = true;
  if (o.last_words)
    if (std::optional<std::string> last = o.last_words(why, context_)) out_.push_back(std::move(*last));
  Flush();
}

template <class Stream>
void Connection<Stream>::Push(Answer answer) {
  if (closed_ || closing_) return;
  if (answer.response) out_.push_back(std::move(*answer.response));
  if (answer.close) {
    closing_ = true;
    close_delay_ms_ = answer.close_delay_ms;
  }
  Flush();
}

template <class Stream>
void Connection<Stream>::MaybeResumeReading() {
  if (!reading_paused_ || closing_) return;
  if (next_seq_ - next_write_ >= static_cast<uint64_t>(server_->options.max_inflight_per_connection))
    return;
  reading_paused_ = false;
  ReadHead();
}

template <class Stream>
void FramedServer::Impl::Open(Stream stream) {
  auto c = std::make_shared<Connection<Stream>>(std::move(stream), this);
  {
    std::lock_guard<std::mutex> l(mu);
    open.insert(c);
  }
  c->Start();
}

void FramedServer::Impl::Accept() {
  acceptor.async_accept(io, [this](boost::system::error_code ec, tcp::socket socket) {
    if (stopping.load() || !acceptor.is_open()) return;
    if (ec) {
      NOBUS_LOG_WARN_LIMITED("{}: accept failed: {}", options.protocol, ec.message());
    } else {
      if (tls) Open(TlsStream(std::move(socket), *tls));
      else Open(std::move(socket));
    }
    Accept();
  });
}

FramedServer::FramedServer(FramedServerOptions options, FrameHandler handler)
    : impl_(std::make_unique<Impl>(options, std::move(handler))) {}

FramedServer::~FramedServer() { Stop(); }

absl::StatusOr<int> FramedServer::Bind(const std::string& host, int port) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec)
    return absl::InvalidArgumentError(
        Cat(impl_->options.protocol, "_listen: '", host, "' is not an IP address"));
  tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        Cat("cannot listen for ", impl_->options.protocol, " clients on ", host, ":", port, ": ",
            ec.message()));
  return impl_->acceptor.local_endpoint().port();
}

void FramedServer::Serve() {
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->options.io_threads); ++i)
    impl_->threads.emplace_back([this] { impl_->io.run(); });
}

void FramedServer::Stop() {
  if (impl_->stopping.exchange(true)) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::set<std::shared_ptr<ConnectionBase>> open;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    open = impl_->open;
  }
  // Each connection gets its last words (MQTT: DISCONNECT 0x8B) and closes once they and the
  // answers before them are written; those that take longer than a second are cut.
  for (const auto& c : open) c->Shutdown();
  open.clear();
  for (int waited_ms = 0; waited_ms < 1000 && connections() > 0; waited_ms += 10)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    open = impl_->open;
  }
  for (const auto& c : open) c->Close();
  impl_->io.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  std::lock_guard<std::mutex> l(impl_->mu);
  impl_->open.clear();
}

bool FramedServer::tls() const { return impl_->tls.has_value(); }

int FramedServer::connections() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  return static_cast<int>(impl_->open.size());
}

}  // namespace nobus::net
