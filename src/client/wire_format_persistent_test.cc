// The PersistentStream framing: records framed by hand under PersistentStreamRequest's field
// numbers parse back (and equal protobuf's own bytes), the first requests (create, resume) and
// every PersistentStreamResponse payload round-trip through ServerMessage.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "client/wire_format.h"
#include "client/wire_test_util.h"

namespace nobus::client {
namespace {

using testing::Add;

zb::PersistentStreamRequest Parse(const std::string& bytes) { return testing::Parse<zb::PersistentStreamRequest>(bytes); }

std::string Bytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes;
}

TEST(PersistentWireTest, RecordsCarryTheirLogicalOffsetUnderPersistentFieldNumbers) {
  UnackedQueue queue;
  // A resumed stream whose server had offsets up to 299 durable: the next one is 300.
  queue.StartCall(/*logical_offsets=*/true);
  ASSERT_TRUE(queue.Resume(299, /*adopt=*/true).ok());
  Add(&queue, {"x"}, false);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(message.physical_offset, 300);
  std::string bytes = FrameRequestToString(message, RecordFormat::kJson, Rpc::kPersistent);
  zb::PersistentStreamRequest request = Parse(bytes);
  ASSERT_TRUE(request.has_ingest_record());
  EXPECT_EQ(request.ingest_record().offset_id(), 300);
  EXPECT_EQ(request.ingest_record().json_record(), "x");
  EXPECT_EQ(bytes, request.SerializeAsString());
}

TEST(PersistentWireTest, BatchesAreIngestRecordBatch) {
  UnackedQueue queue;
  Add(&queue, {"a", "", "c"}, true);
  queue.StartCall(true);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  for (RecordFormat format : {RecordFormat::kJson, RecordFormat::kProto}) {
    std::string bytes = FrameRequestToString(message, format, Rpc::kPersistent);
    zb::PersistentStreamRequest request = Parse(bytes);
    ASSERT_TRUE(request.has_ingest_record_batch());
    EXPECT_EQ(request.ingest_record_batch().offset_id(), 0);
    const auto& records = format == RecordFormat::kJson
                              ? request.ingest_record_batch().json_batch().records()
                              : request.ingest_record_batch().proto_encoded_batch().records();
    EXPECT_EQ(std::vector<std::string>(records.begin(), records.end()),
              (std::vector<std::string>{"a", "", "c"}));
    EXPECT_EQ(bytes, request.SerializeAsString());
    EXPECT_EQ(Bytes(FrameRequest(message, format, Rpc::kPersistent)), bytes);
  }
}

TEST(PersistentWireTest, FirstRequestCreatesOrResumes) {
  zb::PersistentStreamRequest create =
      Parse(Bytes(PersistentFirstRequest(TableProperties::Json("a.b.c"), "")));
  ASSERT_TRUE(create.has_create_stream());
  EXPECT_EQ(create.create_stream().create_stream().table_name(), "a.b.c");
  EXPECT_EQ(create.create_stream().create_stream().record_type(), zb::JSON);

  TableProperties proto{"a.b.c", RecordFormat::kProto, "descriptor bytes"};
  zb::PersistentStreamRequest resume = Parse(Bytes(PersistentFirstRequest(proto, "a.b.c/1/ff")));
  ASSERT_TRUE(resume.has_resume_stream());
  EXPECT_EQ(resume.resume_stream().stream_id(), "a.b.c/1/ff");
  EXPECT_EQ(resume.resume_stream().record_type(), zb::PROTO);
  EXPECT_EQ(resume.resume_stream().descriptor_proto(), "descriptor bytes");
}

ServerMessage ParsePersistent(const zb::PersistentStreamResponse& response) {
  ServerMessage m;
  EXPECT_TRUE(ParseResponseBytes(response.SerializeAsString(), Rpc::kPersistent, &m).ok());
  return m;
}

TEST(PersistentWireTest, ParsesEveryResponsePayload) {
  zb::PersistentStreamResponse r;
  r.mutable_create_stream_response()->set_stream_id("t/1/aa");
  ServerMessage m = ParsePersistent(r);
  EXPECT_EQ(m.kind, ServerMessage::Kind::kCreated);
  EXPECT_EQ(m.stream_id, "t/1/aa");

  r.Clear();
  r.mutable_resume_stream_response();  // nothing durable yet: the offset is absent
  m = ParsePersistent(r);
  EXPECT_EQ(m.kind, ServerMessage::Kind::kResumed);
  EXPECT_FALSE(m.offset.has_value());
  r.mutable_resume_stream_response()->set_last_committed_offset(0);
  EXPECT_EQ(ParsePersistent(r).offset, 0);

  r.Clear();
  r.mutable_ingest_record_response()->set_durability_ack_up_to_offset(7);
  m = ParsePersistent(r);
  EXPECT_EQ(m.kind, ServerMessage::Kind::kAck);
  EXPECT_EQ(m.offset, 7);

  r.Clear();
  r.mutable_close_stream_signal()->mutable_duration()->set_seconds(3);
  m = ParsePersistent(r);
  EXPECT_EQ(m.kind, ServerMessage::Kind::kCloseSignal);
  EXPECT_EQ(m.duration_ms, 3000);

  r.Clear();
  r.mutable_commit_ack()->set_committed_up_to_offset(12);
  r.mutable_commit_ack()->set_table_version(5);
  m = ParsePersistent(r);
  EXPECT_EQ(m.kind, ServerMessage::Kind::kCommitAck);
  EXPECT_EQ(m.offset, 12);
  EXPECT_EQ(m.table_version, 5);

  EXPECT_EQ(ParsePersistent(zb::PersistentStreamResponse()).kind, ServerMessage::Kind::kOther);
}

TEST(PersistentWireTest, EphemeralAndPersistentTagsDiffer) {
  // The same bytes mean different payloads on the two RPCs: field 3 is ingest_record_batch on
  // EphemeralStream and ingest_record on PersistentStream.
  UnackedQueue queue;
  Add(&queue, {"r"}, false);
  WireMessage message;
  ASSERT_TRUE(queue.TakeNext(false, 1 << 20, &message));
  EXPECT_EQ(FrameRequestToString(message, RecordFormat::kJson, Rpc::kEphemeral)[0], '\x12');
  EXPECT_EQ(FrameRequestToString(message, RecordFormat::kJson, Rpc::kPersistent)[0], '\x1a');
  ServerMessage m;
  zb::PersistentStreamResponse garbage_for_ephemeral;
  garbage_for_ephemeral.mutable_commit_ack()->set_committed_up_to_offset(1);
  ASSERT_TRUE(ParseResponseBytes(garbage_for_ephemeral.SerializeAsString(), Rpc::kEphemeral, &m)
                  .ok());
  EXPECT_EQ(m.kind, ServerMessage::Kind::kOther);  // an unknown field there
}

}  // namespace
}  // namespace nobus::client
