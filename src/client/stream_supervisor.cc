// StreamCore's supervisor thread: opens calls, watches their timeouts, ends them when the stream
// closes or the server asks, and decides after each call what comes next — reconnect at once,
// reconnect after a backoff, or fail the stream.
#include <algorithm>

#include "client/request_headers.h"
#include "client/status_util.h"
#include "client/stream_core.h"
#include "common/logging.h"
#include "nobus/errors.h"

namespace nobus::client {
namespace {

// Asks nobusd for commit_ack messages on a PersistentStream call (a nobus extension).
constexpr char kCommitAcksHeader[] = "x-nobus-commit-acks";
// After a half-close, how long the server gets to end the call before we cancel it.
constexpr std::chrono::milliseconds kHalfCloseGrace(500);

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

void StreamCore::Supervise() {
  Lock lock(mu_);
  while (true) {
    if (call_ != nullptr) {
      if (call_->done) {
        FinishCallLocked(lock);
        continue;
      }
      Clock::time_point wake = WatchCallLocked(lock);
      if (call_ != nullptr && !call_->done) supervisor_cv_.wait_until(lock, wake);
      continue;
    }
    if (shutdown_ || closed_ || !failure_.ok()) break;
    if (closing_ && queue_.size() == 0) {
      closed_ = true;
      progress_cv_.notify_all();
      break;
    }
    if (Clock::now() < next_attempt_at_) {
      supervisor_cv_.wait_until(lock, next_attempt_at_);
      continue;
    }
    StartCallLocked(lock);
  }
  // The supervisor stops only when the stream is closed, destroyed or failed.
  // A stream that never opened reports its failure through CreateStream only.
  if (!failure_.ok() && opened_once_ && options_.failure_callback) {
    absl::Status failure = failure_;
    lock.unlock();
    options_.failure_callback(failure);
  }
}

absl::StatusOr<Call::Headers> StreamCore::BuildHeaders() const {
  NOBUS_ASSIGN_OR_RETURN(Call::Headers headers,
                         BuildRequestHeaders(options_.headers_provider.get(), table_.table_name,
                                             sdk_id_));
  if (rpc_ == Rpc::kPersistent && options_.commit_acks)
    headers.emplace_back(kCommitAcksHeader, "true");
  return headers;
}

void StreamCore::StartCallLocked(Lock& lock) {
  uint64_t id = ++next_call_id_;
  lock.unlock();
  absl::StatusOr<Call::Headers> headers = BuildHeaders();
  std::shared_ptr<grpc::Channel> channel = headers.ok() ? channels_() : nullptr;
  lock.lock();
  if (shutdown_) return;
  if (!headers.ok()) {
    if (IsNonRetriable(headers.status())) {
      FailLocked(headers.status());
    } else {
      RetryOrFailLocked(headers.status(), false);
    }
    return;
  }
  auto owned = std::make_unique<Call>(this, id, rpc_, std::move(channel), *headers);
  Call* call = owned.get();
  if (rpc_ == Rpc::kPersistent) {
    resend_pending_ = queue_.StartCall(/*logical_offsets=*/true);  // counted once resumed
  } else {
    stats_.requests_resent += queue_.StartCall();
  }
  stats_.calls_started += 1;
  if (opened_once_) stats_.reconnects += 1;
  call->started = Clock::now();
  call->writing = true;  // the create_stream write
  call_ = std::move(owned);
  grpc::ByteBuffer first = FirstRequestLocked();
  lock.unlock();
  call->Start(std::move(first));
  lock.lock();
}

StreamCore::Clock::time_point StreamCore::WatchCallLocked(Lock& lock) {
  Call* call = call_.get();
  const Clock::time_point now = Clock::now();
  const Clock::time_point idle = now + std::chrono::hours(1);
  if (call->cancel_requested) return idle;  // OnDone will wake us
  if (shutdown_) {
    CancelLocked(lock, call, EndReason::kShutdown, absl::CancelledError("stream destroyed"));
    return idle;
  }
  const bool nothing_queued = queue_.size() == 0;
  if (closing_ && nothing_queued && !call->opened) {
    CancelLocked(lock, call, EndReason::kClosing, absl::OkStatus());
    return idle;
  }
  if (!call->opened) {
    Clock::time_point deadline =
        call->started + std::chrono::milliseconds(options_.recovery_timeout_ms);
    if (now < deadline) return deadline;
    CancelLocked(lock, call, EndReason::kCreateTimeout,
                 absl::DeadlineExceededError(
                     Cat("no create_stream_response within recovery_timeout_ms (",
                         options_.recovery_timeout_ms, ")")));
    return idle;
  }
  // Ending the call on purpose: half-close once nothing is left to wait for, then cancel if the
  // server does not end the call within the grace period.
  EndReason ending = EndReason::kNone;
  if (closing_ && nothing_queued) ending = EndReason::kClosing;
  if (call->paused && (queue_.messages_in_flight() == 0 || now >= call->pause_deadline))
    ending = EndReason::kCloseSignal;
  if (ending != EndReason::kNone) {
    EndCallGracefullyLocked(lock, call, ending);
    if (call->writes_done_sent) {
      Clock::time_point grace = call->writes_done_at + kHalfCloseGrace;
      if (Clock::now() < grace) return grace;
      CancelLocked(lock, call, ending, absl::OkStatus());
    }
    return idle;  // a write completion or OnDone wakes us
  }
  Clock::time_point wake = call->paused ? call->pause_deadline : idle;
  if (queue_.messages_in_flight() > 0) {
    Clock::time_point deadline = std::max(call->last_response, call->inflight_since) +
                                 std::chrono::milliseconds(options_.server_lack_of_ack_timeout_ms);
    if (now >= deadline) {
      CancelLocked(lock, call, EndReason::kAckTimeout,
                   absl::DeadlineExceededError(
                       Cat("no acknowledgement from the server within "
                           "server_lack_of_ack_timeout_ms (",
                           options_.server_lack_of_ack_timeout_ms, ") with ",
                           queue_.messages_in_flight(), " messages in flight")));
      return idle;
    }
    wake = std::min(wake, deadline);
  }
  return wake;
}

void StreamCore::FinishCallLocked(Lock& lock) {
  std::unique_ptr<Call> call = std::move(call_);
  const grpc::Status& status = call->final_status;
  const bool was_open = call->opened;
  const EndReason reason = call->reason;
  if (shutdown_) {
    // nothing to decide
  } else if (closing_ && queue_.size() == 0 &&
             (reason == EndReason::kClosing || was_open)) {
    closed_ = true;
    progress_cv_.notify_all();
  } else if (absl::Status fatal = PersistentEndLocked(status, *call); !fatal.ok()) {
    FailLocked(std::move(fatal));
  } else if (IsNonRetriableCode(static_cast<absl::StatusCode>(status.error_code())) &&
             reason != EndReason::kCreateTimeout && reason != EndReason::kAckTimeout &&
             reason != EndReason::kProtocolError) {
    FailLocked(MakeNonRetriable(FromGrpc(status)));
  } else if (reason == EndReason::kCloseSignal || call->paused) {
    NOBUS_LOG_INFO("nobus stream table={} stream_id={}: closed by the server; reconnecting with "
                   "{} requests to resend",
                   table_.table_name, stream_id_, queue_.size());
    next_attempt_at_ = Clock::now();  // a planned rotation, not a failure
  } else {
    absl::Status error = reason != EndReason::kNone ? call->reason_status : FromGrpc(status);
    if (error.ok())
      error = absl::UnavailableError("the server ended the stream without an error");
    NOBUS_LOG_WARN("nobus stream table={} stream_id={}: call ended ({}); {} requests "
                   "unacknowledged",
                   table_.table_name, stream_id_, Describe(error), queue_.size());
    RetryOrFailLocked(error, was_open);
  }
  lock.unlock();
  call.reset();
  lock.lock();
}

void StreamCore::RetryOrFailLocked(const absl::Status& error, bool was_open) {
  std::optional<std::chrono::milliseconds> delay = retry_.OnFailure(was_open);
  if (!delay) {
    absl::Status final_error =
        options_.recovery
            ? Annotate(error, Cat("recovery gave up after ", retry_.failures(),
                                  " failed attempts (recovery_retries = ",
                                  options_.recovery_retries, ")"))
            : Annotate(error, "stream failed and recovery is off");
    // Keep the kind retriable even when the code alone would look non-retriable (e.g. a
    // local timeout): the records are fine, only the connection was not.
    FailLocked(absl::Status(final_error.code(), final_error.message()));
    return;
  }
  next_attempt_at_ = Clock::now() + *delay;
}

void StreamCore::FailLocked(absl::Status status) {
  if (!failure_.ok()) return;
  failure_ = std::move(status);
  NOBUS_LOG_WARN("nobus stream table={} failed: {}; {} requests unacknowledged",
                 table_.table_name, Describe(failure_), queue_.size());
  progress_cv_.notify_all();
}

}  // namespace nobus::client
