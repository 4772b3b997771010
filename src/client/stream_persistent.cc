// StreamCore: what differs between the two RPCs — each call's first request, opening a call
// (create, or resume: the server's durable offset reconciles the queue), commit acks and
// WaitForCommit, and which endings of a persistent stream's call forbid a reconnect.
#include <algorithm>

#include "client/status_util.h"
#include "client/stream_core.h"
#include "common/logging.h"
#include "nobus/errors.h"

namespace nobus::client {

grpc::ByteBuffer StreamCore::FirstRequestLocked() const {
  if (rpc_ == Rpc::kEphemeral) return CreateStreamRequest(table_);
  return PersistentFirstRequest(table_, stream_id_);  // empty id: create
}

void StreamCore::OnOpenedLocked(Lock& lock, Call* call, const ServerMessage& m) {
  const bool resumed = m.kind == ServerMessage::Kind::kResumed;
  const bool resuming = rpc_ == Rpc::kPersistent && !stream_id_.empty();
  if (resumed != resuming || (rpc_ == Rpc::kPersistent && !resumed && m.stream_id.empty())) {
    CancelLocked(lock, call, EndReason::kProtocolError,
                 absl::InternalError(Cat("the server answered ",
                                         resuming ? "resume_stream" : "create_stream", " with ",
                                         resumed ? "resume_stream_response"
                                                 : "create_stream_response",
                                         m.stream_id.empty() ? " without a stream id" : "")));
    return;
  }
  AckResult reconciled;
  if (resumed) {
    const int64_t durable = m.offset.value_or(-1);
    absl::StatusOr<AckResult> r = queue_.Resume(durable, /*adopt=*/!opened_once_);
    if (!r.ok()) {
      FailLocked(MakeNonRetriable(
          Annotate(r.status(), Cat("resuming persistent stream '", stream_id_, "'"))));
      CancelLocked(lock, call, EndReason::kProtocolError, r.status());
      return;
    }
    reconciled = *r;
    if (!opened_once_) resume_watermark_ = durable;
    stats_.requests_resent += std::max<int64_t>(0, resend_pending_ - reconciled.requests);
    resend_pending_ = 0;
  } else {
    stream_id_ = m.stream_id;
  }
  call->opened = true;
  opened_once_ = true;
  if (queue_.size() == 0) retry_.OnProgress();
  NOBUS_LOG_DEBUG("nobus stream opened table={} stream_id={} resumed={} durable={} resending={}",
                  table_.table_name, stream_id_, resumed, queue_.durable_offset(), queue_.size());
  progress_cv_.notify_all();
  DeliverAckLocked(lock, call, reconciled);  // what the server had durable counts as acked
  KickWriterLocked(lock);
}

void StreamCore::HandleCommitAckLocked(const ServerMessage& m) {
  if (!m.offset || *m.offset <= committed_offset_) return;
  committed_offset_ = *m.offset;
  table_version_ = m.table_version;
  progress_cv_.notify_all();
}

absl::Status StreamCore::PersistentEndLocked(const grpc::Status& status, const Call& call) const {
  if (rpc_ != Rpc::kPersistent) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  // ABORTED: another call resumed this stream (or it was retired while open): reconnecting
  // would fence that producer in turn. A refused resume (retired, expired, too many live
  // streams) stays refused.
  if (code == absl::StatusCode::kAborted ||
      (code == absl::StatusCode::kFailedPrecondition && !call.opened)) {
    return MakeNonRetriable(absl::Status(code, status.error_message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> StreamCore::WaitForCommit(int64_t offset) {
  Lock lock(mu_);
  if (rpc_ != Rpc::kPersistent || !options_.commit_acks)
    return MakeNonRetriable(absl::FailedPreconditionError(
        "WaitForCommit needs a persistent stream opened with StreamOptions::commit_acks = true"));
  if (offset < 0 || offset >= queue_.next_offset()) {
    return MakeNonRetriable(absl::InvalidArgumentError(
        Cat("offset ", offset, " was not handed out by this stream (next offset is ",
            queue_.next_offset(), ")")));
  }
  const Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(options_.flush_timeout_ms);
  while (committed_offset_ < offset) {
    if (!failure_.ok()) return failure_;
    if (closed_ || shutdown_)
      return MakeNonRetriable(absl::FailedPreconditionError(
          Cat("stream closed before the server reported offset ", offset,
              " committed (committed up to ", committed_offset_,
              "); call WaitForCommit before Close")));
    if (progress_cv_.wait_until(lock, deadline) == std::cv_status::timeout &&
        committed_offset_ < offset) {
      return absl::DeadlineExceededError(
          Cat("offset ", offset, " not reported committed within flush_timeout_ms (",
              options_.flush_timeout_ms, "); committed up to ", committed_offset_,
              ", durable up to ", queue_.durable_offset()));
    }
  }
  return table_version_;
}

int64_t StreamCore::resume_watermark() const {
  Lock lock(mu_);
  return resume_watermark_;
}

}  // namespace nobus::client
