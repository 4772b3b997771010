// SDK recovery against FakeZerobus: every retriable end of a call is survived with all records
// durable in order; every non-retriable one fails the stream with the server's message and the
// unacknowledged records; timeouts, close signals and protocol errors.
#include <atomic>

#include "fake_test_util.h"

namespace nobus::client::testing {
namespace {

StreamOptions OneRequestPerMessage() {
  StreamOptions options = FastOptions();
  options.coalesce_records = false;
  return options;
}

TEST(RecoveryFakeTest, DropMidStreamResendsUnackedInOrder) {
  FakeZerobus server;
  CallScript fail;
  fail.fail_after = 5;
  server.PushScript(fail);
  std::unique_ptr<Stream> stream = OpenStream(server, OneRequestPerMessage());
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 20));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 20));
  ASSERT_GE(server.calls(), 2);
  CallLog second = server.call(1);
  ASSERT_FALSE(second.requests.empty());
  EXPECT_EQ(second.requests[0].ingest_record().offset_id(), 0);       // physical restarts at 0
  EXPECT_EQ(second.requests[0].ingest_record().json_record(), Json(4));  // the first unacked
  StreamStats stats = stream->Stats();
  EXPECT_EQ(stats.durable_offset, 19);
  EXPECT_EQ(stats.reconnects, 1);
  EXPECT_GE(stats.requests_resent, 1);
}

TEST(RecoveryFakeTest, RepeatedDropsWithProgressNeverExhaustRetries) {
  FakeZerobus server;
  CallScript fail;
  fail.fail_after = 50;
  for (int i = 0; i < 5; ++i) server.PushScript(fail);
  StreamOptions options = OneRequestPerMessage();
  options.recovery_retries = 1;  // enough, because every call makes progress
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 300));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 300));
  EXPECT_GE(server.calls(), 6);
}

class RetriableCodeTest : public ::testing::TestWithParam<grpc::StatusCode> {};

TEST_P(RetriableCodeTest, CallEndingWithCodeIsRetried) {
  FakeZerobus server;
  CallScript fail;
  fail.fail_after = 2;
  fail.fail_status = grpc::Status(GetParam(), GetParam() == grpc::StatusCode::OK ? "" : "boom");
  server.PushScript(fail);
  std::unique_ptr<Stream> stream = OpenStream(server, OneRequestPerMessage());
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 4));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 4));
  EXPECT_EQ(server.calls(), 2);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, RetriableCodeTest,
    ::testing::Values(grpc::StatusCode::UNAVAILABLE, grpc::StatusCode::RESOURCE_EXHAUSTED,
                      grpc::StatusCode::ABORTED, grpc::StatusCode::INTERNAL,
                      grpc::StatusCode::DEADLINE_EXCEEDED, grpc::StatusCode::CANCELLED,
                      grpc::StatusCode::UNKNOWN, grpc::StatusCode::OK));

class NonRetriableCodeTest : public ::testing::TestWithParam<grpc::StatusCode> {};

TEST_P(NonRetriableCodeTest, CallEndingWithCodeFailsTheStreamWithTheServersMessage) {
  FakeZerobus server;
  CallScript fail;
  fail.fail_after = 3;
  fail.fail_status = grpc::Status(GetParam(), "record 2: column 'id': expected BIGINT");
  server.PushScript(fail);
  std::atomic<int> failures{0};
  StreamOptions options = OneRequestPerMessage();
  options.failure_callback = [&](const absl::Status&) { ++failures; };
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  // The server fails the call on the third request, maybe before records 3 and 4 are ingested.
  const int ingested = IngestUntilFailure(stream.get(), JsonRange(0, 5));
  ASSERT_GE(ingested, 3);  // the server saw three requests
  absl::Status flushed = stream->Flush();
  EXPECT_EQ(static_cast<int>(flushed.code()), static_cast<int>(GetParam()));
  EXPECT_TRUE(IsNonRetriable(flushed));
  EXPECT_EQ(flushed.message(), "record 2: column 'id': expected BIGINT");
  EXPECT_EQ(stream->GetUnackedRecords(), JsonRange(2, ingested));
  std::vector<UnackedBatch> batches = stream->GetUnackedBatches();
  ASSERT_EQ(batches.size(), static_cast<size_t>(ingested - 2));
  EXPECT_EQ(batches[0].offset, 2);
  absl::StatusOr<int64_t> late = stream->Ingest(Json(9));
  EXPECT_EQ(late.status(), flushed);
  EXPECT_EQ(stream->Close(), flushed);
  EXPECT_EQ(server.calls(), 1);
  ASSERT_TRUE(server.WaitForEndedCalls(1));
  stream.reset();  // the failure callback runs on the SDK thread, joined here
  EXPECT_EQ(failures.load(), 1);
}

INSTANTIATE_TEST_SUITE_P(
    Codes, NonRetriableCodeTest,
    ::testing::Values(grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::NOT_FOUND,
                      grpc::StatusCode::UNAUTHENTICATED, grpc::StatusCode::OUT_OF_RANGE,
                      grpc::StatusCode::PERMISSION_DENIED, grpc::StatusCode::UNIMPLEMENTED));

