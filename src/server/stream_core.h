// The concurrency core of one gRPC ingest stream (an EphemeralStream or PersistentStream call):
// which gRPC operation may
// start now, cumulative acks, in-flight accounting and when the call ends. In the data path:
// StreamSession reads a request, registers it here (BeginRequest) and hands its rows to the WAL;
// the WAL's durable callback calls CompleteRequest, which advances the durable offset and sends
// the coalesced ack `durability_ack_up_to_offset` when no other write is outstanding.
//
// gRPC's callback API allows one outstanding read and one outstanding write per call, and the
// reactor object is destroyed after OnDone. StreamCore is shared (shared_ptr) by the reactor, the
// service's stream registry and every pending durable callback, so callbacks that fire after the
// call ended touch only this object. It issues operations through StreamOps, never while holding
// its lock, and never after Finish: Finish is issued only when no other operation is being
// started, no write is outstanding and no read is being processed, so the reactor is alive
// whenever an operation is issued.
//
// Ending: a failure (Fail) or a close (Close) stops reading; the call ends with that status once
// every in-flight request has completed and the acks are sent. Client half-close ends with OK the
// same way. Cancellation or a failed write ends at once (nothing can be sent any more).
//
// Persistent streams (doc/exactly-once.md): StartAt(W) makes offsets continue after the durable
// offset W of earlier connections, and Duplicate(offset) acknowledges a resent request without
// writing it. An ack never names an offset above the highest one this call received, so a resend
// of old offsets is acked up to what it resent; a resend the last ack already covers is answered
// by repeating that ack (every request gets an answer).
//
// Thread-safety: every method is thread-safe. ReadArrived/ReadProcessed bracket the handling of
// one read and are called by the reactor's read reaction only.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "common/status.h"
#include "grpcpp/support/status.h"

namespace nobus::server {

// One message to the client, in a form both RPCs share; each reactor writes it as its own
// response message (stream_session.h).
struct StreamMessage {
  enum class Kind { kCreated, kResumed, kAck, kClose, kCommitted };
  Kind kind = Kind::kAck;
  std::string stream_id;          // kCreated
  // kAck, kCommitted; kResumed: the durable offset (absent: none yet)
  std::optional<int64_t> offset;
  int64_t duration_ms = 0;        // kClose
  int64_t table_version = 0;      // kCommitted
};

// The three operations of a server bidi reactor (implemented by the reactors; faked in tests).
// IssueWrite's message stays valid until OnWriteDone.
class StreamOps {
 public:
  virtual ~StreamOps() = default;
  virtual void IssueRead() = 0;
  virtual void IssueWrite(const StreamMessage& message) = 0;
  virtual void IssueFinish(grpc::Status status) = 0;
};

class StreamCore {
 public:
  // Borrows `ops` until Detach. Reading pauses while more than `max_inflight_bytes` of requests
  // are not yet durable (one request is always let in).
  StreamCore(StreamOps* ops, int64_t max_inflight_bytes);

  // Reactor events.
  void Start();  // issues the first read
  void ReadArrived();
  void ReadProcessed(bool ok);  // ok = false: the client half-closed (or the call broke)
  void OnWriteDone(bool ok);
  void OnCancel();
  void Detach();  // OnDone: the reactor is gone

