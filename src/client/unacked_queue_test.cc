#include "client/unacked_queue.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace nobus::client {
namespace {

int64_t AddRecords(UnackedQueue* queue, const std::vector<std::string>& records, bool batch) {
  size_t size = 0;
  for (const std::string& r : records) size += EncodedRecordSize(r.size());
  char* out = nullptr;
  int64_t offset = queue->Append(size, static_cast<uint32_t>(records.size()), batch, &out);
  for (const std::string& r : records) {
    out = PutRecordHeader(out, r.size());
    std::memcpy(out, r.data(), r.size());
    out += r.size();
  }
  return offset;
}

int64_t Add(UnackedQueue* queue, const std::string& record) {
  return AddRecords(queue, {record}, false);
}

std::vector<std::string> Records(const WireMessage& message) {
  std::vector<std::string> out;
  for (const RecordSpan& run : message.runs) {
    absl::StatusOr<std::vector<std::string>> records = DecodeRecords(run.data(), run.size);
    EXPECT_TRUE(records.ok()) << records.status();
    if (records.ok()) out.insert(out.end(), records->begin(), records->end());
  }
  return out;
}

TEST(UnackedQueueTest, LogicalOffsetsStartAtZero) {
  UnackedQueue queue;
  EXPECT_EQ(queue.durable_offset(), -1);
  EXPECT_EQ(Add(&queue, "a"), 0);
  EXPECT_EQ(AddRecords(&queue, {"b", "c"}, true), 1);
  EXPECT_EQ(Add(&queue, "d"), 2);
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.bytes(), 3 * 3 + 3);
}

TEST(UnackedQueueTest, CoalescesAdjacentRequestsIntoOneRun) {
  UnackedQueue queue;
  for (int i = 0; i < 3; ++i) Add(&queue, "r" + std::to_string(i));
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 0);
  EXPECT_EQ(message.requests, 3u);
  EXPECT_FALSE(message.single_record);
  EXPECT_EQ(message.runs.size(), 1u);
  EXPECT_EQ(Records(message), (std::vector<std::string>{"r0", "r1", "r2"}));
  EXPECT_FALSE(queue.TakeNext(true, 1 << 20, &message));
}

TEST(UnackedQueueTest, CoalescingStopsAtTheByteLimit) {
  UnackedQueue queue;
  for (int i = 0; i < 5; ++i) Add(&queue, std::string(8, 'x'));  // 10 bytes each encoded
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 25, &message));
  EXPECT_EQ(message.requests, 2u);
  ASSERT_TRUE(queue.TakeNext(true, 25, &message));
  EXPECT_EQ(message.physical_offset, 1);
  EXPECT_EQ(message.requests, 2u);
  ASSERT_TRUE(queue.TakeNext(true, 5, &message));  // larger than the limit alone: still sent
  EXPECT_EQ(message.requests, 1u);
}

TEST(UnackedQueueTest, WithoutCoalescingEachRequestIsItsOwnMessage) {
  UnackedQueue queue;
  Add(&queue, "a");
  AddRecords(&queue, {"b"}, true);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_TRUE(message.single_record);
  EXPECT_EQ(message.requests, 1u);
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_FALSE(message.single_record);  // IngestBatch stays a batch even with one record
  EXPECT_EQ(message.physical_offset, 1);
}

TEST(UnackedQueueTest, RunsSplitAcrossChunks) {
  UnackedQueue queue(64);
  for (int i = 0; i < 6; ++i) Add(&queue, std::string(10, 'a' + i));  // 12 bytes each
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  EXPECT_EQ(message.requests, 6u);
  EXPECT_EQ(message.runs.size(), 2u);  // 5 fit in the first 64-byte chunk
  std::vector<std::string> records = Records(message);
  ASSERT_EQ(records.size(), 6u);
  EXPECT_EQ(records[5], std::string(10, 'f'));
}

TEST(UnackedQueueTest, AckMapsPhysicalToLogicalAndFreesDurableRequests) {
  UnackedQueue queue;
  for (int i = 0; i < 4; ++i) Add(&queue, "x");
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));  // p0 = {0}
  // p1 = {1, 2}
  ASSERT_TRUE(queue.TakeNext(true, 2 * EncodedRecordSize(1), &message));
  ASSERT_EQ(message.requests, 2u);
  absl::StatusOr<AckResult> acked = queue.Ack(1);
  ASSERT_TRUE(acked.ok()) << acked.status();
  EXPECT_EQ(acked->durable_offset, 2);
  EXPECT_EQ(acked->requests, 3);
  EXPECT_EQ(queue.durable_offset(), 2);
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.bytes(), 3);
  EXPECT_EQ(queue.messages_in_flight(), 0);
  EXPECT_EQ(queue.next_offset(), 4);
}

TEST(UnackedQueueTest, RepeatedAckChangesNothing) {
  UnackedQueue queue;
  Add(&queue, "x");
  Add(&queue, "y");
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.Ack(1).ok());
  absl::StatusOr<AckResult> again = queue.Ack(0);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->requests, 0);
  EXPECT_EQ(again->durable_offset, 1);
}

