// Every bad-input case of the Zerobus stream protocol, each with its status code and message;
// after each, a witness stream opened before the error keeps working and the server stays up.
#include <google/protobuf/io/coded_stream.h>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";

class BadInputTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeTable(kTable, "id BIGINT NOT NULL, msg STRING");
    witness_stub_ = server_->NewStub();
    witness_ = std::make_unique<TestStream>(witness_stub_.get());
    ASSERT_FALSE(witness_->Create(kTable, zb::JSON).empty());
    WitnessSends();
  }

  // The witness stream ingests one more record and gets its ack.
  void WitnessSends() {
    ASSERT_TRUE(witness_->Send(JsonRecord(witness_offset_, R"({"id": -1})")));
    ASSERT_TRUE(witness_->WaitForAck(witness_offset_));
    ++witness_offset_;
  }

  void TearDown() override {
    if (witness_ == nullptr || server_ == nullptr) return;
    WitnessSends();
    EXPECT_TRUE(Healthy());
    EXPECT_TRUE(witness_->CloseAndFinish().ok());
  }

  // Opens a JSON stream, sends `requests`, and checks the call ends with `code` and a message
  // containing `text`.
  void ExpectFailure(const std::vector<zb::EphemeralStreamRequest>& requests, grpc::StatusCode code,
                     const std::string& text,
                     const std::map<std::string, std::string>& headers = {}) {
    TestStream s(stub_.get(), {.headers = headers});
    s.WaitForHeaders();
    for (const auto& r : requests) {
      if (!s.Send(r)) break;
    }
    grpc::Status status = s.Finish();
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(text), std::string::npos) << status.error_message();
  }

  static zb::EphemeralStreamRequest Create(const std::string& table,
                                           zb::RecordType type = zb::JSON) {
    zb::EphemeralStreamRequest r;
    r.mutable_create_stream()->set_table_name(table);
    r.mutable_create_stream()->set_record_type(type);
    return r;
  }

  std::unique_ptr<zb::Zerobus::Stub> witness_stub_;
  std::unique_ptr<TestStream> witness_;
  int64_t witness_offset_ = 0;
};

TEST_F(BadInputTest, MalformedJsonRecord) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"id": 1,)")}, grpc::StatusCode::INVALID_ARGUMENT,
                "record at offset 0");
}

TEST_F(BadInputTest, WrongTypeNamesTheColumn) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"id": "abc"})")},
                grpc::StatusCode::INVALID_ARGUMENT, "column 'id'");
}

TEST_F(BadInputTest, MissingNotNullColumn) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"msg": "x"})")},
                grpc::StatusCode::INVALID_ARGUMENT, "'id'");
}

TEST_F(BadInputTest, UnknownColumn) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"id": 1, "nope": 2})")},
                grpc::StatusCode::INVALID_ARGUMENT, "nope");
}

TEST_F(BadInputTest, UnknownTableIsNotFound) {
  ExpectFailure({Create("main.default.missing")}, grpc::StatusCode::NOT_FOUND,
                "'main.default.missing' does not exist");
}

TEST_F(BadInputTest, BadTableName) {
  ExpectFailure({Create("main.events")}, grpc::StatusCode::INVALID_ARGUMENT, "three parts");
  ExpectFailure({Create("main.default.ev-ents")}, grpc::StatusCode::INVALID_ARGUMENT, "ev-ents");
}

TEST_F(BadInputTest, OffsetGap) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"id": 1})"), JsonRecord(5, R"({"id": 2})")},
                grpc::StatusCode::INVALID_ARGUMENT, "expected 1, got 5");
}

TEST_F(BadInputTest, OffsetReuse) {
  ExpectFailure({Create(kTable), JsonRecord(0, R"({"id": 1})"), JsonRecord(0, R"({"id": 2})")},
                grpc::StatusCode::INVALID_ARGUMENT, "expected 1, got 0");
}

TEST_F(BadInputTest, FirstOffsetMustBeZero) {
  ExpectFailure({Create(kTable), JsonBatch(1, {R"({"id": 1})"})},
                grpc::StatusCode::INVALID_ARGUMENT, "expected 0, got 1");
}

TEST_F(BadInputTest, MissingOffset) {
  zb::EphemeralStreamRequest r;
  r.mutable_ingest_record()->set_json_record(R"({"id": 1})");
  ExpectFailure({Create(kTable), r}, grpc::StatusCode::INVALID_ARGUMENT, "offset_id is required");
}

TEST_F(BadInputTest, RecordsBeforeCreateStream) {
  ExpectFailure({JsonRecord(0, R"({"id": 1})")}, grpc::StatusCode::INVALID_ARGUMENT,
                "expected create_stream as the first message");
}

TEST_F(BadInputTest, SecondCreateStream) {
  ExpectFailure({Create(kTable), Create(kTable)}, grpc::StatusCode::INVALID_ARGUMENT,
                "create_stream may only be sent once");
}

TEST_F(BadInputTest, UnspecifiedRecordType) {
  ExpectFailure({Create(kTable, zb::RECORD_TYPE_UNSPECIFIED)}, grpc::StatusCode::INVALID_ARGUMENT,
                "RECORD_TYPE_UNSPECIFIED");
}

