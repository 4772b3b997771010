// Internal to src/client: the state machine behind nobus::Stream. It owns the queue of
// unacknowledged records (unacked_queue.h), the current gRPC call (call.h) and a supervisor
// thread that opens calls, watches timeouts, classifies how a call ended and reconnects with
// backoff (retry_policy.h). Ingest threads append to the queue and start a write when the writer
// is idle; afterwards gRPC's write reactions keep sending (never waiting for acks) until the queue
// has nothing unsent. Read reactions apply acks and call the ack callback.
//
//   Open() --start call--> connecting --create_stream_response--> open --+--> closed (Close)
//      ^                                                                 |
//      +------- retriable end (drop, UNAVAILABLE, close signal, timeout) +--> failed (non-
//               after a backoff; everything unacked is sent again             retriable, or
//                                                                             retries used up)
//
// Persistent streams (Rpc::kPersistent, stream_persistent.cc) open every call on PersistentStream:
// the first call creates the stream (or resumes the id the application passed), every later one
// resumes it; the resume_stream_response's durable offset acknowledges what is queued up to it
// and the rest is sent again with the same logical offsets, one request per wire message. The
// server's ABORTED (fenced by another producer) and a refused resume (FAILED_PRECONDITION:
// retired, expired) fail the stream as non-retriable. Commit acks (opt-in) raise the committed
// offset WaitForCommit waits for.
//
// Lifecycle: Open once; the destructor stops the supervisor (cancelling any call) and joins it.
// Thread-safety: public methods are thread-safe; one mutex guards everything; gRPC operations
// are never started with it held (reactions may run inline).
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "client/call.h"
#include "client/retry_policy.h"
#include "client/unacked_queue.h"
#include "client/wire_format.h"
#include "common/status.h"
#include "nobus/options.h"
#include "nobus/stream.h"
#include "nobus/table.h"

namespace nobus::client {

// Makes a fresh channel for each connection attempt (so a broken connection is never reused).
using ChannelFactory = std::function<std::shared_ptr<grpc::Channel>()>;

// How a stream's calls open: EphemeralStream, or PersistentStream creating a new stream (empty
// resume_id: the server mints the id) or resuming `resume_id`.
struct StreamMode {
  Rpc rpc = Rpc::kEphemeral;
  std::string resume_id;
};

// InvalidArgument (non-retriable) naming the first bad option or table property.
[[nodiscard]] absl::Status ValidateStreamConfig(const TableProperties& table,
                                                const StreamOptions& options,
                                                const StreamMode& mode = {});

class StreamCore {
 public:
  using Clock = std::chrono::steady_clock;
  using Encoder = absl::FunctionRef<void(char* out)>;

  StreamCore(ChannelFactory channels, TableProperties table, StreamOptions options,
             std::string sdk_id, StreamMode mode = {});
  ~StreamCore();
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  // Starts the supervisor and blocks until the first call is open (OK) or the stream failed.
  [[nodiscard]] absl::Status Open();

  // Queues one request of `records` records (`payload_bytes` of record bytes) whose encoding
  // takes `encoded_bytes`; `encode` writes it (under the mutex). Returns the logical offset.
  [[nodiscard]] absl::StatusOr<int64_t> Append(size_t encoded_bytes, size_t payload_bytes,
                                               uint32_t records, bool batch, Encoder encode,
                                               WhenFull mode);
  [[nodiscard]] absl::Status WaitForOffset(int64_t offset);
  [[nodiscard]] absl::Status Flush();
  [[nodiscard]] absl::Status Close();
  // Persistent streams with commit acks: blocks until the server reports `offset` committed to
  // the table; returns the table version (stream_persistent.cc).
  [[nodiscard]] absl::StatusOr<int64_t> WaitForCommit(int64_t offset);
  std::vector<UnackedBatch> Unacked() const;
  absl::Status status() const;
  StreamStats Stats() const;
  std::string stream_id() const;
  bool persistent() const { return rpc_ == Rpc::kPersistent; }
  int64_t resume_watermark() const;
  const TableProperties& table() const { return table_; }
  const StreamOptions& options() const { return options_; }

  // --- reactions of the current Call (gRPC threads) ---
  void OnResponse(Call* call, const absl::Status& parsed, const ServerMessage& m);
  // After a successful write: prepares the next one in call->write_buffer (true) or goes idle.
  bool NextWrite(Call* call);
  void OnWriteFailed(Call* call);
  void OnReadFailed(Call* call);
  void OnCallDone(Call* call, const grpc::Status& status);

 private:
  using Lock = std::unique_lock<std::mutex>;

  // Supervisor (stream_supervisor.cc).
  void Supervise();
  void StartCallLocked(Lock& lock);
  Clock::time_point WatchCallLocked(Lock& lock);
  void FinishCallLocked(Lock& lock);
  void RetryOrFailLocked(const absl::Status& error, bool was_open);
  void FailLocked(absl::Status status);
  absl::StatusOr<Call::Headers> BuildHeaders() const;

  // Persistent streams and the per-RPC differences (stream_persistent.cc).
  grpc::ByteBuffer FirstRequestLocked() const;
  void OnOpenedLocked(Lock& lock, Call* call, const ServerMessage& m);
  void HandleCommitAckLocked(const ServerMessage& m);
  // A non-retriable status when a call of a persistent stream ended in a way that forbids a
  // reconnect (fenced, retired, expired); OK otherwise (and always for ephemeral streams).
  absl::Status PersistentEndLocked(const grpc::Status& status, const Call& call) const;

  // Call operations (stream_core.cc).
  void HandleAckLocked(Lock& lock, Call* call, int64_t physical_offset);
  void DeliverAckLocked(Lock& lock, Call* call, const AckResult& acked);
  void KickWriterLocked(Lock& lock);
  bool PrepareWriteLocked(Call* call);
  void EndCallGracefullyLocked(Lock& lock, Call* call, EndReason reason);
  void CancelLocked(Lock& lock, Call* call, EndReason reason, absl::Status why);
  void EndExternalOpLocked(Lock& lock, Call* call);
  void MaybeReleaseHoldLocked(Lock& lock, Call* call);
  absl::Status AcceptingLocked() const;
  absl::Status WaitDurableLocked(Lock& lock, int64_t offset);

  const ChannelFactory channels_;
  const TableProperties table_;
  const StreamOptions options_;
  const std::string sdk_id_;
  const Rpc rpc_;

  mutable std::mutex mu_;
  std::condition_variable supervisor_cv_;  // call events, close, shutdown
  std::condition_variable progress_cv_;    // durability, room, open, failure, closed
  UnackedQueue queue_;
  RetryPolicy retry_;
  WireMessage wire_;                       // scratch for PrepareWriteLocked
  std::unique_ptr<Call> call_;
  uint64_t next_call_id_ = 0;
  bool opened_once_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool shutdown_ = false;
  absl::Status failure_;
  std::string stream_id_;  // persistent: the stream's id once known (resumed by every reconnect)
  int64_t resume_watermark_ = -1;  // persistent: the durable offset the first call opened with
  int64_t committed_offset_ = -1;  // commit acks: committed_up_to_offset, highest seen
  int64_t table_version_ = -1;     // ... and its table_version
  int64_t resend_pending_ = 0;     // persistent: re-sends StartCall counted, until Resume
  Clock::time_point next_attempt_at_;
  StreamStats stats_;
  std::thread supervisor_;
};

}  // namespace nobus::client
