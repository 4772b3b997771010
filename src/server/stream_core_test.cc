#include "server/stream_core.h"
#include "server/stream_registry.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace nobus::server {
namespace {

class FakeOps : public StreamOps {
 public:
  void IssueRead() override { ++reads; }
  void IssueWrite(const StreamMessage& m) override { writes.push_back(m); }
  void IssueFinish(grpc::Status s) override { finished.push_back(s); }

  int reads = 0;
  std::vector<StreamMessage> writes;
  std::vector<grpc::Status> finished;
};

int64_t AckOf(const StreamMessage& m) {
  return m.kind == StreamMessage::Kind::kAck ? m.offset.value_or(-200) : -100;
}

class StreamCoreTest : public ::testing::Test {
 protected:
  StreamCoreTest() : core_(&ops_, 1000) {}
  // Opens the stream: first read, create_stream_response written and completed.
  void Open() {
    core_.Start();
    core_.ReadArrived();
    core_.MarkOpened();
    core_.Send(StreamMessage{.kind = StreamMessage::Kind::kCreated, .stream_id = "s"});
    core_.ReadProcessed(true);
    core_.OnWriteDone(true);
  }
  // One request read and handed to the WAL.
  void Request(int64_t offset, int64_t bytes) {
    core_.ReadArrived();
    core_.BeginRequest(offset, bytes);
    core_.ReadProcessed(true);
  }

  FakeOps ops_;
  StreamCore core_;
};

TEST_F(StreamCoreTest, StartIssuesFirstRead) {
  core_.Start();
  EXPECT_EQ(ops_.reads, 1);
  EXPECT_TRUE(ops_.writes.empty());
}

TEST_F(StreamCoreTest, KeepsReadingWhileRequestsAreInFlight) {
  Open();
  Request(0, 10);
  Request(1, 10);
  EXPECT_EQ(ops_.reads, 4);  // create, 0, 1, and the next one is pending
  EXPECT_EQ(ops_.writes.size(), 1u);
}

TEST_F(StreamCoreTest, AcksAreCoalescedWhileAWriteIsOutstanding) {
  Open();
  for (int i = 0; i < 3; ++i) Request(i, 10);
  core_.CompleteRequest(0, 10, absl::OkStatus());
  ASSERT_EQ(ops_.writes.size(), 2u);
  EXPECT_EQ(AckOf(ops_.writes[1]), 0);
  core_.CompleteRequest(1, 10, absl::OkStatus());
  core_.CompleteRequest(2, 10, absl::OkStatus());
  EXPECT_EQ(ops_.writes.size(), 2u);  // the ack write of 0 is still outstanding
  core_.OnWriteDone(true);
  ASSERT_EQ(ops_.writes.size(), 3u);
  EXPECT_EQ(AckOf(ops_.writes[2]), 2);
  core_.OnWriteDone(true);
  EXPECT_EQ(ops_.writes.size(), 3u);
  EXPECT_EQ(core_.acked_up_to(), 2);
}

TEST_F(StreamCoreTest, AckWaitsForLowerOffsets) {
  Open();
  Request(0, 10);
  Request(1, 10);
  core_.CompleteRequest(1, 10, absl::OkStatus());
  EXPECT_EQ(ops_.writes.size(), 1u);
  core_.CompleteRequest(0, 10, absl::OkStatus());
  ASSERT_EQ(ops_.writes.size(), 2u);
  EXPECT_EQ(AckOf(ops_.writes[1]), 1);
}

TEST_F(StreamCoreTest, HalfCloseFinishesOkAfterAllAcks) {
  Open();
  Request(0, 10);
  core_.ReadArrived();
  core_.ReadProcessed(false);  // client half-closed
  EXPECT_TRUE(ops_.finished.empty());
  core_.CompleteRequest(0, 10, absl::OkStatus());
  EXPECT_TRUE(ops_.finished.empty());  // the ack is being written
  core_.OnWriteDone(true);
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_TRUE(ops_.finished[0].ok());
  EXPECT_EQ(AckOf(ops_.writes.back()), 0);
}

TEST_F(StreamCoreTest, FailureEndsAfterInFlightAcksAndStopsReading) {
  Open();
  Request(0, 10);
  core_.ReadArrived();
  core_.Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad record"));
  core_.ReadProcessed(true);
  int reads = ops_.reads;
  EXPECT_FALSE(core_.accepting());
  EXPECT_TRUE(ops_.finished.empty());
  core_.CompleteRequest(0, 10, absl::OkStatus());
  core_.OnWriteDone(true);
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ops_.reads, reads);
  EXPECT_EQ(AckOf(ops_.writes.back()), 0);
}