TEST_F(BadInputTest, UnknownRecordTypeFromANewerSdk) {
  // record_type = 4 (AVRO upstream): a proto2 closed enum keeps it as an unknown field.
  zb::CreateIngestStreamRequest create;
  create.set_table_name(kTable);
  std::string bytes = create.SerializeAsString();
  bytes += std::string("\x20\x04", 2);  // field 4, varint 4
  zb::EphemeralStreamRequest r;
  ASSERT_TRUE(r.mutable_create_stream()->ParseFromString(bytes));
  ASSERT_FALSE(r.create_stream().has_record_type());
  ExpectFailure({r}, grpc::StatusCode::INVALID_ARGUMENT, "record_type 4 is not supported");
}

TEST_F(BadInputTest, RecordKindNotMatchingStreamType) {
  ExpectFailure({Create(kTable), ProtoRecord(0, "\x08\x01")}, grpc::StatusCode::INVALID_ARGUMENT,
                "proto_encoded_record but the stream's record_type is JSON");
}

TEST_F(BadInputTest, TableHeaderMismatch) {
  ExpectFailure({Create(kTable)}, grpc::StatusCode::INVALID_ARGUMENT,
                "x-databricks-zerobus-table-name",
                {{"x-databricks-zerobus-table-name", "main.default.other"}});
}

TEST_F(BadInputTest, MatchingTableHeaderIsAccepted) {
  TestStream s(stub_.get(),
               {.headers = {{"x-databricks-zerobus-table-name", "MAIN.default.events"}}});
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  EXPECT_TRUE(s.CloseAndFinish().ok());
}

TEST_F(BadInputTest, ResumeByStreamIdIsUnimplemented) {
  zb::EphemeralStreamRequest r = Create(kTable);
  r.mutable_create_stream()->set_stream_id("00000000-0000-4000-8000-000000000000");
  ExpectFailure({r}, grpc::StatusCode::UNIMPLEMENTED, "stream_id");
}

TEST_F(BadInputTest, BadRecordInBatchMakesNothingOfTheBatchDurable) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, R"({"id": 1})")));
  ASSERT_TRUE(s.Send(JsonBatch(1, {R"({"id": 2})", R"({"id": 3})", R"({"id": "x"})"})));
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("record 2 of the batch at offset 1: column 'id'"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(s.last_ack(), 0);
  WitnessSends();
  witness_->CloseAndFinish();
  witness_.reset();
  std::vector<std::string> rows = StopAndReadRows(kTable);
  EXPECT_EQ(rows, (std::vector<std::string>{R"({"id":-1,"msg":null})", R"({"id":-1,"msg":null})",
                                            R"({"id":1,"msg":null})"}));
}

class MessageSizeTest : public BadInputTest {
 protected:
  void SetUp() override {
    StartServer(R"({"max_message_bytes": 65536})");
    MakeTable(kTable, "id BIGINT NOT NULL, msg STRING");
    witness_stub_ = server_->NewStub();
    witness_ = std::make_unique<TestStream>(witness_stub_.get());
    ASSERT_FALSE(witness_->Create(kTable, zb::JSON).empty());
    WitnessSends();
  }
};

TEST_F(MessageSizeTest, OversizeMessageIsInvalidArgument) {
  std::string big = Cat(R"({"id": 1, "msg": ")", std::string(100000, 'x'), R"("})");
  ExpectFailure({Create(kTable), JsonRecord(0, big)}, grpc::StatusCode::INVALID_ARGUMENT,
                "exceeds the server's limit of 65536 bytes");
}

TEST_F(MessageSizeTest, MessageBeyondTheHardLimitIsResourceExhaustedFromGrpc) {
  // Above ServerConfig::grpc_hard_limit_bytes() gRPC itself rejects the message before nobus
  // sees it; doc/server.md "Message size" documents this.
  std::string huge = Cat(R"({"id": 1, "msg": ")", std::string(5 << 20, 'x'), R"("})");
  ExpectFailure({Create(kTable), JsonRecord(0, huge)}, grpc::StatusCode::RESOURCE_EXHAUSTED, "");
}

TEST_F(MessageSizeTest, OversizeRestBodyIsRequestLimitExceeded) {
  std::string big = Cat(R"([{"id": 1, "msg": ")", std::string(100000, 'x'), R"("}])");
  HttpReply r = HttpCall(*server_, "POST", "/zerobus/v1/tables/main.default.events/insert", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body["error_code"], "REQUEST_LIMIT_EXCEEDED");
  EXPECT_NE(r.body["message"].get<std::string>().find("65536"), std::string::npos);
}

TEST_F(MessageSizeTest, MessageJustUnderTheLimitIsAccepted) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(
      s.Send(JsonRecord(0, Cat(R"({"id": 1, "msg": ")", std::string(60000, 'x'), R"("})"))));
  ASSERT_TRUE(s.WaitForAck(0)) << s.Finish().error_message();
  EXPECT_TRUE(s.CloseAndFinish().ok());
}

}  // namespace
}  // namespace nobus::server::testing
