// The open gRPC ingest streams of this node, for server-initiated closes: shutdown (drain) and
// POST /admin/v1/streams/close-all. Streams add themselves when the call starts and remove
// themselves in OnDone. Thread-safety: all methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

#include "server/stream_core.h"

namespace nobus::server {

class StreamRegistry {
 public:
  void Add(std::shared_ptr<StreamCore> stream);
  void Remove(const StreamCore* stream);
  int size() const;
  // Sends close_stream_signal{duration} to every open stream; each then ends with UNAVAILABLE
  // after its in-flight acks. Returns how many streams were asked to close.
  int CloseAll(int64_t signal_duration_ms);
  // Waits until no stream is open or `timeout_ms` passed; returns the number still open.
  int WaitUntilEmpty(int64_t timeout_ms);

 private:
  mutable std::mutex mu_;
  std::condition_variable empty_;
  std::map<const StreamCore*, std::shared_ptr<StreamCore>> streams_;
};

}  // namespace nobus::server
