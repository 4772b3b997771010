// SDK behaviour against FakeZerobus when nothing fails: offsets, durability, batches, close,
// headers, protobuf streams, callbacks, backpressure and concurrency.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "fake_test_util.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/text_format.h"

namespace nobus::client::testing {
namespace {

TEST(StreamFakeTest, RecordsAndBatchesBecomeDurableInOrder) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  std::vector<std::string> expected;
  int64_t next = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<std::string> singles = JsonRange(round * 100, round * 100 + 10);
    IngestAll(stream.get(), singles, next);
    next += 10;
    expected.insert(expected.end(), singles.begin(), singles.end());
    std::vector<std::string> batch = JsonRange(round * 100 + 50, round * 100 + 55);
    absl::StatusOr<int64_t> offset = stream->IngestBatch(batch);
    ASSERT_TRUE(offset.ok()) << offset.status();
    EXPECT_EQ(*offset, next++);
    expected.insert(expected.end(), batch.begin(), batch.end());
  }
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), expected);
  StreamStats stats = stream->Stats();
  EXPECT_EQ(stats.durable_offset, next - 1);
  EXPECT_EQ(stats.records_durable, static_cast<int64_t>(expected.size()));
  EXPECT_EQ(stats.inflight_requests, 0);
  EXPECT_EQ(stats.inflight_bytes, 0);
}

TEST(StreamFakeTest, WaitForOffsetReturnsOnceDurable) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  absl::StatusOr<int64_t> offset = stream->Ingest(Json(1));
  ASSERT_TRUE(offset.ok());
  ASSERT_TRUE(stream->WaitForOffset(*offset).ok());
  EXPECT_GE(stream->Stats().durable_offset, *offset);
  absl::Status unknown = stream->WaitForOffset(*offset + 1);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsNonRetriable(unknown));
}

TEST(StreamFakeTest, CloseHalfClosesAndRefusesNewRecords) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 5));
  ASSERT_TRUE(stream->Close().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 5));
  ASSERT_TRUE(server.WaitForEndedCalls(1));
  EXPECT_TRUE(server.call(0).half_closed);
  absl::StatusOr<int64_t> late = stream->Ingest(Json(6));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(IsNonRetriable(late.status()));
  EXPECT_TRUE(stream->Close().ok());
}

TEST(StreamFakeTest, HeadersAndCreateStreamReachTheServer) {
  FakeZerobus server;
  StreamOptions options = FastOptions();
  options.headers_provider = BearerTokenHeaders("secret-token", "c.s.t");
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  CallLog log = server.call(0);
  auto header = [&](const std::string& key) {
    auto it = log.headers.find(key);
    return it == log.headers.end() ? std::string("<missing>") : it->second;
  };
  EXPECT_EQ(header("authorization"), "Bearer secret-token");
  EXPECT_EQ(header("x-databricks-zerobus-table-name"), "c.s.t");
  EXPECT_EQ(header("x-zerobus-sdk").rfind("nobus-cpp/", 0), 0u) << header("x-zerobus-sdk");
  EXPECT_EQ(log.headers.count("x-databricks-zerobus-table-name"), 1u);
  EXPECT_EQ(log.create.table_name(), "c.s.t");
  EXPECT_EQ(log.create.record_type(), zb::JSON);
  EXPECT_EQ(stream->stream_id(), "fake-0");
}

TEST(StreamFakeTest, WithoutProviderTheTableHeaderIsStillSent) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  CallLog log = server.call(0);
  ASSERT_EQ(log.headers.count("x-databricks-zerobus-table-name"), 1u);
  EXPECT_EQ(log.headers.find("x-databricks-zerobus-table-name")->second, "c.s.t");
  EXPECT_EQ(log.headers.count("authorization"), 0u);
}

