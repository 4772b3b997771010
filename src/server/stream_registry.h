// The open gRPC ingest streams of this node, for server-initiated closes: shutdown (drain),
// POST /admin/v1/streams/close-all, and streams whose access token expired or was revoked. Streams add themselves when the call starts and remove
// themselves in OnDone. Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

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

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::map<const StreamCore*, std::shared_ptr<StreamCore>> streams_;
  std::map<const StreamCore*, auth::Caller> callers_;  // streams opened with an access token
};

}  // namespace nobus::server
