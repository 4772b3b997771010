#include "common/task_pool.h"

#include <atomic>
#include <latch>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

namespace nobus {
namespace {

TEST(TaskPoolTest, RunsQueuedTasksLowestKeyFirstThenInSubmissionOrder) {
  TaskPool pool(1, "test-pool");
  std::latch started(1), release(1);
  pool.Submit(0, [&] {  // holds the only worker while the others queue up
    started.count_down();
    release.wait();
  });
  started.wait();
  std::mutex mu;
  std::vector<int> order;
  for (auto [key, id] : std::vector<std::pair<int64_t, int>>{{30, 1}, {10, 2}, {20, 3}, {10, 4}})
    pool.Submit(key, [&, id] {
      std::lock_guard<std::mutex> l(mu);
      order.push_back(id);
    });
  release.count_down();
  pool.Stop();
  EXPECT_EQ(order, (std::vector<int>{2, 4, 3, 1}));
}

TEST(TaskPoolTest, TasksRunConcurrentlyOnEveryWorker) {
  TaskPool pool(4, "test-pool");
  std::latch all_running(4);  // only reached when four tasks run at once
  std::atomic<int> done{0};
  for (int i = 0; i < 4; ++i)
    pool.Submit(0, [&] {
      all_running.arrive_and_wait();
      done++;
    });
  pool.Stop();
  EXPECT_EQ(done.load(), 4);
}

TEST(TaskPoolTest, StopRunsWhatIsQueuedAndTasksMaySubmitMore) {
  std::atomic<int> done{0};
  {
    TaskPool pool(2, "test-pool");
    for (int i = 0; i < 100; ++i)
      pool.Submit(i, [&] {
        if (done++ == 0) pool.Submit(-1, [&] { done++; });
      });
  }  // the destructor stops the pool
  EXPECT_EQ(done.load(), 101);
}

}  // namespace
}  // namespace nobus
