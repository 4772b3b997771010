#include "http/connection.h"

#include <strings.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "common/logging.h"
#include "http/to_request.h"

namespace nobus::http {
namespace bhttp = beast::http;
namespace {

bool IsParseError(const beast::error_code& ec) {
  return &ec.category() == &bhttp::make_error_code(bhttp::error::bad_target).category();
}

// Beast 1.74 speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

template <class Stream>
Connection<Stream>::Connection(Server::Core* core, Stream stream, std::string addr, int port,
                               bool counted)
    : core_(core),
      stream_(std::move(stream)),
      timer_(stream_.get_executor()),
      addr_(std::move(addr)),
      port_(port),
      counted_(counted) {}

template <class Stream>
Connection<Stream>::~Connection() {
  if (counted_) core_->Release(addr_);
}

template <class Stream>
void Connection<Stream>::Start(std::optional<Response> refusal) {
  auto serve = [self = this->shared_from_this(), refusal = std::move(refusal)]() mutable {
    if (refusal) {
      refusal->close = true;
      self->Write(std::move(*refusal), /*counted=*/false);
    } else {
      self->WaitForRequest();
    }
  };
  if constexpr (kTls) {
    Arm(Phase::kHandshake, core_->options.header_timeout_ms);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = this->shared_from_this(), serve = std::move(serve)](
                                beast::error_code ec) mutable {
                              if (self->phase_ == Phase::kClosed) return;
                              if (ec) return self->Close();
                              serve();
                            });
  } else {
    asio::post(stream_.get_executor(), std::move(serve));
  }
}

template <class Stream>
void Connection<Stream>::Arm(Phase phase, int64_t ms) {
  phase_ = phase;
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait([self = this->shared_from_this(), generation = ++deadline_generation_](
                        beast::error_code ec) {
    if (!ec && generation == self->deadline_generation_) self->OnDeadline();
  });
}

template <class Stream>
void Connection<Stream>::OnDeadline() {
  switch (phase_) {
    case Phase::kHeader:
    case Phase::kBody: {
      // Nothing of this request yet on a keep-alive TLS connection (no idle phase there): idle.
      bool idle = phase_ == Phase::kHeader && !first_request_ && buffer_.size() == 0 &&
                  !parser_->got_some();
      if (idle) {
        core_->CountClosed(CloseReason::kIdleTimeout);
        return Close();
      }
      // Cancel the read; its handler answers 408.
      timed_out_ = true;
      beast::error_code ignored;
      Socket().cancel(ignored);
      return;
    }
    case Phase::kIdle:
      core_->CountClosed(CloseReason::kIdleTimeout);
      return Close();
    case Phase::kHandshake:
      core_->CountClosed(CloseReason::kHeaderTimeout);
      return Close();
    case Phase::kWrite:
      core_->CountClosed(CloseReason::kWriteTimeout);
      return Close();
    case Phase::kHandler:
    case Phase::kClosed:
      return;
  }
}

template <class Stream>
void Connection<Stream>::WaitForRequest() {
  const ServerOptions& o = core_->options;
  if (first_request_ || buffer_.size() > 0) return ReadHeader(o.header_timeout_ms);
  if constexpr (kTls) {
    // Decrypted bytes may wait inside the TLS layer where the socket cannot show them: read
    // straight away, under the idle deadline (OnDeadline tells idle from slow).
    ReadHeader(o.idle_timeout_ms);
  } else {
    Arm(Phase::kIdle, o.idle_timeout_ms);
    Socket().async_wait(tcp::socket::wait_read,
                        [self = this->shared_from_this()](beast::error_code ec) {
                          if (self->phase_ != Phase::kIdle) return;
                          if (ec) return self->Close();
                          self->ReadHeader(self->core_->options.header_timeout_ms);
                        });
  }
}

template <class Stream>
void Connection<Stream>::ReadHeader(int64_t deadline_ms) {
  const ServerOptions& o = core_->options;
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(o.max_header_bytes));
  parser_->body_limit(static_cast<uint64_t>(o.max_body_bytes));
  Arm(Phase::kHeader, deadline_ms);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           [self = this->shared_from_this()](beast::error_code ec, size_t) {
                             self->OnHeader(ec);
                           });
}

template <class Stream>
bool Connection<Stream>::OnReadError(beast::error_code ec, bool header) {
  if (phase_ == Phase::kClosed) return true;
  const ServerOptions& o = core_->options;
  if (timed_out_) {
    if (header)
      Fail(CloseReason::kHeaderTimeout, 408, "REQUEST_TIMEOUT",
           Cat("the request header did not arrive within http_header_timeout_ms (",
               o.header_timeout_ms, " ms)"));
    else
      Fail(CloseReason::kBodyTimeout, 408, "REQUEST_TIMEOUT",
           Cat("the request body did not arrive within http_body_timeout_ms (", o.body_timeout_ms,
               " ms) of its header"));
    return true;
  }
  if (!ec) return false;
  if (ec == bhttp::error::header_limit) {
    Fail(CloseReason::kHeaderTooLarge, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE",
         Cat("request header larger than http_max_header_bytes (", o.max_header_bytes, ")"));
  } else if (ec == bhttp::error::body_limit) {
    Fail(CloseReason::kBodyTooLarge, 413, "REQUEST_LIMIT_EXCEEDED",
         Cat("request body larger than ", o.body_limit_name, " (", o.max_body_bytes,
             "): send fewer rows"));
  } else if (IsParseError(ec) && ec != bhttp::error::end_of_stream &&
             ec != bhttp::error::partial_message) {
    Fail(CloseReason::kBadRequest, 400, "MALFORMED_REQUEST",
         Cat("malformed HTTP/1.1 request: ", ec.message()));
  } else {
    Close();  // the client went away
  }
  return true;
}