TEST_F(StreamCoreTest, FirstFailureWins) {
  Open();
  core_.Fail(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "first"));
  core_.Fail(grpc::Status(grpc::StatusCode::NOT_FOUND, "second"));
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_message(), "first");
}

TEST_F(StreamCoreTest, CancelFinishesAtOnceAndLateCallbacksAreHarmless) {
  Open();
  Request(0, 10);
  core_.OnCancel();
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_code(), grpc::StatusCode::CANCELLED);
  core_.Detach();
  core_.CompleteRequest(0, 10, absl::OkStatus());  // after OnDone: must not issue anything
  EXPECT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.writes.size(), 1u);
}

TEST_F(StreamCoreTest, CancelWaitsForOutstandingWrite) {
  Open();
  Request(0, 10);
  core_.CompleteRequest(0, 10, absl::OkStatus());  // ack write outstanding
  core_.OnCancel();
  EXPECT_TRUE(ops_.finished.empty());
  core_.OnWriteDone(false);
  ASSERT_EQ(ops_.finished.size(), 1u);
}

TEST_F(StreamCoreTest, InFlightBytesLimitPausesReading) {
  Open();
  EXPECT_EQ(ops_.reads, 2);
  Request(0, 600);
  EXPECT_EQ(ops_.reads, 3);
  Request(1, 600);  // 1200 bytes in flight > 1000: reading pauses
  EXPECT_EQ(ops_.reads, 3);
  core_.CompleteRequest(0, 600, absl::OkStatus());
  EXPECT_EQ(ops_.reads, 4);
}

TEST_F(StreamCoreTest, OversizeRequestResumesReadingOnceDurable) {
  Open();
  Request(0, 5000);
  EXPECT_EQ(ops_.reads, 2);
  core_.CompleteRequest(0, 5000, absl::OkStatus());
  EXPECT_EQ(ops_.reads, 3);
}

TEST_F(StreamCoreTest, CloseSignalsThenEndsUnavailableAfterAcks) {
  Open();
  Request(0, 10);
  core_.Close(5000);
  ASSERT_EQ(ops_.writes.size(), 2u);
  ASSERT_EQ(ops_.writes[1].kind, StreamMessage::Kind::kClose);
  EXPECT_EQ(ops_.writes[1].duration_ms, 5000);
  core_.OnWriteDone(true);
  EXPECT_TRUE(ops_.finished.empty());
  core_.CompleteRequest(0, 10, absl::OkStatus());
  core_.OnWriteDone(true);
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(AckOf(ops_.writes.back()), 0);
}

TEST_F(StreamCoreTest, CloseBeforeOpenSendsNoSignal) {
  core_.Start();
  core_.Close(1000);
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(ops_.writes.empty());
}

