#include "server/stream_registry.h"

#include <chrono>
#include <vector>

#include "common/logging.h"

namespace nobus::server {

void StreamRegistry::Add(std::shared_ptr<StreamCore> stream) {
  std::lock_guard<std::mutex> lock(mu_);
  const StreamCore* key = stream.get();
  streams_[key] = std::move(stream);
}

void StreamRegistry::Remove(const StreamCore* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
  callers_.erase(stream);
  if (streams_.empty()) empty_.notify_all();
}

void StreamRegistry::SetCaller(const StreamCore* stream, auth::Caller caller) {
  if (!caller.token) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (streams_.contains(stream)) callers_[stream] = std::move(caller);
}

int StreamRegistry::CloseRefused(const std::function<absl::Status(const auth::Caller&)>& check,
                                 int64_t signal_duration_ms) {
  std::vector<std::pair<std::shared_ptr<StreamCore>, auth::Caller>> open;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, caller] : callers_) open.emplace_back(streams_.at(key), caller);
  }
  int closed = 0;
  for (const auto& [stream, caller] : open) {
    absl::Status refused = check(caller);
    if (refused.ok() || !stream->accepting()) continue;
    NOBUS_LOG_INFO("closing stream of principal '{}': {}", caller.principal, refused.ToString());
    stream->Close(signal_duration_ms);
    ++closed;
  }
  return closed;
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

absl::Status StreamRegistry::Claim(const std::string& id,
                                   const std::shared_ptr<StreamCore>& owner,
                                   const std::string& why, int64_t timeout_ms) {
  return Replace(id, owner, why, timeout_ms);
}

absl::Status StreamRegistry::Evict(const std::string& id, const std::string& why,
                                   int64_t timeout_ms) {
  return Replace(id, nullptr, why, timeout_ms);
}

absl::Status StreamRegistry::Replace(const std::string& id, std::shared_ptr<StreamCore> owner,
                                     const std::string& why, int64_t timeout_ms) {
  std::shared_ptr<StreamCore> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find(id);
    if (it != owners_.end()) previous = it->second.lock();
    if (owner != nullptr) owners_[id] = owner;
    else if (it != owners_.end()) owners_.erase(it);
  }
  if (previous == nullptr || previous == owner) return absl::OkStatus();
  NOBUS_LOG_INFO("fencing the previous call of persistent stream {}: {}", id, why);
  previous->Fail(grpc::Status(grpc::StatusCode::ABORTED, why));  // outside our lock: issues ops
  if (previous->WaitIdle(timeout_ms)) return absl::OkStatus();
  return absl::UnavailableError(
      Cat("the previous call of stream '", id, "' still has requests in flight after ", timeout_ms,
          " ms (a slow disk?): retry shortly"));
}

void StreamRegistry::Release(const std::string& id, const StreamCore* owner) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = owners_.find(id);
  if (it == owners_.end()) return;
  std::shared_ptr<StreamCore> current = it->second.lock();
  // A call that ended with appends still in flight keeps its claim (its completions keep it
  // alive): a resume then fences it and waits for them before reading the durable offset.
  if (current == nullptr || (current.get() == owner && !current->has_inflight())) owners_.erase(it);
}

void StreamRegistry::Committed(const std::string& id, int64_t offset, int64_t version) {
  std::shared_ptr<StreamCore> owner;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owners_.find(id);
    if (it != owners_.end()) owner = it->second.lock();
  }
  if (owner != nullptr) owner->Committed(offset, version);  // issues ops: outside our lock
}

void StreamRegistry::NoteGap(const std::string& id, int64_t durable, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(gaps_, [&](const auto& entry) { return entry.second.at_ms < now_ms - kGapHoldMs; });
  gaps_[id] = Gap{durable, now_ms};
}

absl::Status StreamRegistry::CheckGap(const std::string& id, std::optional<int64_t> durable,
                                      int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = gaps_.find(id);
  if (it == gaps_.end()) return absl::OkStatus();
  const Gap gap = it->second;
  if (durable.value_or(-1) > gap.durable || gap.at_ms < now_ms - kGapHoldMs) {
    gaps_.erase(it);
    return absl::OkStatus();
  }
  return absl::UnavailableError(Cat(
      "persistent stream '", id, "' continues ",
      gap.durable < 0 ? std::string("from its first offset")
                      : Cat("after offset ", gap.durable),
      " with requests another node acknowledged and has not committed yet (it may be down): "
      "resume again later"));
}

int StreamRegistry::WaitUntilEmpty(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  empty_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return streams_.empty(); });
  return static_cast<int>(streams_.size());
}

}  // namespace nobus::server
