// Kafka's idempotent-producer rules (spec 2.8) as ProducerStates applies them.
#include "kafka/producer_state.h"

#include <gtest/gtest.h>

#include "kafka/api.h"

namespace nobus::kafka {
namespace {

std::string Err(ErrorCode code) { return Cat("E", static_cast<int>(code), "@-1"); }

class ProducerStatesTest : public ::testing::Test {
 protected:
  // Admits a batch; returns "append", or the answer's code and offset as "E<code>@<offset>".
  std::string Admit(int16_t epoch, int32_t first, int32_t last,
                    std::optional<int64_t> durable = std::nullopt) {
    std::string answer = "pending";
    bool append = states_.Admit("t", BatchSeq{7, epoch, first, last}, [&] { return durable; },
                                [&](BatchOutcome o) {
                                  answer = Cat("E", o.error, "@", o.base_offset);
                                });
    return append ? "append" : answer;
  }
  void Finish(int16_t epoch, int32_t first, int32_t last, int64_t offset) {
    states_.Finish("t", BatchSeq{7, epoch, first, last}, offset);
  }
  ProducerStates states_;
};

TEST_F(ProducerStatesTest, SequencesFollowOnAndRetriesGetTheOriginalOffset) {
  EXPECT_EQ(Admit(0, 0, 9), "append");
  Finish(0, 0, 9, 1000);
  EXPECT_EQ(Admit(0, 10, 19), "append");
  Finish(0, 10, 19, 2000);
  EXPECT_EQ(Admit(0, 0, 9), "E0@1000");   // a retry of a cached batch: its original offset
  EXPECT_EQ(Admit(0, 10, 19), "E0@2000");
  EXPECT_EQ(Admit(0, 25, 29), Err(kOutOfOrderSequenceNumber));  // a gap
  EXPECT_EQ(Admit(0, 20, 29), "append");
}

TEST_F(ProducerStatesTest, ARetryOfAPendingBatchIsAnsweredWhenItCompletes) {
  EXPECT_EQ(Admit(0, 0, 4), "append");
  std::string late;
  EXPECT_FALSE(states_.Admit("t", BatchSeq{7, 0, 0, 4}, [] { return std::nullopt; },
                             [&](BatchOutcome o) { late = Cat(o.error, "@", o.base_offset); }));
  EXPECT_EQ(late, "");
  Finish(0, 0, 4, 42);
  EXPECT_EQ(late, "0@42");
}

TEST_F(ProducerStatesTest, OnlyTheLastFiveBatchesAreKept) {
  for (int32_t b = 0; b < 7; ++b) {
    ASSERT_EQ(Admit(0, b, b), "append");
    Finish(0, b, b, 100 + b);
  }
  EXPECT_EQ(Admit(0, 6, 6), "E0@106");
  EXPECT_EQ(Admit(0, 0, 0), Err(kDuplicateSequenceNumber));  // older than the cache
}

TEST_F(ProducerStatesTest, EpochRules) {
  EXPECT_EQ(Admit(3, 0, 0), "append");
  Finish(3, 0, 0, 1);
  EXPECT_EQ(Admit(2, 1, 1), Err(kInvalidProducerEpoch));
  EXPECT_EQ(Admit(4, 5, 5), Err(kOutOfOrderSequenceNumber));  // a bump starts at 0
  EXPECT_EQ(Admit(4, 0, 3), "append");
  Finish(4, 0, 3, 2);
  EXPECT_EQ(Admit(3, 1, 1), Err(kInvalidProducerEpoch));
}

TEST_F(ProducerStatesTest, StateComesBackFromTheDurableMarkAfterARestart) {
  // Epoch 1, last sequence 49 made durable before the node restarted.
  EXPECT_EQ(Admit(1, 40, 49, Mark(1, 49)), Err(kDuplicateSequenceNumber));
  EXPECT_EQ(Admit(1, 50, 59), "append");
}

TEST_F(ProducerStatesTest, WithoutHistoryAnySequenceIsAccepted) {
  EXPECT_EQ(Admit(0, 123, 130), "append");
  Finish(0, 123, 130, 5);
  EXPECT_EQ(Admit(0, 131, 131), "append");
}

TEST_F(ProducerStatesTest, AFailedAppendForgetsTheProducer) {
  EXPECT_EQ(Admit(0, 0, 0), "append");
  states_.Finish("t", BatchSeq{7, 0, 0, 0}, absl::UnavailableError("wal failed"));
  EXPECT_EQ(Admit(0, 0, 0), "append");  // the retry is written: it never was
}

}  // namespace
}  // namespace nobus::kafka

namespace nobus::kafka {
namespace {

TEST(ProducerStatesExpiryTest, IdleStatesAreDroppedAndTheDurableMarkTakesOver) {
  int64_t now = 0;
  ProducerStates states(/*idle_expiry_ms=*/600'000, [&] { return now; });
  auto admit = [&](int64_t pid, int32_t first, int32_t last, std::optional<int64_t> durable) {
    std::string answer;
    bool append = states.Admit("t-0", BatchSeq{pid, 0, first, last}, [&] { return durable; },
                               [&](BatchOutcome o) { answer = Cat("E", o.error); });
    return append ? std::string("append") : answer;
  };
  ASSERT_EQ(admit(1, 0, 9, std::nullopt), "append");
  states.Finish("t-0", BatchSeq{1, 0, 0, 9}, 100);
  ASSERT_EQ(admit(2, 0, 9, std::nullopt), "append");  // pid 2 stays pending
  now = 300'000;
  ASSERT_EQ(admit(3, 0, 0, std::nullopt), "append");
  states.Finish("t-0", BatchSeq{3, 0, 0, 0}, 200);
  EXPECT_EQ(states.size(), 3u);  // nothing idle long enough yet
  now = 700'000;                 // pid 1 idle 700 s; pid 3 idle 400 s; pid 2 pending
  ASSERT_EQ(admit(4, 0, 0, std::nullopt), "append");
  EXPECT_EQ(states.size(), 3u);  // pid 1 dropped, pid 4 added
  // pid 1 again: its state comes back from the durable mark (epoch 0, last sequence 9).
  EXPECT_EQ(admit(1, 0, 9, Mark(0, 9)), Cat("E", static_cast<int>(kDuplicateSequenceNumber)));
  EXPECT_EQ(admit(1, 10, 19, Mark(0, 9)), "append");
}

}  // namespace
}  // namespace nobus::kafka
