// Kafka's idempotent-producer rules (spec kafka-produce.md 2.8) for the Kafka endpoint: per
// (producer id, topic partition) the epoch, the highest sequence accepted and the last 5 batches, so a
// retried batch is answered with its original offset instead of being written again.
//
// Durability: the state in memory is rebuilt lazily. The first batch of a producer this node has
// no state for starts from the durable mark the ingest service keeps for it (the WAL record and
// the Delta txn of appId table::KafkaProducerId(table, pid, partition) carry Mark(epoch, last sequence)): a
// retried batch at or below it is answered DUPLICATE_SEQUENCE_NUMBER (clients count it as
// delivered, offset unknown). Without any state, any sequence is accepted (Kafka's rule too).
//
// Memory: a state with nothing pending is dropped once idle for `idle_expiry_ms` (default 15
// minutes; swept at most once a minute), so producers that come and go do not accumulate; the
// durable mark takes over for it, as after a restart.
//
// Thread-safety: all methods are thread-safe; callbacks run outside the lock.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace nobus::kafka {

struct BatchSeq {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t first_seq = -1;
  int32_t last_seq = -1;
};

// The durable mark of a producer's last batch: epoch and last sequence in one growing number.
inline int64_t Mark(int16_t epoch, int32_t last_seq) {
  return (static_cast<int64_t>(epoch) << 32) | static_cast<uint32_t>(last_seq);
}

// How a batch ends: error code (0 = appended or a duplicate of an appended batch) and its base
// offset (-1 when unknown).
struct BatchOutcome {
  int16_t error = 0;
  int64_t base_offset = -1;
  std::string message;
};
using BatchDone = std::function<void(BatchOutcome)>;

class ProducerStates {
 public:
  using Clock = std::function<int64_t()>;  // milliseconds, monotonic
  explicit ProducerStates(int64_t idle_expiry_ms = 15 * 60 * 1000, Clock now_ms = nullptr);

  // Decides a batch of producer `seq.producer_id` to `partition` ("<table>-<index>"). Returns true: append it, then call
  // Finish. False: `done` was called (or is called when the original of a duplicate completes)
  // with the answer. `durable_mark` is the ingest service's mark, read only when this producer
  // has no state here yet.
  bool Admit(const std::string& partition, const BatchSeq& seq,
             const std::function<std::optional<int64_t>()>& durable_mark, BatchDone done);
  // The append of an admitted batch completed: its base offset, or the error (the producer's
  // state is dropped: what the WAL holds after a failure is decided by its recovery).
  void Finish(const std::string& partition, const BatchSeq& seq, absl::StatusOr<int64_t> base_offset);
  size_t size() const;  // producer partitions with state

 private:
  struct Batch {
    int32_t first_seq, last_seq;
    bool pending = true;
    int64_t base_offset = -1;
    std::vector<BatchDone> waiters;  // duplicates of a pending batch
  };
  struct State {
    int16_t epoch = 0;
    int32_t last_seq = -1;  // highest accepted (pending included); -1: none
    bool any_sequence = false;  // no history: the next sequence is accepted as it comes
    std::deque<Batch> recent;   // the last 5 batches
    int64_t last_used_ms = 0;
  };
  using Key = std::pair<int64_t, std::string>;
  void SweepLocked(int64_t now_ms);

  const int64_t idle_expiry_ms_;
  const Clock now_ms_;
  mutable std::mutex mu_;
  std::map<Key, State> states_;
  int64_t last_sweep_ms_ = 0;
};

}  // namespace nobus::kafka
