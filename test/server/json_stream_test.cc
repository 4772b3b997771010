// JSON streams over gRPC against a real nobusd: single records, batches, pipelining, half-close,
// many concurrent streams, and the rows DuckDB reads back from the Delta tables.
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";

class JsonStreamTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeTable(kTable, "id BIGINT NOT NULL, msg STRING");
  }
};

std::string Row(int64_t id) { return Cat("{\"id\":", id, ",\"msg\":\"m", id, "\"}"); }

// The process's thread count (/proc/PID/status), -1 if unreadable.
int Threads(pid_t pid) {
  std::ifstream status(Cat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  return -1;
}

std::vector<std::string> ExpectedRows(int64_t first, int64_t n) {
  std::vector<std::string> rows;
  for (int64_t i = first; i < first + n; ++i) rows.push_back(Row(i));
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST_F(JsonStreamTest, SingleRecordsAreAckedAndLandInTheTable) {
  TestStream s(stub_.get());
  std::string id = s.Create(kTable, zb::JSON);
  EXPECT_TRUE(
      std::regex_match(id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                      "[0-9a-f]{12}")))
      << id;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(s.Send(JsonRecord(i, Row(i))));
  ASSERT_TRUE(s.WaitForAck(99)) << s.Finish().error_message();
  EXPECT_TRUE(Monotonic(s.acks()));
  EXPECT_TRUE(s.CloseAndFinish().ok());
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, 100));
}

TEST_F(JsonStreamTest, BatchesAreAckedAndLandInTheTable) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  for (int b = 0; b < 10; ++b) {
    std::vector<std::string> records;
    for (int i = 0; i < 50; ++i) records.push_back(Row(b * 50 + i));
    ASSERT_TRUE(s.Send(JsonBatch(b, records)));
  }
  ASSERT_TRUE(s.WaitForAck(9));
  EXPECT_EQ(s.last_ack(), 9);
  EXPECT_TRUE(s.CloseAndFinish().ok());
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, 500));
}

TEST_F(JsonStreamTest, PipelinedAcksAreCumulativeMonotonicAndCoalesced) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  constexpr int kRequests = 2000;
  for (int i = 0; i < kRequests; ++i) ASSERT_TRUE(s.Send(JsonRecord(i, Row(i))));
  ASSERT_TRUE(s.WaitForAck(kRequests - 1));
  EXPECT_TRUE(Monotonic(s.acks()));
  EXPECT_EQ(s.last_ack(), kRequests - 1);
  EXPECT_LE(s.acks().size(), static_cast<size_t>(kRequests));
  EXPECT_TRUE(s.CloseAndFinish().ok());
}

TEST_F(JsonStreamTest, HalfCloseEndsOkAfterEveryAck) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(s.Send(JsonRecord(i, Row(i))));
  grpc::Status status = s.CloseAndFinish();  // no wait for acks before half-closing
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(s.last_ack(), 19);
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, 20));
}

TEST_F(JsonStreamTest, OffsetsRestartAtZeroOnEveryCall) {
  for (int call = 0; call < 2; ++call) {
    TestStream s(stub_.get());
    ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
    ASSERT_TRUE(s.Send(JsonRecord(0, Row(call))));
    ASSERT_TRUE(s.WaitForAck(0));
    EXPECT_TRUE(s.CloseAndFinish().ok());
  }
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, 2));
}

