// Internal to src/client: one gRPC EphemeralStream or PersistentStream call of a stream (one
// connection attempt), on the gRPC callback API with raw ByteBuffers (the generic stub), so
// queued records go out as zero-copy slices (wire_format.h). The reactor only forwards events to its StreamCore, which
// owns all decisions; the fields below are the per-call state the core keeps.
//
// Lifecycle: created and deleted by the StreamCore's supervisor thread; deleted only after
// OnDone, i.e. after gRPC has finished every reaction. A hold (AddHold) taken in Start keeps
// OnDone from running while threads outside gRPC reactions may still start operations on the
// call; the core removes it once the call is retired (its read failed) and no such operation is
// in progress (external_ops == 0).
//
// Thread-safety: reactions run on gRPC threads, never inline in a Start* call (gRPC schedules
// reactor callbacks with can_inline=false); the public fields are guarded by the StreamCore's
// mutex; Start*/Cancel/ReleaseHold must be called without that mutex held. Start holds start_mu_
// and every reaction passes through it first: gRPC's own ordering lives in the uninstrumented
// system library, so this is the happens-before edge ThreadSanitizer can see (uncontended except
// when a reaction races the end of Start).
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "client/wire_format.h"
#include "common/status.h"

namespace nobus::client {

class StreamCore;

// Why the SDK ended a call itself (kNone: the server or the network ended it).
enum class EndReason {
  kNone,
  kClosing,         // Stream::Close: everything durable, half-closed
  kCloseSignal,     // the server sent close_stream_signal
  kCreateTimeout,   // no create_stream_response within recovery_timeout_ms
  kAckTimeout,      // no response within server_lack_of_ack_timeout_ms
  kProtocolError,   // the server broke the protocol
  kShutdown,        // the Stream is being destroyed
};

class Call final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  using Clock = std::chrono::steady_clock;
  using Headers = std::vector<std::pair<std::string, std::string>>;

  Call(StreamCore* core, uint64_t id, Rpc rpc, std::shared_ptr<grpc::Channel> channel,
       const Headers& headers);

  // Takes the hold, starts the call, writes `first_request` (create or resume) and starts
  // reading.
  void Start(grpc::ByteBuffer first_request);
  // Writes write_buffer (one write at a time; the core sets `writing` first).
  void IssueWrite() { StartWrite(&write_buffer); }
  void IssueWritesDone() { StartWritesDone(); }
  void Cancel() { context_.TryCancel(); }
  void ReleaseHold() { RemoveHold(); }
  std::string peer() const { return context_.peer(); }

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

  // --- state guarded by the StreamCore's mutex ---
  const uint64_t id;
  grpc::ByteBuffer write_buffer;
  bool opened = false;           // create_stream_response (or resume_stream_response) received
  bool writing = false;          // a write is outstanding (or about to be started)
  int external_ops = 0;          // Start* calls in progress outside gRPC reactions
  bool retired = false;          // the read failed: no new operations
  bool hold_released = false;
  bool done = false;             // OnDone ran
  bool cancel_requested = false;
  bool writes_done_sent = false;
  bool paused = false;           // close_stream_signal received: send nothing more
  EndReason reason = EndReason::kNone;
  absl::Status reason_status;    // the error to report for reason != kNone
  grpc::Status final_status;     // from OnDone
  Clock::time_point started;
  Clock::time_point last_response;
  Clock::time_point inflight_since;
  Clock::time_point pause_deadline;
  Clock::time_point writes_done_at;

 private:
  StreamCore* const core_;
  const Rpc rpc_;
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  grpc::ClientContext context_;
  grpc::ByteBuffer first_request_;
  grpc::ByteBuffer read_buffer_;
  std::mutex start_mu_;  // held for all of Start; see the thread-safety note above

  // Called first in every reaction: waits until Start has returned.
  void AfterStart() { std::lock_guard<std::mutex> lock(start_mu_); }
};

}  // namespace nobus::client
