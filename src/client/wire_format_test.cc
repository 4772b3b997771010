#include "client/wire_format.h"
#include "client/wire_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace nobus::client {
namespace {

using testing::Add;

zb::EphemeralStreamRequest Parse(const std::string& bytes) { return testing::Parse<zb::EphemeralStreamRequest>(bytes); }

// Skips `n` messages so the next one gets physical offset n.
void Burn(UnackedQueue* queue, int n) {
  WireMessage message;
  for (int i = 0; i < n; ++i) {
    Add(queue, {"burn"}, false);
    ASSERT_TRUE(queue->TakeNext(false, 1 << 20, &message));
  }
}

TEST(WireFormatTest, SingleJsonRecordIsAnIngestRecord) {
  UnackedQueue queue;
  Burn(&queue, 300);  // offset 300 needs a two-byte varint
  std::string record(200, 'j');
  Add(&queue, {record}, false);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  std::string bytes = FrameRequestToString(message, RecordFormat::kJson);
  zb::EphemeralStreamRequest request = Parse(bytes);
  ASSERT_TRUE(request.has_ingest_record());
  EXPECT_EQ(request.ingest_record().offset_id(), 300);
  EXPECT_EQ(request.ingest_record().json_record(), record);
  EXPECT_EQ(bytes, request.SerializeAsString());  // byte for byte what protobuf writes
}

TEST(WireFormatTest, SingleProtoRecordUsesProtoEncodedRecord) {
  UnackedQueue queue;
  Add(&queue, {std::string("\x08\x01", 2)}, false);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  zb::EphemeralStreamRequest request =
      Parse(FrameRequestToString(message, RecordFormat::kProto));
  ASSERT_TRUE(request.has_ingest_record());
  EXPECT_EQ(request.ingest_record().offset_id(), 0);
  EXPECT_EQ(request.ingest_record().proto_encoded_record(), std::string("\x08\x01", 2));
}

TEST(WireFormatTest, CoalescedRequestsAcrossChunksAreOneBatch) {
  UnackedQueue queue(64);
  std::vector<std::string> expected;
  for (int i = 0; i < 9; ++i) {
    expected.push_back(std::string(10, 'a' + i));
    Add(&queue, {expected.back()}, false);
  }
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  ASSERT_GT(message.runs.size(), 1u);
  zb::EphemeralStreamRequest request = Parse(FrameRequestToString(message, RecordFormat::kJson));
  ASSERT_TRUE(request.has_ingest_record_batch());
  EXPECT_EQ(request.ingest_record_batch().offset_id(), 0);
  ASSERT_TRUE(request.ingest_record_batch().has_json_batch());
  std::vector<std::string> got(request.ingest_record_batch().json_batch().records().begin(),
                               request.ingest_record_batch().json_batch().records().end());
  EXPECT_EQ(got, expected);
}

TEST(WireFormatTest, ProtoBatchUsesProtoEncodedBatch) {
  UnackedQueue queue;
  Add(&queue, {"a", "", "c"}, true);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  zb::EphemeralStreamRequest request =
      Parse(FrameRequestToString(message, RecordFormat::kProto));
  ASSERT_TRUE(request.ingest_record_batch().has_proto_encoded_batch());
  EXPECT_EQ(request.ingest_record_batch().proto_encoded_batch().records_size(), 3);
  EXPECT_EQ(request.ingest_record_batch().proto_encoded_batch().records(1), "");
}

TEST(WireFormatTest, ByteBufferHasTheSameBytesAndReleasesChunks) {
  UnackedQueue queue(64);
  for (int i = 0; i < 8; ++i) Add(&queue, {std::string(10, 'x')}, false);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(true, 1 << 20, &message));
  Chunk* first = message.runs.front().chunk;
  int32_t refs_before = first->refs_for_test();
  std::string dumped;
  {
    grpc::ByteBuffer buffer = FrameRequest(message, RecordFormat::kJson);
    EXPECT_EQ(first->refs_for_test(), refs_before + 1);
    std::vector<grpc::Slice> slices;
    ASSERT_TRUE(buffer.Dump(&slices).ok());
    for (const grpc::Slice& s : slices)
      dumped.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  EXPECT_EQ(first->refs_for_test(), refs_before);
  EXPECT_EQ(dumped, FrameRequestToString(message, RecordFormat::kJson));
}

TEST(WireFormatTest, CreateStreamCarriesTypeAndDescriptor) {
  grpc::ByteBuffer json = CreateStreamRequest(TableProperties::Json("a.b.c"));
  zb::EphemeralStreamRequest request;
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(json.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  ASSERT_TRUE(request.ParseFromString(bytes));
  EXPECT_EQ(request.create_stream().table_name(), "a.b.c");
  EXPECT_EQ(request.create_stream().record_type(), zb::JSON);
  EXPECT_FALSE(request.create_stream().has_descriptor_proto());
}

TEST(WireFormatTest, ParseResponseRejectsGarbage) {
  std::string garbage = "\xff\xff\xff";
  grpc::Slice slice(garbage);
  grpc::ByteBuffer buffer(&slice, 1);
  ServerMessage response;
  EXPECT_FALSE(ParseResponse(&buffer, Rpc::kEphemeral, &response).ok());
}

TEST(WireFormatTest, ParsesEphemeralResponses) {
  zb::EphemeralStreamResponse created;
  created.mutable_create_stream_response()->set_stream_id("s1");
  ServerMessage m;
  ASSERT_TRUE(ParseResponseBytes(created.SerializeAsString(), Rpc::kEphemeral, &m).ok());
  EXPECT_EQ(m.kind, ServerMessage::Kind::kCreated);
  EXPECT_EQ(m.stream_id, "s1");
  zb::EphemeralStreamResponse ack;
  ack.mutable_ingest_record_response()->set_durability_ack_up_to_offset(41);
  ASSERT_TRUE(ParseResponseBytes(ack.SerializeAsString(), Rpc::kEphemeral, &m).ok());
  EXPECT_EQ(m.kind, ServerMessage::Kind::kAck);
  EXPECT_EQ(m.offset, 41);
  zb::EphemeralStreamResponse close;
  close.mutable_close_stream_signal()->mutable_duration()->set_seconds(2);
  close.mutable_close_stream_signal()->mutable_duration()->set_nanos(500'000'000);
  ASSERT_TRUE(ParseResponseBytes(close.SerializeAsString(), Rpc::kEphemeral, &m).ok());
  EXPECT_EQ(m.kind, ServerMessage::Kind::kCloseSignal);
  EXPECT_EQ(m.duration_ms, 2500);
}

}  // namespace
}  // namespace nobus::client