TEST_F(StreamCoreTest, DurabilityErrorEndsUnavailableWithoutAck) {
  Open();
  Request(0, 10);
  core_.CompleteRequest(0, 10, absl::DataLossError("fsync failed"));
  ASSERT_EQ(ops_.finished.size(), 1u);
  EXPECT_EQ(ops_.finished[0].error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(ops_.finished[0].error_message().find("fsync failed"), std::string::npos);
  EXPECT_EQ(core_.acked_up_to(), -1);
}

TEST_F(StreamCoreTest, FinishWaitsForReadBeingProcessed) {
  Open();
  core_.ReadArrived();
  core_.OnCancel();
  EXPECT_TRUE(ops_.finished.empty());
  core_.ReadProcessed(true);
  EXPECT_EQ(ops_.finished.size(), 1u);
}

TEST_F(StreamCoreTest, PersistentStreamContinuesAfterItsDurableOffset) {
  core_.StartAt(41);  // offsets 0..41 are durable from earlier calls
  Open();
  EXPECT_EQ(ops_.writes.size(), 1u);  // no ack for offsets this call never received
  Request(42, 10);
  core_.CompleteRequest(42, 10, absl::OkStatus());
  ASSERT_EQ(ops_.writes.size(), 2u);
  EXPECT_EQ(AckOf(ops_.writes[1]), 42);
}

TEST_F(StreamCoreTest, ResentOffsetsAreAckedUpToWhatWasResent) {
  core_.StartAt(9);
  Open();
  core_.ReadArrived();
  core_.Duplicate(3);  // a resend below the durable offset: acked at once, up to 3 only
  core_.ReadProcessed(true);
  ASSERT_EQ(ops_.writes.size(), 2u);
  EXPECT_EQ(AckOf(ops_.writes[1]), 3);
  core_.OnWriteDone(true);
  core_.ReadArrived();
  core_.Duplicate(9);
  core_.ReadProcessed(true);
  ASSERT_EQ(ops_.writes.size(), 3u);
  EXPECT_EQ(AckOf(ops_.writes[2]), 9);
  core_.OnWriteDone(true);
  core_.ReadArrived();
  core_.Duplicate(5);  // already covered by ack 9: answered by repeating it
  core_.ReadProcessed(true);
  ASSERT_EQ(ops_.writes.size(), 4u);
  EXPECT_EQ(AckOf(ops_.writes[3]), 9);
}

TEST_F(StreamCoreTest, WaitIdleReturnsOnceInFlightRequestsComplete) {
  Open();
  Request(0, 10);
  EXPECT_FALSE(core_.WaitIdle(10));
  std::thread durable([&] { core_.CompleteRequest(0, 10, absl::OkStatus()); });
  EXPECT_TRUE(core_.WaitIdle(60'000));
  durable.join();
}

}  // namespace
}  // namespace nobus::server

namespace nobus::server {
namespace {

TEST(StreamRegistryGapTest, AResumeIsRefusedUntilTheGapFillsOrTheHoldEnds) {
  StreamRegistry registry;
  const int64_t t = 1'000'000;
  EXPECT_TRUE(registry.CheckGap("s", 5, t).ok());  // no gap noted
  registry.NoteGap("s", 5, t);
  absl::Status refused = registry.CheckGap("s", 5, t + 100);
  EXPECT_TRUE(absl::IsUnavailable(refused)) << refused;
  EXPECT_NE(refused.message().find("after offset 5"), std::string_view::npos) << refused;
  EXPECT_TRUE(absl::IsUnavailable(registry.CheckGap("s", std::nullopt, t + 100)));
  EXPECT_TRUE(registry.CheckGap("other", 5, t + 100).ok());
  EXPECT_TRUE(registry.CheckGap("s", 9, t + 200).ok());  // the old node committed: filled
  EXPECT_TRUE(registry.CheckGap("s", 5, t + 300).ok());  // and forgotten
  registry.NoteGap("s", 5, t);
  EXPECT_TRUE(registry.CheckGap("s", 5, t + StreamRegistry::kGapHoldMs + 1).ok());  // held long enough
  registry.NoteGap("s", -1, t);  // nothing of it committed anywhere yet
  EXPECT_NE(registry.CheckGap("s", std::nullopt, t).message().find("from its first offset"),
            std::string_view::npos);
}

}  // namespace
}  // namespace nobus::server