template <class Stream>
void Connection<Stream>::OnHeader(beast::error_code ec) {
  if (OnReadError(ec, /*header=*/true)) return;
  first_request_ = false;
  const auto& header = parser_->get();
  auto expect = header.find(bhttp::field::expect);
  if (expect != header.end() && !parser_->is_done()) {
    if (strncasecmp(expect->value().data(), "100-continue", expect->value().size()) != 0 ||
        expect->value().size() != 12)
      return Fail(CloseReason::kBadRequest, 417, "EXPECTATION_FAILED",
                  "only 'Expect: 100-continue' is supported");
    // Ask for the body only once the header passed (no 100 for a body that is too large).
    auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                     header.version());
    Arm(Phase::kBody, core_->options.body_timeout_ms);
    bhttp::async_write(stream_, *cont,
                       [self = this->shared_from_this(), cont](beast::error_code ec, size_t) {
                         if (self->phase_ == Phase::kClosed) return;
                         if (ec) return self->Close();
                         self->ReadBody();
                       });
    return;
  }
  ReadBody();
}

template <class Stream>
void Connection<Stream>::ReadBody() {
  if (parser_->is_done()) return Dispatch();
  Arm(Phase::kBody, core_->options.body_timeout_ms);
  bhttp::async_read(stream_, buffer_, *parser_,
                    [self = this->shared_from_this()](beast::error_code ec, size_t) {
                      self->OnBody(ec);
                    });
}

template <class Stream>
void Connection<Stream>::OnBody(beast::error_code ec) {
  if (OnReadError(ec, /*header=*/false)) return;
  Dispatch();
}

template <class Stream>
void Connection<Stream>::Dispatch() {
  phase_ = Phase::kHandler;
  timer_.cancel();
  bhttp::request<bhttp::string_body> msg = parser_->release();
  parser_.reset();
  version_ = msg.version();
  keep_alive_ = msg.keep_alive();
  Request req;
  absl::Status target = ToRequest(msg, &req);
  path_ = target.ok() ? req.path : std::string(Sv(msg.target()));
  if (!target.ok())
    return Write(ErrorResponse(400, "MALFORMED_REQUEST", std::string(target.message())),
                 /*counted=*/false);
  const Router::Route* route = nullptr;
  std::string allowed;
  switch (core_->router->Find(req.method, req.path, &route, &req.params, &allowed)) {
    case Router::Found::kNoPath:
      return Write(ErrorResponse(404, "ENDPOINT_NOT_FOUND",
                                 Cat("no such endpoint: ", req.method, " ", req.path,
                                     " (see doc/server.md)")),
                   /*counted=*/false);
    case Router::Found::kWrongMethod: {
      Response res = ErrorResponse(405, "METHOD_NOT_ALLOWED",
                                   Cat(req.path, " takes ", allowed, ", not ", req.method));
      res.SetHeader("Allow", allowed);
      return Write(std::move(res), /*counted=*/false);
    }
    case Router::Found::kRoute:
      break;
  }
  if (!core_->BeginRequest())
    return Write(ErrorResponse(503, "TEMPORARILY_UNAVAILABLE",
                               "the server is shutting down: retry against another node or after "
                               "it restarts"),
                 /*counted=*/false);
  req.remote_addr = addr_;
  req.remote_port = port_;
  Reply reply([self = this->shared_from_this()](Response res) {
    asio::post(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
      self->Write(std::move(res), /*counted=*/true);
    });
  });
  auto run = [route, req = std::move(req), reply = std::move(reply)]() mutable {
    try {
      route->handler(std::move(req), std::move(reply));
    } catch (const std::exception& e) {
      NOBUS_LOG_WARN_LIMITED("HTTP handler threw: {}", e.what());
    }
  };
  if (route->runs == Runs::kWorker) asio::post(core_->workers, std::move(run));
  else run();
}

template <class Stream>
void Connection<Stream>::Write(Response res, bool counted) {
  if (phase_ == Phase::kClosed) {
    if (counted) core_->EndRequest();
    return;
  }
  const bool close = res.close || !keep_alive_ || core_->stopping.load();
  out_ = {};
  out_.version(version_);
  out_.result(static_cast<unsigned>(res.status));
  out_.set(bhttp::field::server, "nobus");
  out_.set(bhttp::field::content_type, res.content_type);
  for (auto& [name, value] : res.headers) out_.insert(name, value);
  out_.keep_alive(!close);
  out_.body() = std::move(res.body);
  out_.prepare_payload();
  if (core_->options.on_response) core_->options.on_response(path_, res.status);
  Arm(Phase::kWrite, core_->options.body_timeout_ms);
  bhttp::async_write(stream_, out_,
                     [self = this->shared_from_this(), close, counted](beast::error_code ec,
                                                                      size_t) {
                       self->OnWritten(close, counted, ec);
                     });
}

template <class Stream>
void Connection<Stream>::OnWritten(bool close, bool counted, beast::error_code ec) {
  if (counted) core_->EndRequest();
  if (phase_ == Phase::kClosed) return;
  timer_.cancel();
  if (ec || close) return Close();
  WaitForRequest();
}

template <class Stream>
void Connection<Stream>::Fail(CloseReason reason, int status, const char* code,
                              std::string message) {
  core_->CountClosed(reason);
  timed_out_ = false;
  Response res = ErrorResponse(status, code, message);
  res.close = true;
  Write(std::move(res), /*counted=*/false);
}

template <class Stream>
void Connection<Stream>::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  timer_.cancel();
  beast::error_code ignored;
  Socket().shutdown(tcp::socket::shutdown_both, ignored);
  Socket().close(ignored);
}

template class Connection<PlainStream>;
template class Connection<TlsStream>;

}  // namespace nobus::http
