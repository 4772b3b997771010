// PROTO streams: a DescriptorProto built with libprotobuf, records encoded with DynamicMessage.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

namespace pb = ::google::protobuf;
using FDP = pb::FieldDescriptorProto;

constexpr const char* kTable = "main.default.protos";

void AddField(pb::DescriptorProto* d, const char* name, int number, FDP::Type type,
              FDP::Label label, const char* type_name = nullptr) {
  FDP* f = d->add_field();
  f->set_name(name);
  f->set_number(number);
  f->set_type(type);
  f->set_label(label);
  if (type_name != nullptr) f->set_type_name(type_name);
}

// message Event { required int64 id = 1; optional string msg = 2; optional double score = 3;
//   repeated string tags = 4; optional Inner inner = 5; optional int32 day = 6;
//   message Inner { optional int32 a = 1; } }
pb::DescriptorProto EventDescriptor() {
  pb::DescriptorProto d;
  d.set_name("Event");
  AddField(&d, "id", 1, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  AddField(&d, "msg", 2, FDP::TYPE_STRING, FDP::LABEL_OPTIONAL);
  AddField(&d, "score", 3, FDP::TYPE_DOUBLE, FDP::LABEL_OPTIONAL);
  AddField(&d, "tags", 4, FDP::TYPE_STRING, FDP::LABEL_REPEATED);
  AddField(&d, "inner", 5, FDP::TYPE_MESSAGE, FDP::LABEL_OPTIONAL, ".Event.Inner");
  AddField(&d, "day", 6, FDP::TYPE_INT32, FDP::LABEL_OPTIONAL);
  pb::DescriptorProto* inner = d.add_nested_type();
  inner->set_name("Inner");
  AddField(inner, "a", 1, FDP::TYPE_INT32, FDP::LABEL_OPTIONAL);
  return d;
}

class ProtoStreamTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeTable(kTable,
              "id BIGINT NOT NULL, msg STRING, score DOUBLE, tags ARRAY<STRING>, "
              "inner STRUCT<a: INT>, day DATE");
    pb::FileDescriptorProto file;
    file.set_name("event.proto");
    *file.add_message_type() = EventDescriptor();
    const pb::FileDescriptor* fd = pool_.BuildFile(file);
    ASSERT_NE(fd, nullptr);
    event_ = fd->message_type(0);
  }

  std::string Encode(int64_t id) {
    std::unique_ptr<pb::Message> m(factory_.GetPrototype(event_)->New());
    const pb::Reflection* r = m->GetReflection();
    r->SetInt64(m.get(), event_->FindFieldByName("id"), id);
    r->SetString(m.get(), event_->FindFieldByName("msg"), Cat("m", id));
    r->SetDouble(m.get(), event_->FindFieldByName("score"), id * 0.5);
    r->AddString(m.get(), event_->FindFieldByName("tags"), "t");
    pb::Message* inner = r->MutableMessage(m.get(), event_->FindFieldByName("inner"));
    inner->GetReflection()->SetInt32(inner, inner->GetDescriptor()->FindFieldByName("a"),
                                     static_cast<int32_t>(id));
    r->SetInt32(m.get(), event_->FindFieldByName("day"), 20000);
    return m->SerializeAsString();
  }

  static std::string ExpectedRow(int64_t id) {
    std::string score = Cat(id / 2, id % 2 == 0 ? ".0" : ".5");  // id * 0.5 as DuckDB prints it
    return Cat("{\"id\":", id, ",\"msg\":\"m", id, "\",\"score\":", score,
               ",\"tags\":[\"t\"],\"inner\":{\"a\":", id, "},\"day\":\"2024-10-04\"}");
  }

  pb::DescriptorPool pool_;
  pb::DynamicMessageFactory factory_;
  const pb::Descriptor* event_ = nullptr;
};

TEST_F(ProtoStreamTest, RecordsAndBatchesLandInTheTable) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::PROTO, EventDescriptor().SerializeAsString()).empty());
  ASSERT_TRUE(s.Send(ProtoRecord(0, Encode(1))));
  ASSERT_TRUE(s.Send(ProtoBatch(1, {Encode(2), Encode(3)})));
  ASSERT_TRUE(s.WaitForAck(1)) << s.Finish().error_message();
  EXPECT_TRUE(s.CloseAndFinish().ok());
  std::vector<std::string> rows = StopAndReadRows(kTable);
  std::vector<std::string> expected = {ExpectedRow(1), ExpectedRow(2), ExpectedRow(3)};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(rows, expected);
}

TEST_F(ProtoStreamTest, AbsentRecordTypeMeansProto) {
  TestStream s(stub_.get());
  s.WaitForHeaders();
  zb::EphemeralStreamRequest create;
  create.mutable_create_stream()->set_table_name(kTable);
  create.mutable_create_stream()->set_descriptor_proto(EventDescriptor().SerializeAsString());
  ASSERT_TRUE(s.Send(create));
  ASSERT_TRUE(s.Send(ProtoRecord(0, Encode(7))));
  ASSERT_TRUE(s.WaitForAck(0)) << s.Finish().error_message();
  EXPECT_TRUE(s.CloseAndFinish().ok());
}

TEST_F(ProtoStreamTest, DescriptorThatDoesNotMatchIsInvalidArgument) {
  pb::DescriptorProto d = EventDescriptor();
  d.mutable_field(0)->set_type(FDP::TYPE_STRING);  // id: string, but the column is BIGINT
  TestStream s(stub_.get());
  EXPECT_TRUE(s.Create(kTable, zb::PROTO, d.SerializeAsString()).empty());
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("descriptor_proto does not match table"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("id"), std::string::npos) << status.error_message();
  EXPECT_TRUE(Healthy());
}

TEST_F(ProtoStreamTest, MissingDescriptorIsInvalidArgument) {
  TestStream s(stub_.get());
  EXPECT_TRUE(s.Create(kTable, zb::PROTO).empty());
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("descriptor_proto is required"), std::string::npos);
}

TEST_F(ProtoStreamTest, UndecodableRecordIsInvalidArgument) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::PROTO, EventDescriptor().SerializeAsString()).empty());
  ASSERT_TRUE(s.Send(ProtoRecord(0, Encode(1))));
  ASSERT_TRUE(s.Send(ProtoBatch(1, {Encode(2), std::string("\x08", 1)})));  // truncated varint
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("record 1 of the batch at offset 1"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(s.last_ack(), 0);  // the request before the bad one is still acked
  EXPECT_EQ(StopAndReadRows(kTable), std::vector<std::string>{ExpectedRow(1)});
}

}  // namespace
}  // namespace nobus::server::testing
