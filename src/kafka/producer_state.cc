#include "kafka/producer_state.h"

#include <chrono>
#include <limits>

#include "kafka/api.h"

namespace nobus::kafka {
namespace {

constexpr size_t kBatchesKept = 5;

int32_t NextSeq(int32_t last) {
  return last == std::numeric_limits<int32_t>::max() ? 0 : last + 1;
}

constexpr int64_t kSweepEveryMs = 60 * 1000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ProducerStates::ProducerStates(int64_t idle_expiry_ms, Clock now_ms)
    : idle_expiry_ms_(idle_expiry_ms), now_ms_(now_ms ? std::move(now_ms) : Clock(SteadyMs)) {}

size_t ProducerStates::size() const {
  std::lock_guard<std::mutex> l(mu_);
  return states_.size();
}

void ProducerStates::SweepLocked(int64_t now_ms) {
  if (now_ms - last_sweep_ms_ < kSweepEveryMs) return;
  last_sweep_ms_ = now_ms;
  std::erase_if(states_, [&](const auto& entry) {
    const State& s = entry.second;
    if (now_ms - s.last_used_ms < idle_expiry_ms_) return false;
    for (const Batch& b : s.recent)
      if (b.pending) return false;
    return true;
  });
}

bool ProducerStates::Admit(const std::string& partition, const BatchSeq& seq,
                           const std::function<std::optional<int64_t>()>& durable_mark,
                           BatchDone done) {
  BatchOutcome answer;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t now = now_ms_();
    SweepLocked(now);
    const Key key{seq.producer_id, partition};
    auto it = states_.find(key);
    if (it == states_.end()) {
      State fresh;
      if (std::optional<int64_t> mark = durable_mark()) {
        fresh.epoch = static_cast<int16_t>(*mark >> 32);
        fresh.last_seq = static_cast<int32_t>(static_cast<uint32_t>(*mark));
      } else {
        fresh.epoch = seq.epoch;
        fresh.any_sequence = true;
      }
      it = states_.emplace(key, std::move(fresh)).first;
    }
    State& s = it->second;
    s.last_used_ms = now;
    if (seq.epoch < s.epoch) {
      answer = {kInvalidProducerEpoch, -1,
                Cat("producer ", seq.producer_id, " epoch ", seq.epoch, " is older than ",
                    s.epoch, ": a newer session of this producer exists")};
    } else if (seq.epoch > s.epoch) {
      if (seq.first_seq != 0 && !s.any_sequence) {
        answer = {kOutOfOrderSequenceNumber, -1,
                  Cat("producer ", seq.producer_id, " bumped its epoch to ", seq.epoch,
                      " but its first sequence is ", seq.first_seq, ", not 0")};
      } else {
        s = State{.epoch = seq.epoch, .last_used_ms = now};
        s.any_sequence = false;
      }
    } else {
      for (Batch& b : s.recent) {
        if (b.first_seq != seq.first_seq || b.last_seq != seq.last_seq) continue;
        if (b.pending) {
          b.waiters.push_back(std::move(done));
          return false;
        }
        answer = {0, b.base_offset, ""};
        break;
      }
      if (answer.error == 0 && answer.base_offset < 0 && !s.any_sequence &&
          seq.first_seq != NextSeq(s.last_seq)) {
        const bool old = s.last_seq >= 0 && seq.last_seq <= s.last_seq && seq.first_seq >= 0;
        answer = old ? BatchOutcome{kDuplicateSequenceNumber, -1,
                                    Cat("batch ", seq.first_seq, "..", seq.last_seq, " of producer ",
                                        seq.producer_id, " was already written")}
                     : BatchOutcome{kOutOfOrderSequenceNumber, -1,
                                    Cat("producer ", seq.producer_id, " sent sequence ",
                                        seq.first_seq, " but the next one is ",
                                        NextSeq(s.last_seq))};
      }
    }
    if (answer.error == 0 && answer.base_offset < 0) {
      s.any_sequence = false;
      s.last_seq = seq.last_seq;
      s.recent.push_back(Batch{seq.first_seq, seq.last_seq});
      while (s.recent.size() > kBatchesKept && !s.recent.front().pending) s.recent.pop_front();
      return true;
    }
  }
  done(std::move(answer));
  return false;
}

void ProducerStates::Finish(const std::string& partition, const BatchSeq& seq,
                            absl::StatusOr<int64_t> base_offset) {
  std::vector<BatchDone> waiters;
  BatchOutcome answer;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = states_.find(Key{seq.producer_id, partition});
    if (it == states_.end()) return;
    for (Batch& b : it->second.recent) {
      if (b.first_seq != seq.first_seq || b.last_seq != seq.last_seq || !b.pending) continue;
      waiters = std::move(b.waiters);
      b.pending = false;
      b.base_offset = base_offset.value_or(-1);
      break;
    }
    if (base_offset.ok()) {
      answer = {0, *base_offset, ""};
    } else {
      answer = {kKafkaStorageError, -1, std::string(base_offset.status().message())};
      states_.erase(it);
    }
  }
  for (BatchDone& w : waiters) w(answer);
}

}  // namespace nobus::kafka
