#include "server/stream_core.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/status.h"

namespace nobus::server {

StreamCore::StreamCore(StreamOps* ops, int64_t max_inflight_bytes)
    : ops_(ops), max_inflight_bytes_(max_inflight_bytes) {}

void StreamCore::Start() { Pump(); }

void StreamCore::ReadArrived() {
  std::lock_guard<std::mutex> lock(mu_);
  read_pending_ = false;
  read_processing_ = true;
}

void StreamCore::ReadProcessed(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    read_processing_ = false;
    if (!ok) half_closed_ = true;
  }
  idle_.notify_all();
  Pump();
}

void StreamCore::OnWriteDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    write_in_flight_ = false;
    if (!ok) broken_ = true;
  }
  Pump();
}

void StreamCore::OnCancel() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
  }
  Pump();
}

void StreamCore::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  detached_ = true;
  ops_ = nullptr;
  idle_.notify_all();
}

void StreamCore::Send(StreamMessage message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    outbox_.push_back(std::move(message));
  }
  Pump();
}

void StreamCore::MarkOpened() {
  std::lock_guard<std::mutex> lock(mu_);
  opened_ = true;
}

void StreamCore::StartAt(int64_t durable) {
  std::lock_guard<std::mutex> lock(mu_);
  durable_up_to_ = start_durable_ = durable;
}

void StreamCore::Duplicate(int64_t offset) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    max_received_ = std::max(max_received_, offset);
    resent_ = true;
    if (offset <= ack_sent_) reack_ = true;
  }
  Pump();
}

void StreamCore::EnableCommitAcks() {
  std::lock_guard<std::mutex> lock(mu_);
  commit_acks_ = true;
}

void StreamCore::Committed(int64_t offset, int64_t version) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!commit_acks_ || offset <= committed_up_to_) return;
    committed_up_to_ = offset;
    committed_version_ = version;
  }
  Pump();
}

bool StreamCore::WaitIdle(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    // Every append this call made is durable or failed, whether or not the call is still live:
    // a call that ended (a reset, a fence) may still have appends in flight, and the durable
    // mark read after this wait must cover them.
    return inflight_requests_ == 0 && (detached_ || finish_started_ || !read_processing_);
  });
}

bool StreamCore::has_inflight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return inflight_requests_ > 0;
}

void StreamCore::BeginRequest(int64_t offset, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  ++inflight_requests_;
  inflight_bytes_ += bytes;
  max_received_ = std::max(max_received_, offset);
}

void StreamCore::AbortRequest(int64_t offset, int64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --inflight_requests_;
    inflight_bytes_ -= bytes;
  }
  idle_.notify_all();
  Pump();
}

void StreamCore::AwaitAdmission(int64_t offset) {
  std::lock_guard<std::mutex> lock(mu_);
  awaiting_admission_ = std::max(awaiting_admission_, offset);
}

void StreamCore::Admitted(int64_t offset) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    admitted_through_ = std::max(admitted_through_, offset);
  }
  Pump();
}

void StreamCore::CompleteRequest(int64_t offset, int64_t bytes, const absl::Status& durable) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --inflight_requests_;
    inflight_bytes_ -= bytes;
    if (!durable.ok()) {
      FailLocked(
          grpc::Status(grpc::StatusCode::UNAVAILABLE,
                       Cat("the request at offset ", offset, " could not be made durable (",
                           durable.message(), "); reconnect and resend unacknowledged records")));
    } else if (offset == durable_up_to_ + 1) {
      durable_up_to_ = offset;
      while (durable_out_of_order_.erase(durable_up_to_ + 1) > 0) ++durable_up_to_;
    } else if (offset > durable_up_to_) {
      durable_out_of_order_.insert(offset);
    }
  }
  idle_.notify_all();
  Pump();
}

void StreamCore::FailLocked(grpc::Status status) {
  if (!final_) final_ = std::move(status);
}

void StreamCore::Fail(grpc::Status status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    FailLocked(std::move(status));
  }
  Pump();
}

void StreamCore::Close(int64_t signal_duration_ms) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (final_ || finish_started_ || broken_) return;
    if (opened_ && !close_signal_sent_) {
      close_signal_sent_ = true;
      outbox_.push_back(
          StreamMessage{.kind = StreamMessage::Kind::kClose, .duration_ms = signal_duration_ms});
    }
    FailLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server closed this stream (shutdown or rebalancing): reconnect "
                            "and resend unacknowledged records"));
  }
  Pump();
}

bool StreamCore::accepting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !final_ && !broken_ && !finish_started_;
}

int64_t StreamCore::acked_up_to() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ack_sent_;
}

std::optional<grpc::Status> StreamCore::finish_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finish_status_;
}

bool StreamCore::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return finish_started_;
}

std::optional<grpc::Status> StreamCore::FinishDueLocked() const {
  if (ops_starting_ > 0 || write_in_flight_ || read_processing_) return std::nullopt;
  if (broken_) return grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled");
  if (!final_ && !half_closed_) return std::nullopt;
  if (inflight_requests_ > 0 || !outbox_.empty()) return std::nullopt;
  // Acks still owed for durable requests (not owed past a durability failure: final_ is set and
  // durable_up_to_ no longer advances).
  if (AckDueLocked() > ack_sent_ || reack_) return std::nullopt;
  if (final_) return *final_;
  return grpc::Status::OK;
}

StreamCore::Actions StreamCore::DecideLocked() {
  Actions a;
  if (finish_started_ || detached_ || ops_ == nullptr) return a;
  if (!broken_ && !write_in_flight_) {
    if (!outbox_.empty()) {
      write_buffer_ = std::move(outbox_.front());
      outbox_.pop_front();
      a.write = &write_buffer_;
    } else if (AckDueLocked() > ack_sent_ || reack_) {
      ack_sent_ = std::max(ack_sent_, AckDueLocked());
      reack_ = false;
      write_buffer_ = StreamMessage{.kind = StreamMessage::Kind::kAck, .offset = ack_sent_};
      a.write = &write_buffer_;
    } else if (committed_up_to_ > commit_sent_ && opened_ && !final_) {
      commit_sent_ = committed_up_to_;
      write_buffer_ = StreamMessage{.kind = StreamMessage::Kind::kCommitted,
                                    .offset = commit_sent_,
                                    .table_version = committed_version_};
      a.write = &write_buffer_;
    }
    if (a.write != nullptr) write_in_flight_ = true;
  }
  bool may_read = !broken_ && !final_ && !half_closed_ && !read_pending_ && !read_processing_ &&
                  awaiting_admission_ <= admitted_through_ &&
                  (inflight_requests_ == 0 || inflight_bytes_ < max_inflight_bytes_);
  if (may_read) {
    read_pending_ = true;
    a.read = true;
  }
  if (!a.any()) {
    a.finish = FinishDueLocked();
    if (a.finish) {
      finish_started_ = true;
      finish_status_ = a.finish;
    }
  }
  if (a.any()) ++ops_starting_;
  return a;
}

void StreamCore::Pump() {
  for (;;) {
    Actions a;
    StreamOps* ops;
    {
      std::lock_guard<std::mutex> lock(mu_);
      a = DecideLocked();
      ops = ops_;
    }
    if (!a.any()) return;
    if (a.write != nullptr) ops->IssueWrite(*a.write);
    if (a.read) ops->IssueRead();
    if (a.finish) {
      // After Finish the reactor may be destroyed at any time: touch only this object.
      ops->IssueFinish(*a.finish);
      std::lock_guard<std::mutex> lock(mu_);
      --ops_starting_;
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    --ops_starting_;
  }
}

}  // namespace nobus::server
