// TaskPool: a fixed number of worker threads running submitted tasks, lowest key first (ties in
// submission order). The ingest service commits tables on one (key = the age of a table's oldest
// buffered row, so the longest-waiting table goes first).
//
// Thread-safety: Submit and Stop may be called from any thread, also from a task. Ownership: the
// pool owns its threads; Stop (or the destructor) runs the queued tasks to the end, then joins.
// Nothing durable.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace nobus {

class TaskPool {
 public:
  // `name` (at most 15 bytes) names the worker threads (top -H, perf, /proc/<pid>/task).
  TaskPool(int threads, const char* name);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  void Submit(int64_t key, std::function<void()> task);
  // Runs what is queued, then stops the workers. Idempotent; not from a task of this pool.
  void Stop();
  int threads() const { return static_cast<int>(workers_.size()); }

 private:
  struct Task {
    int64_t key;
    uint64_t seq;
    std::function<void()> run;
    bool operator>(const Task& o) const { return key != o.key ? key > o.key : seq > o.seq; }
  };
  void Work(const char* name);

  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Task, std::vector<Task>, std::greater<>> queue_;  // guarded by mu_
  uint64_t next_seq_ = 0;                                               // guarded by mu_
  bool stopping_ = false;                                               // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace nobus