TEST(StreamFakeTest, IngestBatchIsOneBatchMessage) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  std::vector<std::string_view> views = {"{\"a\":1}", "{\"a\":2}", "{\"a\":3}"};
  ASSERT_TRUE(stream->IngestBatch(views).ok());
  ASSERT_TRUE(stream->Flush().ok());
  CallLog log = server.call(0);
  ASSERT_EQ(log.requests.size(), 1u);
  ASSERT_TRUE(log.requests[0].has_ingest_record_batch());
  EXPECT_EQ(log.requests[0].ingest_record_batch().json_batch().records_size(), 3);
  absl::StatusOr<int64_t> empty = stream->IngestBatch(std::vector<std::string>());
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StreamFakeTest, WithoutCoalescingEachRecordIsAnIngestRecord) {
  FakeZerobus server;
  StreamOptions options = FastOptions();
  options.coalesce_records = false;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 50));
  ASSERT_TRUE(stream->Flush().ok());
  CallLog log = server.call(0);
  ASSERT_EQ(log.requests.size(), 50u);
  for (size_t i = 0; i < log.requests.size(); ++i) {
    ASSERT_TRUE(log.requests[i].has_ingest_record());
    EXPECT_EQ(log.requests[i].ingest_record().offset_id(), static_cast<int64_t>(i));
  }
}

TEST(StreamFakeTest, ProtoStreamSendsDescriptorAndMessages) {
  google::protobuf::FileDescriptorProto file;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(name: "row.proto" package: "t" syntax: "proto2"
           message_type {
             name: "Row"
             field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
             field { name: "msg" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING }
           })pb",
      &file));
  google::protobuf::DescriptorPool pool;
  ASSERT_NE(pool.BuildFile(file), nullptr);
  const google::protobuf::Descriptor* row = pool.FindMessageTypeByName("t.Row");
  google::protobuf::DynamicMessageFactory factory(&pool);
  FakeZerobus server;
  std::unique_ptr<Stream> stream =
      OpenStream(server, FastOptions(), TableProperties::Proto("c.s.t", row));
  ASSERT_NE(stream, nullptr);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(row)->New());
    message->GetReflection()->SetInt64(message.get(), row->FindFieldByName("id"), i);
    message->GetReflection()->SetString(message.get(), row->FindFieldByName("msg"), "hi");
    expected.push_back(message->SerializeAsString());
    ASSERT_TRUE(stream->IngestMessage(*message).ok());
  }
  ASSERT_TRUE(stream->Ingest(expected.back()).ok());
  expected.push_back(expected.back());
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), expected);
  CallLog log = server.call(0);
  EXPECT_EQ(log.create.record_type(), zb::PROTO);
  google::protobuf::DescriptorProto sent;
  ASSERT_TRUE(sent.ParseFromString(log.create.descriptor_proto()));
  EXPECT_EQ(sent.name(), "Row");
  EXPECT_EQ(sent.field_size(), 2);
}

TEST(StreamFakeTest, AckCallbackSeesEveryRequestInOrder) {
  FakeZerobus server;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<AckEvent> events;
  int64_t records = 0;
  StreamOptions options = FastOptions();
  options.ack_callback = [&](const AckEvent& event) {
    std::lock_guard lock(mu);
    events.push_back(event);
    records += event.records;
    cv.notify_all();
  };
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 200));
  ASSERT_TRUE(stream->IngestBatch(JsonRange(200, 210)).ok());
  ASSERT_TRUE(stream->Flush().ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return records == 210; }));
  int64_t requests = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    requests += events[i].requests;
    if (i > 0) {
      EXPECT_GT(events[i].durable_offset, events[i - 1].durable_offset);
      EXPECT_GE(events[i].time, events[i - 1].time);
    }
  }
  EXPECT_EQ(requests, 201);
  EXPECT_EQ(events.back().durable_offset, 200);
}

TEST(StreamFakeTest, FullWindowFailsFastWithResourceExhausted) {
  FakeZerobus server;
  CallScript hold;
  hold.ack = false;
  server.SetDefaultScript(hold);
  StreamOptions options = FastOptions();
  options.max_inflight_requests = 4;
  options.server_lack_of_ack_timeout_ms = 600'000;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 4));
  absl::StatusOr<int64_t> full = stream->Ingest(Json(4), WhenFull::kFailFast);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(IsNonRetriable(full.status()));
  EXPECT_EQ(stream->Stats().inflight_requests, 4);
  server.ReleaseAcks();
  ASSERT_TRUE(stream->Flush().ok());
  absl::StatusOr<int64_t> later = stream->Ingest(Json(4), WhenFull::kFailFast);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(*later, 4);
}

