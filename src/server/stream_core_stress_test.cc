// StreamCore under real concurrency: reads, durable callbacks and write completions arrive on
// different threads in arbitrary order. Checks the invariants the gRPC reactor relies on: no
// operation is issued after Finish, one outstanding read and write at a time, exactly one Finish,
// acks strictly increasing and complete.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "server/stream_core.h"

namespace nobus::server {
namespace {

// A queue of tasks run by one thread; `pending` counts tasks posted and not yet run (shared by
// all workers of a test, so the test can wait until nothing is left to run).
class Worker {
 public:
  explicit Worker(std::atomic<int>* pending) : pending_(pending), thread_([this] { Run(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(nullptr);
      cv_.notify_one();
    }
    thread_.join();
  }
  void Post(std::function<void()> task) {
    pending_->fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
    cv_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      if (!task) return;
      task();
      pending_->fetch_sub(1);
    }
  }
  std::atomic<int>* pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::thread thread_;
};

class AsyncOps : public StreamOps {
 public:
  AsyncOps(int requests, bool cancel_midway)
      : core_(std::make_shared<StreamCore>(this, 1000)),
        requests_(requests),
        cancel_(cancel_midway) {}
  ~AsyncOps() {
    // Late durable callbacks and read completions still run after Finish: let them, then stop.
    while (pending_.load() > 0) std::this_thread::yield();
  }

  void IssueRead() override {
    Check(!read_outstanding_.exchange(true));
    reader_.Post([this] { CompleteRead(); });
  }
  void IssueWrite(const StreamMessage& m) override {
    Check(!write_outstanding_.exchange(true));
    if (m.kind == StreamMessage::Kind::kAck) {
      int64_t ack = m.offset.value_or(-1);
      Check(ack > last_ack_);
      last_ack_ = ack;
    }
    writer_.Post([this] {
      write_outstanding_ = false;
      core_->OnWriteDone(true);
    });
  }
  void IssueFinish(grpc::Status s) override {
    if (finishes_.fetch_add(1) != 0) violated = true;
    std::lock_guard<std::mutex> lock(mu_);
    status_ = s;
    cv_.notify_all();
  }

  grpc::Status WaitFinished() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return status_.has_value(); });
    return *status_;
  }

  StreamCore* core() { return core_.get(); }
  std::atomic<bool> violated{false};
  int64_t last_ack() const { return last_ack_; }

 private:
  void Check(bool ok) {
    if (!ok || finishes_.load() > 0) violated = true;
  }
  void CompleteRead() {
    read_outstanding_ = false;
    core_->ReadArrived();
    if (next_ == requests_ || finishes_.load() > 0) {
      core_->ReadProcessed(false);  // half-close, or the read failing after Finish
      return;
    }
    if (cancel_ && next_ == requests_ / 2) core_->OnCancel();
    int64_t offset = next_++;
    core_->BeginRequest(offset, 100);
    Worker& w = durable_[offset % 3];
    w.Post([this, offset] { core_->CompleteRequest(offset, 100, absl::OkStatus()); });
    core_->ReadProcessed(true);
  }

  std::atomic<int> pending_{0};
  std::shared_ptr<StreamCore> core_;

  const int requests_;
  const bool cancel_;
  int64_t next_ = 0;
  std::atomic<bool> read_outstanding_{false};
  std::atomic<bool> write_outstanding_{false};
  std::atomic<int> finishes_{0};
  int64_t last_ack_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<grpc::Status> status_;
  Worker reader_{&pending_}, writer_{&pending_};
  Worker durable_[3] = {Worker(&pending_), Worker(&pending_), Worker(&pending_)};
};

TEST(StreamCoreStressTest, HalfCloseAcksEverythingThenFinishesOk) {
  for (int round = 0; round < 20; ++round) {
    AsyncOps ops(2000, /*cancel_midway=*/false);
    ops.core()->MarkOpened();
    ops.core()->Start();
    grpc::Status status = ops.WaitFinished();
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(ops.last_ack(), 1999);
    EXPECT_FALSE(ops.violated);
  }
}

TEST(StreamCoreStressTest, CancelMidwayFinishesOnceAndIssuesNothingAfter) {
  for (int round = 0; round < 20; ++round) {
    AsyncOps ops(2000, /*cancel_midway=*/true);
    ops.core()->MarkOpened();
    ops.core()->Start();
    EXPECT_EQ(ops.WaitFinished().error_code(), grpc::StatusCode::CANCELLED);
    EXPECT_FALSE(ops.violated);
  }
}

}  // namespace
}  // namespace nobus::server
