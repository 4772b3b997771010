#include "client/retry_policy.h"

#include <algorithm>
#include <cmath>

namespace nobus::client {

RetryPolicy::RetryPolicy(const StreamOptions& options, uint64_t seed)
    : recovery_(options.recovery),
      retries_(std::max(0, options.recovery_retries)),
      base_ms_(std::max<int64_t>(0, options.recovery_backoff_ms)),
      multiplier_(std::max(1.0, options.recovery_backoff_multiplier)),
      max_ms_(std::max<int64_t>(0, options.recovery_backoff_max_ms)),
      random_(static_cast<std::minstd_rand::result_type>(seed % 2147483646 + 1)) {}

std::optional<std::chrono::milliseconds> RetryPolicy::OnFailure(bool was_open) {
  ++failures_;
  if (!recovery_ || failures_ > retries_) return std::nullopt;
  if (was_open && failures_ == 1) return std::chrono::milliseconds(0);
  return Backoff(++waits_);
}

std::chrono::milliseconds RetryPolicy::Backoff(int attempt) {
  double ms = static_cast<double>(base_ms_) * std::pow(multiplier_, attempt - 1);
  ms = std::min(ms, static_cast<double>(std::max(base_ms_, max_ms_)));
  std::uniform_real_distribution<double> jitter(0.9, 1.1);
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms * jitter(random_))));
}

}  // namespace nobus::client