TEST(StreamFakeTest, FullWindowBlocksUntilAcknowledged) {
  FakeZerobus server;
  CallScript hold;
  hold.ack = false;
  server.SetDefaultScript(hold);
  StreamOptions options = FastOptions();
  options.max_inflight_requests = 2;
  options.coalesce_records = false;
  options.server_lack_of_ack_timeout_ms = 600'000;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 2));
  std::atomic<bool> done{false};
  absl::StatusOr<int64_t> blocked_offset;
  std::thread blocked([&] {
    blocked_offset = stream->Ingest(Json(2));
    done = true;
  });
  ASSERT_TRUE(server.WaitForRequests(2));
  // No acknowledgement has been sent, so there cannot be room yet.
  EXPECT_FALSE(done.load());
  server.ReleaseAcks();
  blocked.join();
  ASSERT_TRUE(blocked_offset.ok()) << blocked_offset.status();
  EXPECT_EQ(*blocked_offset, 2);
  ASSERT_TRUE(stream->Flush().ok());
  EXPECT_EQ(server.durable(), JsonRange(0, 3));
}

TEST(StreamFakeTest, InflightBytesNeverExceedTheLimit) {
  FakeZerobus server;
  StreamOptions options = FastOptions();
  options.max_inflight_bytes = 10'000;
  options.max_message_bytes = 1'000;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::string record(200, static_cast<char>('a' + t));
      for (int i = 0; i < 500; ++i) ASSERT_TRUE(stream->Ingest(record).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(stream->Flush().ok());
  StreamStats stats = stream->Stats();
  EXPECT_EQ(stats.records_durable, 2000);
  EXPECT_GT(stats.max_inflight_bytes_seen, 0);
  EXPECT_LE(stats.max_inflight_bytes_seen, 10'000);
  absl::StatusOr<int64_t> too_big = stream->Ingest(std::string(1'000, 'x'));
  EXPECT_EQ(too_big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsNonRetriable(too_big.status()));
}

TEST(StreamFakeTest, ConcurrentIngestKeepsEachThreadsOrder) {
  FakeZerobus server;
  std::unique_ptr<Stream> stream = OpenStream(server);
  ASSERT_NE(stream, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  std::vector<std::vector<int64_t>> offsets(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<int64_t> offset =
            stream->Ingest("t" + std::to_string(t) + "-" + std::to_string(i));
        ASSERT_TRUE(offset.ok());
        offsets[t].push_back(*offset);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(stream->Flush().ok());
  std::set<int64_t> all;
  for (const auto& v : offsets) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(*all.rbegin(), kThreads * kPerThread - 1);
  std::vector<int> next(kThreads, 0);
  std::vector<std::string> durable = server.durable();
  ASSERT_EQ(durable.size(), static_cast<size_t>(kThreads * kPerThread));
  for (const std::string& record : durable) {
    int t = std::stoi(record.substr(1));
    int i = std::stoi(record.substr(record.find('-') + 1));
    EXPECT_EQ(i, next[t]++) << record;
  }
}

TEST(StreamFakeTest, FlushTimesOutRetriablyWhileAcksAreHeld) {
  FakeZerobus server;
  CallScript hold;
  hold.ack = false;
  server.SetDefaultScript(hold);
  StreamOptions options = FastOptions();
  options.flush_timeout_ms = 100;
  options.server_lack_of_ack_timeout_ms = 600'000;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 3));
  absl::Status flushed = stream->Flush();
  EXPECT_EQ(flushed.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(IsNonRetriable(flushed));
  EXPECT_EQ(stream->GetUnackedRecords(), JsonRange(0, 3));
  EXPECT_TRUE(stream->status().ok());
}

TEST(StreamFakeTest, DestroyingAnOpenStreamEndsTheCall) {
  FakeZerobus server;
  CallScript hold;
  hold.ack = false;
  server.SetDefaultScript(hold);
  StreamOptions options = FastOptions();
  options.server_lack_of_ack_timeout_ms = 600'000;
  std::unique_ptr<Stream> stream = OpenStream(server, options);
  ASSERT_NE(stream, nullptr);
  IngestAll(stream.get(), JsonRange(0, 3));
  stream.reset();
  EXPECT_TRUE(server.WaitForEndedCalls(1));
}

}  // namespace
}  // namespace nobus::client::testing
