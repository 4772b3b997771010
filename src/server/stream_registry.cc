#include "server/stream_registry.h"

#include <chrono>
#include <vector>

namespace nobus::server {

void StreamRegistry::Add(std::shared_ptr<StreamCore> stream) {
  std::lock_guard<std::mutex> lock(mu_);
  const StreamCore* key = stream.get();
  streams_[key] = std::move(stream);
}

void StreamRegistry::Remove(const StreamCore* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
  if (streams_.empty()) empty_.notify_all();
}

int StreamRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(streams_.size());
}

int StreamRegistry::CloseAll(int64_t signal_duration_ms) {
  std::vector<std::shared_ptr<StreamCore>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, stream] : streams_) open.push_back(stream);
  }
  // Close issues gRPC operations: never under our lock.
  for (const auto& stream : open) stream->Close(signal_duration_ms);
  return static_cast<int>(open.size());
}

int StreamRegistry::WaitUntilEmpty(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  empty_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return streams_.empty(); });
  return static_cast<int>(streams_.size());
}

}  // namespace nobus::server
