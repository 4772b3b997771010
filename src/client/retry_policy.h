// Internal to src/client: how long to wait before the next connection attempt of a stream, and
// when to give up. An outage is a run of failed calls without progress; progress (an
// acknowledgement that makes records durable, or a call that opens with nothing to re-send) ends
// it. Within an outage:
//   - the first reconnect after an established call broke starts at once (the common case is a
//     one-off drop or a server-initiated rotation);
//   - every other attempt waits recovery_backoff_ms * multiplier^(k-1) (capped at
//     recovery_backoff_max_ms), k = failed attempts so far, with +-10% jitter;
//   - after recovery_retries failed attempts the stream gives up (recovery off: at once).
// Deterministic for a given seed (tests). Thread-safety: none; the stream's mutex guards it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "nobus/options.h"

namespace nobus::client {

class RetryPolicy {
 public:
  RetryPolicy(const StreamOptions& options, uint64_t seed);

  // A call failed with a retriable error. `was_open`: it had received create_stream_response.
  // Returns the delay before the next attempt, or nullopt to give up.
  std::optional<std::chrono::milliseconds> OnFailure(bool was_open);
  // Progress was made: the next failure starts a new outage.
  void OnProgress() {
    failures_ = 0;
    waits_ = 0;
  }
  // Failed attempts in the current outage.
  int failures() const { return failures_; }

 private:
  std::chrono::milliseconds Backoff(int attempt);

  const bool recovery_;
  const int retries_;
  const int64_t base_ms_;
  const double multiplier_;
  const int64_t max_ms_;
  int failures_ = 0;
  int waits_ = 0;  // backoff waits handed out in this outage
  std::minstd_rand random_;
};

}  // namespace nobus::client