TEST(RecoveryFakeTest, CreateRefusedNonRetriablyFailsAtOnce) {
  FakeZerobus server;
  CallScript refuse;
  refuse.create_status = grpc::Status(grpc::StatusCode::NOT_FOUND, "table 'c.s.t' does not exist");
  server.SetDefaultScript(refuse);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(server.endpoint());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::unique_ptr<Stream>> stream =
      (*client)->CreateStream(TableProperties::Json("c.s.t"), FastOptions());
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsNonRetriable(stream.status()));
  EXPECT_EQ(stream.status().message(), "table 'c.s.t' does not exist");
  EXPECT_EQ(server.calls(), 1);
}

TEST(RecoveryFakeTest, CreateRefusedRetriablyGivesUpAfterTheRetries) {
  FakeZerobus server;
  CallScript refuse;
  refuse.create_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "starting up");
  server.SetDefaultScript(refuse);
  StreamOptions options = FastOptions();
  options.recovery_retries = 2;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(server.endpoint());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::unique_ptr<Stream>> stream =
      (*client)->CreateStream(TableProperties::Json("c.s.t"), options);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsNonRetriable(stream.status()));
  EXPECT_NE(stream.status().message().find("starting up"), absl::string_view::npos);
  EXPECT_EQ(server.calls(), 3);
}

TEST(RecoveryFakeTest, RecoveryOffFailsRetriablyAndRecreateStreamResends) {
  FakeZerobus server;
  CallScript fail;
  fail.fail_after = 2;
  server.PushScript(fail);
  StreamOptions options = OneRequestPerMessage();
  options.recovery = false;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  // The call fails on the second request, maybe before record 2 is ingested.
  const int ingested = IngestUntilFailure(stream.get(), JsonRange(0, 3));
  ASSERT_GE(ingested, 2);
  absl::Status flushed = stream->Flush();
  EXPECT_EQ(flushed.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsNonRetriable(flushed));
  EXPECT_EQ(stream->GetUnackedRecords(), JsonRange(1, ingested));
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(server.endpoint());
  ASSERT_TRUE(client.ok());
  absl::StatusOr<std::unique_ptr<Stream>> again = (*client)->RecreateStream(*stream);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE((*again)->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, ingested));
}

TEST(RecoveryFakeTest, CloseSignalThenServerEndReconnectsWithoutUsingRetries) {
  FakeZerobus server;
  CallScript rotate;
  rotate.close_signal_after = 3;
  rotate.end_after_signal = true;
  server.PushScript(rotate);
  StreamOptions options = OneRequestPerMessage();
  options.recovery_retries = 0;  // a rotation is not a failure
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 10));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 10));
  EXPECT_EQ(server.calls(), 2);
  EXPECT_TRUE(stream->status().ok());
}

TEST(RecoveryFakeTest, CloseSignalClientHalfClosesOnceInFlightIsAcked) {
  FakeZerobus server;
  CallScript rotate;
  rotate.close_signal_after = 3;
  rotate.end_after_signal = false;  // the server waits for the client's half-close
  server.PushScript(rotate);
  StreamOptions options = OneRequestPerMessage();
  options.recovery_retries = 0;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 10));
  ASSERT_TRUE(stream->Flush().ok());
  ASSERT_TRUE(server.WaitForEndedCalls(1));
  EXPECT_TRUE(server.call(0).half_closed);
  IngestAll(stream.get(), JsonRange(10, 15), 10);
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 15));
  EXPECT_EQ(server.calls(), 2);
  EXPECT_TRUE(stream->status().ok());
}

TEST(RecoveryFakeTest, MissingAcksTimeOutAndResend) {
  FakeZerobus server;
  CallScript silent;
  silent.ack = false;
  server.PushScript(silent);
  StreamOptions options = FastOptions();
  options.server_lack_of_ack_timeout_ms = 200;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 3));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 3));
  EXPECT_EQ(server.calls(), 2);
}

TEST(RecoveryFakeTest, MissingCreateResponseTimesOutAndRetries) {
  FakeZerobus server;
  CallScript mute;
  mute.no_create_response = true;
  server.PushScript(mute);
  StreamOptions options = FastOptions();
  options.recovery_timeout_ms = 200;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(server.calls(), 2);
  IngestAll(stream.get(), JsonRange(0, 2));
  ASSERT_TRUE(stream->Flush().ok());
}

TEST(RecoveryFakeTest, AckOfAnUnsentOffsetIsAProtocolErrorAndRecovers) {
  FakeZerobus server;
  CallScript bogus;
  bogus.bogus_ack = 7;
  server.PushScript(bogus);
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  ASSERT_TRUE(server.WaitForEndedCalls(1));
  IngestAll(stream.get(), JsonRange(0, 2));
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 2));
  EXPECT_EQ(server.calls(), 2);
}

TEST(RecoveryFakeTest, ServerGoneForGoodFailsRetriablyWithRecordsKept) {
  auto server = std::make_unique<FakeZerobus>();
  CallScript hold;
  hold.ack = false;
  server->SetDefaultScript(hold);
  StreamOptions options = OneRequestPerMessage();
  options.recovery_retries = 2;
  options.server_lack_of_ack_timeout_ms = 600'000;
  std::unique_ptr<Stream> stream = OpenStream(*server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 2));
  ASSERT_TRUE(server->WaitForRequests(2));
  server.reset();  // the call is cancelled and nothing listens any more
  absl::Status status = stream->Flush();
  EXPECT_FALSE(status.ok());
  EXPECT_FALSE(IsNonRetriable(status)) << status;
  EXPECT_NE(status.message().find("recovery gave up"), absl::string_view::npos) << status;
  EXPECT_EQ(stream->GetUnackedRecords(), JsonRange(0, 2));
}

}  // namespace
}  // namespace nobus::client::testing