  // Queues a message (the create or resume response) ahead of later acks.
  void Send(StreamMessage message);
  void MarkOpened();
  // Persistent streams: `durable` (-1: none) of the stream is durable from earlier connections;
  // this call's offsets continue after it. Call before the first request.
  void StartAt(int64_t durable);
  // A resent request at `offset` (below the next expected one): acknowledged, not written.
  void Duplicate(int64_t offset);
  // Commit acks (persistent streams, opt-in): once enabled, Committed sends
  // commit_ack{offset, version} after the durability acks due (coalesced, monotonic).
  void EnableCommitAcks();
  void Committed(int64_t offset, int64_t version);
  // Waits until no request is in flight (every append of this call completed: durable or
  // failed) and no read is being handled (or the call finished or detached); false after
  // `timeout_ms`. For a fenced stream: its durable offset is final once this returns true.
  bool WaitIdle(int64_t timeout_ms);
  // Appends begun and not yet durable or failed.
  bool has_inflight() const;
  // Request `offset` (the next offset; offsets are contiguous from 0) of `bytes` is handed to the
  // WAL. Call before the append so a fast callback finds it registered.
  void BeginRequest(int64_t offset, int64_t bytes);
  // The append was refused: forget the request (the caller then usually calls Fail).
  void AbortRequest(int64_t offset, int64_t bytes);
  // Request `offset` waits in the node's admission queue (IngestService::AppendOrQueue): no
  // further read until Admitted(offset), which may come first (from the admission thread).
  void AwaitAdmission(int64_t offset);
  void Admitted(int64_t offset);
  // The durable callback of `offset`: OK = durable (ack it once all lower offsets are); an error
  // ends the call with UNAVAILABLE (the client retries and resends what was not acked).
  void CompleteRequest(int64_t offset, int64_t bytes, const absl::Status& durable);

  // Ends the call with `status` after in-flight acks; the first failure wins.
  void Fail(grpc::Status status);
  // Server-initiated close: close_stream_signal{duration} (if the stream was opened), then
  // UNAVAILABLE after in-flight acks. No-op if the call is already ending.
  void Close(int64_t signal_duration_ms);

  // Whether requests should still be processed (no failure, close or cancel yet).
  bool accepting() const;
  // Highest offset acked so far (-1: none), and the status the call ended with (once finished).
  int64_t acked_up_to() const;
  std::optional<grpc::Status> finish_status() const;
  bool finished() const;

 private:
  struct Actions {
    const StreamMessage* write = nullptr;
    bool read = false;
    std::optional<grpc::Status> finish;
    bool any() const { return write != nullptr || read || finish.has_value(); }
  };
  // Issues every operation that is due, outside the lock.
  void Pump();
  Actions DecideLocked();
  std::optional<grpc::Status> FinishDueLocked() const;
  // The ack the client may be sent now: durable, no higher than what it sent, and (unless it
  // resent old offsets) above the durable offset the call started at.
  int64_t AckDueLocked() const {
    const int64_t ack = std::min(durable_up_to_, max_received_);
    return ack > start_durable_ || resent_ ? ack : -1;
  }
  void FailLocked(grpc::Status status);

  mutable std::mutex mu_;
  StreamOps* ops_;
  const int64_t max_inflight_bytes_;
  int ops_starting_ = 0;  // operations decided but not yet issued
  bool opened_ = false;
  bool read_pending_ = false;     // StartRead issued, not yet completed
  bool read_processing_ = false;  // the reactor is handling a read
  bool write_in_flight_ = false;
  bool half_closed_ = false;
  bool broken_ = false;  // cancelled, or a write failed
  bool close_signal_sent_ = false;
  bool finish_started_ = false;
  bool detached_ = false;
  std::optional<grpc::Status> final_;
  std::optional<grpc::Status> finish_status_;
  std::condition_variable idle_;  // read_processing_ or inflight_requests_ dropped, or detached
  std::deque<StreamMessage> outbox_;
  StreamMessage write_buffer_;
  int64_t inflight_requests_ = 0;
  int64_t inflight_bytes_ = 0;
  int64_t durable_up_to_ = -1;
  int64_t max_received_ = -1;  // highest offset this call received (new or resent)
  // Reads pause while awaiting_admission_ > admitted_through_ (offsets only grow).
  int64_t awaiting_admission_ = -1, admitted_through_ = -1;
  int64_t start_durable_ = -1;  // StartAt
  bool commit_acks_ = false;
  int64_t committed_up_to_ = -1, committed_version_ = -1, commit_sent_ = -1;
  bool resent_ = false;         // Duplicate was called
  bool reack_ = false;          // a resend below the last ack sent: repeat that ack
  int64_t ack_sent_ = -1;
  std::set<int64_t> durable_out_of_order_;
};

}  // namespace nobus::server