TEST_F(JsonStreamTest, ManyConcurrentStreamsOnManyTables) {
  constexpr int kTables = 6, kStreamsPerTable = 2, kBatches = 30, kBatchSize = 20;
  for (int t = 1; t < kTables; ++t)
    MakeTable(Cat("main.t", t, ".events"), "id BIGINT NOT NULL, msg STRING");
  auto table_name = [](int t) {
    return t == 0 ? std::string(kTable) : Cat("main.t", t, ".events");
  };
  std::vector<std::thread> threads;
  std::vector<int64_t> last_acks(kTables * kStreamsPerTable, -1);
  std::vector<grpc::Status> statuses(last_acks.size());
  for (int t = 0; t < kTables; ++t) {
    for (int k = 0; k < kStreamsPerTable; ++k) {
      int slot = t * kStreamsPerTable + k;
      threads.emplace_back([&, t, k, slot] {
        auto stub = server_->NewStub();
        TestStream s(stub.get(), {.wait_for_ready = true});
        if (s.Create(table_name(t), zb::JSON).empty()) {
          statuses[slot] = s.Finish();
          ADD_FAILURE() << "create_stream failed on stream " << slot << ": "
                        << statuses[slot].error_code() << " " << statuses[slot].error_message();
          return;
        }
        for (int b = 0; b < kBatches; ++b) {
          std::vector<std::string> records;
          for (int i = 0; i < kBatchSize; ++i)
            records.push_back(Row((k * kBatches + b) * kBatchSize + i));
          if (!s.Send(JsonBatch(b, records))) break;
        }
        s.WaitForAck(kBatches - 1);
        last_acks[slot] = s.last_ack();
        statuses[slot] = s.CloseAndFinish();
      });
    }
  }
  for (auto& th : threads) th.join();
  for (size_t i = 0; i < last_acks.size(); ++i) {
    EXPECT_EQ(last_acks[i], kBatches - 1) << "stream " << i;
    EXPECT_TRUE(statuses[i].ok()) << statuses[i].error_message();
  }
  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0);
  for (int t = 0; t < kTables; ++t) {
    auto rows = ReadRows(server_->data_dir(), table_name(t));
    ASSERT_TRUE(rows.ok()) << rows.status();
    EXPECT_EQ(*rows, ExpectedRows(0, kStreamsPerTable * kBatches * kBatchSize)) << table_name(t);
  }
}

TEST_F(JsonStreamTest, FullBuffersHoldStreamsBackAndLoseNothing) {
  // Room for a few requests only: streams wait for commits to free it (backpressure).
  StartServer(R"({"max_buffered_bytes": 2048, "flush_interval_ms": 50})");
  constexpr int kStreams = 4, kBatches = 30, kBatchSize = 20;
  std::vector<std::thread> threads;
  std::vector<int64_t> last_acks(kStreams, -1);
  for (int k = 0; k < kStreams; ++k) {
    threads.emplace_back([&, k] {
      auto stub = server_->NewStub();
      TestStream s(stub.get(), {.wait_for_ready = true});
      if (s.Create(kTable, zb::JSON).empty()) return;
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::string> records;
        for (int i = 0; i < kBatchSize; ++i) records.push_back(Row((k * kBatches + b) * kBatchSize + i));
        if (!s.Send(JsonBatch(b, records))) break;
      }
      s.WaitForAck(kBatches - 1);
      last_acks[k] = s.last_ack();
      EXPECT_TRUE(s.CloseAndFinish().ok());
    });
  }
  for (auto& th : threads) th.join();
  for (int k = 0; k < kStreams; ++k) EXPECT_EQ(last_acks[k], kBatches - 1) << "stream " << k;
  std::string text = HttpCall(*server_, "GET", "/metrics").body["raw"];
  std::smatch waits;
  ASSERT_TRUE(std::regex_search(text, waits, std::regex("nobus_backpressure_waits_total (\\d+)")))
      << text;
  EXPECT_GT(std::stoll(waits[1]), 0) << "no request ever waited: the cap was not reached";
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, kStreams * kBatches * kBatchSize));
}

// A request waiting for room holds no gRPC thread: its stream just stops reading. With room for
// one request in the whole node and more streams waiting than the server has callback threads,
// a new stream still opens and the admitted request's ack still arrives; each commit (the admin
// retry, as the timed flush is an hour away) lets the next request in, and nothing is lost.
TEST_F(JsonStreamTest, StreamsWaitingForRoomHoldNoThread) {
  StartServer(R"({"max_buffered_bytes": 1, "flush_interval_ms": 3600000})");
  constexpr int kStreams = 24, kRequests = 3;
  std::vector<std::unique_ptr<TestStream>> streams;
  for (int k = 0; k < kStreams; ++k) {
    streams.push_back(std::make_unique<TestStream>(stub_.get()));
    ASSERT_FALSE(streams.back()->Create(kTable, zb::JSON).empty()) << "stream " << k;
  }
  const int threads_before = Threads(server_->pid());
  for (int r = 0; r < kRequests; ++r)
    for (int k = 0; k < kStreams; ++k)
      ASSERT_TRUE(streams[k]->Send(JsonRecord(r, Row(r * kStreams + k))));
  ASSERT_TRUE(streams[0]->WaitForAck(0));  // the one request the node had room for
  TestStream late(stub_.get());            // every other stream waits for room
  ASSERT_FALSE(late.Create(kTable, zb::JSON).empty()) << late.Finish().error_message();
  // A server that parked a thread per waiting stream would have grown by about kStreams.
  EXPECT_LT(Threads(server_->pid()) - threads_before, kStreams / 2) << "before: " << threads_before;
  auto all_acked = [&] {
    for (const auto& s : streams)
      if (s->last_ack() != kRequests - 1) return false;
    return true;
  };
  for (int commits = 0; !all_acked(); ++commits) {
    ASSERT_LT(commits, 10 * kStreams * kRequests) << "waiting requests are not admitted";
    HttpReply r = HttpCall(*server_, "POST", Cat("/admin/v1/tables/", kTable, "/retry"));
    ASSERT_EQ(r.status, 200) << r.body.dump();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& s : streams) EXPECT_TRUE(s->CloseAndFinish().ok());
  EXPECT_TRUE(late.CloseAndFinish().ok());
  EXPECT_EQ(StopAndReadRows(kTable), ExpectedRows(0, kStreams * kRequests));
}

