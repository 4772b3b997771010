// The open gRPC ingest streams of this node, for server-initiated closes: shutdown (drain),
// POST /admin/v1/streams/close-all, and streams whose access token expired or was revoked.
// Streams add themselves when the call starts and remove themselves in OnDone. It also knows which
// call owns each persistent stream id (doc/exactly-once.md): a call that resumes an id fences the
// call that held it, like a Kafka producer epoch. Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>

#include "auth/authorizer.h"
#include "server/stream_core.h"

namespace nobus::server {

class StreamRegistry {
 public:
  void Add(std::shared_ptr<StreamCore> stream);
  void Remove(const StreamCore* stream);
  // `stream` was opened by `caller`; CloseRefused checks callers with an access token.
  void SetCaller(const StreamCore* stream, auth::Caller caller);
  int size() const;
  // Sends close_stream_signal{duration} to every open stream; each then ends with UNAVAILABLE
  // after its in-flight acks. Returns how many streams were asked to close.
  int CloseAll(int64_t signal_duration_ms);
  // Sends close_stream_signal{duration} to every stream whose caller `check` now refuses (access
  // token expired or revoked); each ends after its in-flight acks, and the SDK reconnects with a
  // fresh token. Returns how many were asked to close. `check` runs outside the lock.
  int CloseRefused(const std::function<absl::Status(const auth::Caller&)>& check,
                   int64_t signal_duration_ms);
  // Waits until no stream is open or `timeout_ms` passed; returns the number still open.
  int WaitUntilEmpty(int64_t timeout_ms);

  // Persistent streams. Claim makes `owner` the call of stream `id`; Evict leaves it without one
  // (retirement). Either way a live previous owner ends with ABORTED (`why`) and is waited for
  // until its in-flight requests completed, so the stream's durable offset is final when they
  // return OK; Unavailable if that takes longer than `timeout_ms`. Release: OnDone of `owner`.
  [[nodiscard]] absl::Status Claim(const std::string& id, const std::shared_ptr<StreamCore>& owner,
                                   const std::string& why, int64_t timeout_ms);
  [[nodiscard]] absl::Status Evict(const std::string& id, const std::string& why,
                                   int64_t timeout_ms);
  void Release(const std::string& id, const StreamCore* owner);
  // A commit holds the stream's requests up to `offset` (IngestOptions::on_commit): tells its
  // call, which sends a commit ack if it asked for them.
  void Committed(const std::string& id, int64_t offset, int64_t version);

  // Gaps after a failover (doc/exactly-once.md "Several nodes"): a call of stream `id` ended with
  // a gap after `durable` because requests past it may wait in another node's WAL. For
  // kGapHoldMs after that, a resume that still finds `durable` or less is refused (Unavailable)
  // instead of being opened to fail again: SDKs back off between refused creations, not between
  // calls that fail after opening. A resume that finds more clears it.
  static constexpr int64_t kGapHoldMs = 10'000;
  void NoteGap(const std::string& id, int64_t durable, int64_t now_ms);
  [[nodiscard]] absl::Status CheckGap(const std::string& id, std::optional<int64_t> durable,
                                      int64_t now_ms);

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::map<const StreamCore*, std::shared_ptr<StreamCore>> streams_;
  std::map<const StreamCore*, auth::Caller> callers_;  // streams opened with an access token
  std::map<std::string, std::weak_ptr<StreamCore>> owners_;  // persistent stream id -> its call
  struct Gap {
    int64_t durable = -1, at_ms = 0;
  };
  std::map<std::string, Gap> gaps_;  // persistent stream id -> its last gap (NoteGap)

  absl::Status Replace(const std::string& id, std::shared_ptr<StreamCore> owner,
                       const std::string& why, int64_t timeout_ms);
};

}  // namespace nobus::server
