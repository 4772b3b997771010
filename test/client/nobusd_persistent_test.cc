// Persistent (exactly-once) streams of the SDK against real nobusd processes: a SIGKILLed and
// restarted server, connection resets and the server's close signal mid-stream land every record
// exactly once (the SDK
// resumes the stream id and skips what the server reports durable); a new producer process
// (here: a new Stream object) resumes an id and continues after the server's watermark; a second
// producer fences the first (ABORTED, non-retriable); a retired stream cannot be resumed; commit
// acks report the Delta table version.
#include <atomic>
#include <fstream>

#include "nobusd_fixture.h"
#include "tcp_proxy.h"

namespace nobus::client::testing {
namespace {

using NobusdPersistentTest = NobusdSdkTest;

std::unique_ptr<Client> NewClient(const std::string& endpoint) {
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(endpoint);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// nobusd's nobus_stream_duplicate_requests_total for the test table: requests the SDK sent again
// although the server had them durable (the resume watermark should prevent every one); -1 when
// the metric is missing (it exists, at 0, once a persistent stream of the table opened).
int64_t DuplicateRequests(const Nobusd& server) {
  HttpReply metrics = server::testing::HttpCall(server, "GET", "/metrics");
  const std::string text = metrics.body.contains("raw") ? metrics.body["raw"].get<std::string>()
                                                        : metrics.body.dump();
  const std::string key = Cat("nobus_stream_duplicate_requests_total{table=\"", kTable, "\"} ");
  size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + key.size()));
}

std::unique_ptr<Stream> CreatePersistent(const Client& client, StreamOptions options) {
  absl::StatusOr<std::unique_ptr<Stream>> stream =
      client.CreatePersistentStream(TableProperties::Json(kTable), std::move(options));
  EXPECT_TRUE(stream.ok()) << stream.status();
  return stream.ok() ? *std::move(stream) : nullptr;
}

TEST_F(NobusdPersistentTest, SurvivesSigkillAndRestartExactlyOnce) {
  constexpr int kStreams = 2;
  constexpr int64_t kPerPhase = 3000;
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::vector<std::unique_ptr<Stream>> streams;
  std::vector<std::string> ids;
  for (int s = 0; s < kStreams; ++s) {
    streams.push_back(CreatePersistent(*client, RecoveringOptions()));
    ASSERT_NE(streams.back(), nullptr);
    ASSERT_TRUE(streams.back()->persistent());
    ids.push_back(streams.back()->stream_id());
    EXPECT_NE(ids.back().find(kTable), std::string::npos) << ids.back();
  }
  auto ingest_phase = [&](int64_t phase) {
    std::vector<std::thread> threads;
    for (int s = 0; s < kStreams; ++s) {
      threads.emplace_back([&, s] {
        for (int64_t i = phase * kPerPhase; i < (phase + 1) * kPerPhase; ++i) {
          absl::StatusOr<int64_t> offset = streams[s]->Ingest(Row(s, i, 200));
          ASSERT_TRUE(offset.ok()) << offset.status();
          ASSERT_EQ(*offset, i);  // one request per record: offset = seq
        }
      });
    }
    for (std::thread& t : threads) t.join();
  };
  ingest_phase(0);
  server_->SignalAndWait(SIGKILL);  // requests in flight, some durable without an ack
  std::string grpc = server_->grpc_address(), http = server_->http_address();
  std::thread restart([&] { StartServer(grpc, http); });
  ingest_phase(1);  // queued while the server is down
  restart.join();
  ASSERT_NE(server_, nullptr);
  ingest_phase(2);
  for (int s = 0; s < kStreams; ++s) {
    absl::Status closed = streams[s]->Close();
    ASSERT_TRUE(closed.ok()) << closed << "\n" << server_->Log();
    EXPECT_GE(streams[s]->Stats().reconnects, 1);
    EXPECT_EQ(streams[s]->stream_id(), ids[s]);  // resumed, not recreated
    EXPECT_EQ(streams[s]->Stats().durable_offset, 3 * kPerPhase - 1);
  }
  EXPECT_EQ(DuplicateRequests(*server_), 0);  // of the restarted server
  ExpectLanded(kStreams, 3 * kPerPhase, /*allow_duplicates=*/false);
}

TEST_F(NobusdPersistentTest, ConnectionResetsLandExactlyOnce) {
  absl::StatusOr<std::unique_ptr<TcpProxy>> proxy = TcpProxy::Start(server_->grpc_address());
  ASSERT_TRUE(proxy.ok()) << proxy.status();
  std::unique_ptr<Client> client = NewClient("http://" + (*proxy)->address());
  std::unique_ptr<Stream> stream = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(stream, nullptr);
  IngestThroughResets(stream.get(), proxy->get(), 2000);
  EXPECT_EQ(DuplicateRequests(*server_), 0);
  ExpectLanded(1, 4 * 2000, /*allow_duplicates=*/false);
}

TEST_F(NobusdPersistentTest, CloseSignalResumesTheSameStream) {
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::unique_ptr<Stream> stream = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(stream, nullptr);
  const std::string id = stream->stream_id();
  IngestAcrossCloseAll(stream.get(), *server_, [&] { EXPECT_EQ(stream->stream_id(), id); });
  EXPECT_EQ(DuplicateRequests(*server_), 0);
  ExpectLanded(1, 1500, /*allow_duplicates=*/false);
}

// What an application does after its own crash: read the persisted id, resume, and send the
// records after the watermark (the record for offset i is a pure function of i).
TEST_F(NobusdPersistentTest, ANewProducerResumesAfterTheWatermark) {
  constexpr int64_t kRecords = 2000;
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::string id;
  {
    std::unique_ptr<Stream> first = CreatePersistent(*client, RecoveringOptions());
    ASSERT_NE(first, nullptr);
    EXPECT_EQ(first->resume_watermark(), -1);
    id = first->stream_id();
    for (int64_t i = 0; i < 800; ++i) ASSERT_TRUE(first->Ingest(Row(0, i)).ok());
    ASSERT_TRUE(first->Flush().ok());
    for (int64_t i = 800; i < 1200; ++i) ASSERT_TRUE(first->Ingest(Row(0, i)).ok());
  }  // destroyed without Close: whatever was unacknowledged is dropped here
  absl::StatusOr<std::unique_ptr<Stream>> second =
      client->ResumePersistentStream(TableProperties::Json(kTable), id, RecoveringOptions());
  ASSERT_TRUE(second.ok()) << second.status();
  const int64_t watermark = (*second)->resume_watermark();
  EXPECT_GE(watermark, 799);
  EXPECT_LE(watermark, 1199);
  EXPECT_EQ((*second)->stream_id(), id);
  EXPECT_EQ((*second)->Stats().durable_offset, watermark);
  for (int64_t i = watermark + 1; i < kRecords; ++i) {
    absl::StatusOr<int64_t> offset = (*second)->Ingest(Row(0, i));
    ASSERT_TRUE(offset.ok()) << offset.status();
    ASSERT_EQ(*offset, i);
  }
  ASSERT_TRUE((*second)->WaitForOffset(kRecords - 1).ok());
  ASSERT_TRUE((*second)->Close().ok());
  ExpectLanded(1, kRecords, /*allow_duplicates=*/false);
}

TEST_F(NobusdPersistentTest, ASecondProducerFencesTheFirst) {
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::unique_ptr<Stream> first = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(first, nullptr);
  for (int64_t i = 0; i < 100; ++i) ASSERT_TRUE(first->Ingest(Row(0, i)).ok());
  ASSERT_TRUE(first->Flush().ok());
  absl::StatusOr<std::unique_ptr<Stream>> second = client->ResumePersistentStream(
      TableProperties::Json(kTable), first->stream_id(), RecoveringOptions());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->resume_watermark(), 99);
  absl::Status fenced;
  for (int i = 0; i < 100 && fenced.ok(); ++i) {
    fenced = first->status();
    if (fenced.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(fenced.code(), absl::StatusCode::kAborted) << fenced;
  EXPECT_TRUE(IsNonRetriable(fenced)) << fenced;
  EXPECT_EQ(first->Ingest(Row(0, 100)).status(), fenced);
  EXPECT_EQ(first->Stats().reconnects, 0);  // no attempt to take the stream back
  for (int64_t i = 100; i < 200; ++i) ASSERT_TRUE((*second)->Ingest(Row(0, i)).ok());
  ASSERT_TRUE((*second)->Close().ok());
  ExpectLanded(1, 200, /*allow_duplicates=*/false);
}

TEST_F(NobusdPersistentTest, RetiredStreamsCannotBeResumed) {
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::unique_ptr<Stream> stream = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(stream, nullptr);
  for (int64_t i = 0; i < 10; ++i) ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
  ASSERT_TRUE(stream->Close().ok());
  const std::string id = stream->stream_id();
  absl::Status retired = client->RetireStream(kTable, id);
  ASSERT_TRUE(retired.ok()) << retired;
  EXPECT_TRUE(client->RetireStream(kTable, id).ok());  // idempotent
  absl::StatusOr<std::unique_ptr<Stream>> resumed =
      client->ResumePersistentStream(TableProperties::Json(kTable), id, RecoveringOptions());
  EXPECT_EQ(resumed.status().code(), absl::StatusCode::kFailedPrecondition) << resumed.status();
  EXPECT_TRUE(IsNonRetriable(resumed.status()));
  EXPECT_NE(resumed.status().message().find("retired"), absl::string_view::npos);
  absl::StatusOr<std::unique_ptr<Stream>> malformed = client->ResumePersistentStream(
      TableProperties::Json(kTable), "not-a-stream-id", RecoveringOptions());
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument) << malformed.status();
  EXPECT_TRUE(IsNonRetriable(malformed.status()));
  absl::Status unknown_table = client->RetireStream("main.sdk.missing", id);
  EXPECT_TRUE(IsNonRetriable(unknown_table)) << unknown_table;
  ExpectLanded(1, 10, /*allow_duplicates=*/false);
}

TEST_F(NobusdPersistentTest, CommitAcksReportTheTableVersion) {
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  StreamOptions options = RecoveringOptions();
  options.commit_acks = true;
  std::unique_ptr<Stream> stream = CreatePersistent(*client, options);
  ASSERT_NE(stream, nullptr);
  for (int64_t i = 0; i < 500; ++i) ASSERT_TRUE(stream->Ingest(Row(0, i)).ok());
  absl::StatusOr<int64_t> version = stream->WaitForCommit(499);
  ASSERT_TRUE(version.ok()) << version.status() << "\n" << server_->Log();
  EXPECT_GE(*version, 1);  // version 0 created the table
  EXPECT_GE(stream->Stats().committed_offset, 499);
  // The rows are readable at once: the commit ack comes after the Delta commit.
  absl::StatusOr<std::vector<nlohmann::json>> rows = ReadJsonRows(data_dir_, kTable);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 500u);
  ASSERT_TRUE(stream->Close().ok());
  // Without the option WaitForCommit says so.
  std::unique_ptr<Stream> plain = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(plain, nullptr);
  ASSERT_TRUE(plain->Ingest(Row(1, 0)).ok());
  EXPECT_EQ(plain->WaitForCommit(0).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(plain->Close().ok());
}

// Not a pass/fail test: the single-stream rate of a persistent stream for 1 KB records (one wire
// message per record). Run with --gtest_also_run_disabled_tests --gtest_filter='*Persistent*Rate*'.
TEST_F(NobusdPersistentTest, DISABLED_RateOneStream1KRecords) {
  constexpr int64_t kRecords = 300'000;
  std::unique_ptr<Client> client = NewClient(server_->endpoint());
  std::unique_ptr<Stream> stream = CreatePersistent(*client, RecoveringOptions());
  ASSERT_NE(stream, nullptr);
  std::vector<std::string> rows;
  for (int64_t i = 0; i < 1000; ++i) rows.push_back(Row(0, i, 960));
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < kRecords; ++i) ASSERT_TRUE(stream->Ingest(rows[i % 1000]).ok());
  ASSERT_TRUE(stream->Flush().ok());
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(stream->Close().ok());
  std::printf("persistent: %lld records of %zu bytes in %.2f s: %.0f records/s, %lld wire "
              "messages\n",
              static_cast<long long>(kRecords), rows[0].size(), secs, kRecords / secs,
              static_cast<long long>(stream->Stats().wire_messages_sent));
}

}  // namespace
}  // namespace nobus::client::testing
