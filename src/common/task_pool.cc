#include "common/task_pool.h"

#include <pthread.h>

#include <algorithm>

namespace nobus {

TaskPool::TaskPool(int threads, const char* name) {
  for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back(&TaskPool::Work, this, name);
}

TaskPool::~TaskPool() { Stop(); }

void TaskPool::Submit(int64_t key, std::function<void()> task) {
  {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push(Task{key, next_seq_++, std::move(task)});
  }
  cv_.notify_one();
}

void TaskPool::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& w : workers_)
    if (w.joinable()) w.join();
}

void TaskPool::Work(const char* name) {
  pthread_setname_np(pthread_self(), name);
  std::unique_lock<std::mutex> l(mu_);
  while (true) {
    cv_.wait(l, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued ran
    std::function<void()> run = std::move(const_cast<Task&>(queue_.top()).run);
    queue_.pop();
    l.unlock();
    run();
    l.lock();
  }
}

}  // namespace nobus
