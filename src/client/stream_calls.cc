// StreamCore: what happens on the current call — reactions (responses, write completions, the
// end of the call) and starting writes, half-closes and cancellations. gRPC operations are always
// started with the mutex released; a thread outside gRPC reactions brackets its operation with
// external_ops so the call's hold (and so OnDone) waits for it.
#include <algorithm>

#include "client/stream_core.h"
#include "common/logging.h"

namespace nobus::client {

void StreamCore::OnResponse(Call* call, const absl::Status& parsed, const ServerMessage& m) {
  Lock lock(mu_);
  Clock::time_point now = Clock::now();
  call->last_response = now;
  if (!parsed.ok()) {
    CancelLocked(lock, call, EndReason::kProtocolError, absl::InternalError(parsed.message()));
    return;
  }
  using Kind = ServerMessage::Kind;
  if (m.kind == Kind::kCreated || m.kind == Kind::kResumed) {
    if (call->opened) return;  // a repeated create response carries nothing new
    OnOpenedLocked(lock, call, m);
    return;
  }
  if (!call->opened) {
    CancelLocked(lock, call, EndReason::kProtocolError,
                 absl::InternalError("the server answered before create_stream_response"));
    return;
  }
  switch (m.kind) {
    case Kind::kAck:
      if (m.offset) HandleAckLocked(lock, call, *m.offset);
      return;
    case Kind::kCommitAck:
      HandleCommitAckLocked(m);
      return;
    case Kind::kCloseSignal: {
      int64_t wait_ms = std::min(m.duration_ms, options_.stream_paused_max_wait_time_ms);
      call->paused = true;
      call->pause_deadline = now + std::chrono::milliseconds(wait_ms);
      NOBUS_LOG_INFO("nobus stream table={} stream_id={}: server asked to close the stream; "
                     "waiting up to {} ms for {} in-flight messages, then reconnecting",
                     table_.table_name, stream_id_, wait_ms, queue_.messages_in_flight());
      supervisor_cv_.notify_all();
      return;
    }
    default:
      return;  // other payloads (newer protocol versions) are ignored
  }
}

void StreamCore::HandleAckLocked(Lock& lock, Call* call, int64_t physical_offset) {
  absl::StatusOr<AckResult> acked = queue_.Ack(physical_offset);
  if (!acked.ok()) {
    CancelLocked(lock, call, EndReason::kProtocolError, acked.status());
    return;
  }
  DeliverAckLocked(lock, call, *acked);
}

void StreamCore::DeliverAckLocked(Lock& lock, Call* call, const AckResult& acked) {
  if (acked.requests == 0) return;
  retry_.OnProgress();
  stats_.requests_durable += acked.requests;
  stats_.records_durable += acked.records;
  progress_cv_.notify_all();
  if (call->paused || closing_) supervisor_cv_.notify_all();
  if (!options_.ack_callback) return;
  AckEvent event{acked.durable_offset, acked.requests, acked.records, Clock::now()};
  lock.unlock();
  // Acks of one call arrive one read at a time and calls never overlap, so callbacks are
  // serialized and in offset order.
  options_.ack_callback(event);
  lock.lock();
}

bool StreamCore::PrepareWriteLocked(Call* call) {
  if (call->retired || !call->opened || call->paused || call->writes_done_sent ||
      call->cancel_requested)
    return false;
  bool idle = queue_.messages_in_flight() == 0;
  // A persistent stream's wire message is exactly one request: offsets name requests.
  if (!queue_.TakeNext(options_.coalesce_records && rpc_ == Rpc::kEphemeral,
                       static_cast<uint64_t>(options_.max_wire_message_bytes), &wire_))
    return false;
  if (idle) {
    call->inflight_since = Clock::now();
    supervisor_cv_.notify_all();  // the ack timeout starts now
  }
  call->write_buffer = FrameRequest(wire_, table_.format, rpc_);
  call->writing = true;
  stats_.wire_messages_sent += 1;
  return true;
}

void StreamCore::KickWriterLocked(Lock& lock) {
  Call* call = call_.get();
  if (call == nullptr || call->writing || !PrepareWriteLocked(call)) return;
  ++call->external_ops;
  lock.unlock();
  call->IssueWrite();
  lock.lock();
  EndExternalOpLocked(lock, call);
}

bool StreamCore::NextWrite(Call* call) {
  Lock lock(mu_);
  call->writing = false;
  if (PrepareWriteLocked(call)) return true;
  if (closing_ || call->paused) supervisor_cv_.notify_all();
  return false;
}

void StreamCore::OnWriteFailed(Call* call) {
  Lock lock(mu_);
  call->writing = false;
  supervisor_cv_.notify_all();
}

void StreamCore::OnReadFailed(Call* call) {
  Lock lock(mu_);
  call->retired = true;
  supervisor_cv_.notify_all();
  MaybeReleaseHoldLocked(lock, call);
}

void StreamCore::EndExternalOpLocked(Lock& lock, Call* call) {
  --call->external_ops;
  MaybeReleaseHoldLocked(lock, call);
}

// Once the hold is gone OnDone may run and the supervisor delete the call: callers outside the
// supervisor must not use `call` after this.
void StreamCore::MaybeReleaseHoldLocked(Lock& lock, Call* call) {
  if (!call->retired || call->external_ops > 0 || call->hold_released) return;
  call->hold_released = true;
  lock.unlock();
  call->ReleaseHold();
  lock.lock();
}

void StreamCore::OnCallDone(Call* call, const grpc::Status& status) {
  Lock lock(mu_);
  call->done = true;
  call->final_status = status;
  supervisor_cv_.notify_all();
}

void StreamCore::CancelLocked(Lock& lock, Call* call, EndReason reason, absl::Status why) {
  if (call->cancel_requested) return;
  call->cancel_requested = true;
  if (call->reason == EndReason::kNone) {
    call->reason = reason;
    call->reason_status = std::move(why);
  }
  lock.unlock();
  call->Cancel();
  lock.lock();
}

void StreamCore::EndCallGracefullyLocked(Lock& lock, Call* call, EndReason reason) {
  if (call->writes_done_sent || call->writing || call->retired || call->cancel_requested) return;
  call->writes_done_sent = true;
  call->writes_done_at = Clock::now();
  if (call->reason == EndReason::kNone) call->reason = reason;
  ++call->external_ops;
  lock.unlock();
  call->IssueWritesDone();
  lock.lock();
  EndExternalOpLocked(lock, call);
}

}  // namespace nobus::client