TEST(UnackedQueueTest, AckOfAnOffsetNeverSentIsAnError) {
  UnackedQueue queue;
  Add(&queue, "x");
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  absl::StatusOr<AckResult> acked = queue.Ack(1);
  EXPECT_EQ(acked.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(queue.durable_offset(), -1);
}

TEST(UnackedQueueTest, NewCallResendsEverythingUnackedFromPhysicalZero) {
  UnackedQueue queue;
  for (int i = 0; i < 5; ++i) Add(&queue, "r" + std::to_string(i));
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.Ack(0).ok());  // r0 durable; r1, r2 sent, unacked
  EXPECT_EQ(queue.StartCall(), 2);
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 0);
  EXPECT_EQ(Records(message), (std::vector<std::string>{"r1", "r2", "r3", "r4"}));
  absl::StatusOr<AckResult> acked = queue.Ack(0);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->durable_offset, 4);  // logical offsets are kept across calls
  EXPECT_EQ(queue.size(), 0u);
}

TEST(UnackedQueueTest, CopyUnackedKeepsOffsetsAndBatches) {
  UnackedQueue queue;
  Add(&queue, "a");
  AddRecords(&queue, {"b", "c"}, true);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.Ack(0).ok());
  std::vector<UnackedQueue::Unacked> unacked = queue.CopyUnacked();
  ASSERT_EQ(unacked.size(), 1u);
  EXPECT_EQ(unacked[0].offset, 1);
  EXPECT_TRUE(unacked[0].batch);
  EXPECT_EQ(unacked[0].records, (std::vector<std::string>{"b", "c"}));
}

// Persistent streams: logical offsets on the wire and reconciliation with the server's durable
// offset at every resume.
TEST(UnackedQueueTest, ResumeAdoptsTheServersOffsetOnAFreshQueue) {
  UnackedQueue queue;
  queue.StartCall(/*logical_offsets=*/true);
  absl::StatusOr<AckResult> resumed = queue.Resume(41, /*adopt=*/true);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->requests, 0);
  EXPECT_EQ(queue.durable_offset(), 41);
  EXPECT_EQ(Add(&queue, "next"), 42);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 42);
  ASSERT_TRUE(queue.Ack(42).ok());
  EXPECT_EQ(queue.durable_offset(), 42);
}

TEST(UnackedQueueTest, ResumeAcknowledgesWhatTheServerHasAndResendsTheRestUnderTheirOffsets) {
  UnackedQueue queue;
  queue.StartCall(true);
  for (int i = 0; i < 5; ++i) Add(&queue, "r" + std::to_string(i));
  WireMessage message;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
    EXPECT_EQ(message.physical_offset, i);  // logical offsets on the wire
  }
  ASSERT_TRUE(queue.Ack(0).ok());
  // The call breaks; r1 and r2 became durable without an ack reaching us.
  EXPECT_EQ(queue.StartCall(true), 3);
  absl::StatusOr<AckResult> resumed = queue.Resume(2, /*adopt=*/false);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->requests, 2);
  EXPECT_EQ(resumed->records, 2);
  EXPECT_EQ(resumed->durable_offset, 2);
  EXPECT_EQ(queue.size(), 2u);
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 3);
  EXPECT_EQ(Records(message), std::vector<std::string>{"r3"});
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 4);
  EXPECT_EQ(queue.Ack(5).status().code(), absl::StatusCode::kInternal);  // never sent
  absl::StatusOr<AckResult> acked = queue.Ack(4);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->durable_offset, 4);
  EXPECT_EQ(queue.size(), 0u);
}

TEST(UnackedQueueTest, ResumeWithNothingDurableResendsEverything) {
  UnackedQueue queue;
  queue.StartCall(true);
  for (int i = 0; i < 3; ++i) Add(&queue, "r" + std::to_string(i));
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  queue.StartCall(true);
  absl::StatusOr<AckResult> resumed = queue.Resume(-1, false);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(resumed->requests, 0);
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 0);
  EXPECT_EQ(Records(message), std::vector<std::string>{"r0"});
}

TEST(UnackedQueueTest, ResumeContradictingTheQueueIsAnError) {
  UnackedQueue queue;
  queue.StartCall(true);
  for (int i = 0; i < 4; ++i) Add(&queue, "r");
  WireMessage message;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  ASSERT_TRUE(queue.Ack(1).ok());
  queue.StartCall(true);
  // Below what the server acknowledged: it lost records.
  EXPECT_EQ(queue.Resume(0, false).status().code(), absl::StatusCode::kDataLoss);
  // At or past the next offset: someone else wrote the stream.
  EXPECT_EQ(queue.Resume(4, false).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(queue.durable_offset(), 1);
  absl::StatusOr<AckResult> all = queue.Resume(3, false);  // everything queued is durable
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->requests, 2);
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_EQ(Add(&queue, "more"), 4);
}

TEST(UnackedQueueTest, DecodeRecordsRejectsGarbage) {
  const char bad_tag[] = {0x12, 0x01, 'x'};
  EXPECT_FALSE(DecodeRecords(bad_tag, sizeof(bad_tag)).ok());
  const char too_long[] = {0x0a, 0x05, 'x'};
  EXPECT_FALSE(DecodeRecords(too_long, sizeof(too_long)).ok());
  const char empty_record[] = {0x0a, 0x00};
  absl::StatusOr<std::vector<std::string>> records = DecodeRecords(empty_record, 2);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{""});
}

}  // namespace
}  // namespace nobus::client