TEST_F(JsonStreamTest, EveryColumnTypeRoundTrips) {
  const char* table = "main.default.types";
  MakeTable(table,
            "id BIGINT NOT NULL, i INT, f DOUBLE, b BOOLEAN, d DATE, ts TIMESTAMP, "
            "amount DECIMAL(10,2), tags ARRAY<STRING>, attrs MAP<STRING, BIGINT>, "
            "s STRUCT<a: INT, c: STRING>, raw BINARY");
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(table, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonBatch(0, {R"({"id": 1, "i": -7, "f": 2.5, "b": true, "d": "2025-01-02",
              "ts": "2025-01-02T03:04:05.123456Z", "amount": "12345678.91", "tags": ["x", "y"],
              "attrs": {"k": 9}, "s": {"a": 3, "c": "z"}, "raw": "AAEC"})",
                                   R"({"id": 2})"})));
  ASSERT_TRUE(s.WaitForAck(0)) << s.Finish().error_message();
  EXPECT_TRUE(s.CloseAndFinish().ok());
  std::vector<std::string> rows = StopAndReadRows(table);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(
      rows[0],
      R"({"id":1,"i":-7,"f":2.5,"b":true,"d":"2025-01-02","ts":"2025-01-02 03:04:05.123456+00",)"
      R"("amount":12345678.91,"tags":["x","y"],"attrs":{"k":9},"s":{"a":3,"c":"z"},)"
      R"("raw":"\\x00\\x01\\x02"})");
  EXPECT_EQ(rows[1],
            R"({"id":2,"i":null,"f":null,"b":null,"d":null,"ts":null,"amount":null,"tags":null,)"
            R"("attrs":null,"s":null,"raw":null})");
}

TEST_F(JsonStreamTest, MetricsCountIngestedRecords) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonBatch(0, {Row(1), Row(2), Row(3)})));
  ASSERT_TRUE(s.WaitForAck(0));
  HttpReply open = HttpCall(*server_, "GET", "/metrics");
  std::string text = open.body["raw"];
  EXPECT_NE(text.find("nobus_ingest_records_total{table=\"main.default.events\"} 3"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("nobus_open_streams 1"), std::string::npos) << text;
  EXPECT_NE(text.find("nobus_ack_latency_seconds_count 1"), std::string::npos) << text;
  EXPECT_NE(text.find("nobus_ingest_bytes_total{table=\"main.default.events\"} "),
            std::string::npos);
  EXPECT_TRUE(s.CloseAndFinish().ok());
  // The call is counted when the server has finished it (OnDone), just after the client saw
  // the status: poll briefly.
  bool counted = false;
  for (int i = 0; i < 500 && !counted; ++i) {
    text = HttpCall(*server_, "GET", "/metrics").body["raw"];
    counted = text.find("nobus_requests_total{api=\"grpc\",code=\"OK\"} 1") != std::string::npos;
    if (!counted) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(counted) << text;
  EXPECT_NE(text.find("nobus_open_streams 0"), std::string::npos) << text;
  EXPECT_NE(text.find("nobus_requests_total{api=\"table_api\",code=\"200\"} 1"), std::string::npos)
      << text;
}

}  // namespace
}  // namespace nobus::server::testing
