// Server-initiated closes: SIGTERM drains (close signal, in-flight acks, UNAVAILABLE, exit 0,
// every acked row committed) and the admin close-all endpoint.
#include <set>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.default.events";

class DrainTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    MakeTable(kTable, "id BIGINT NOT NULL");
  }
};

std::string Row(int64_t id) { return Cat("{\"id\":", id, "}"); }

TEST_F(DrainTest, SigtermSignalsStreamsAcksInFlightAndCommitsEveryAckedRow) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(s.Send(JsonRecord(i, Row(i))));
  ASSERT_TRUE(s.WaitForAck(49));
  for (int i = 50; i < 60; ++i) s.Send(JsonRecord(i, Row(i)));  // some may be in flight
  server_->Signal(SIGTERM);
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(s.close_signals(), 1);
  EXPECT_TRUE(Monotonic(s.acks()));
  int64_t acked = s.last_ack();
  EXPECT_GE(acked, 49);
  EXPECT_EQ(server_->Wait(), 0) << server_->Log();
  auto rows = ReadRows(server_->data_dir(), kTable);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::set<std::string> present(rows->begin(), rows->end());
  for (int64_t i = 0; i <= acked; ++i) EXPECT_TRUE(present.count(Row(i))) << "acked row " << i;
  for (const std::string& r : *rows) {
    bool sent = false;
    for (int i = 0; i < 60 && !sent; ++i) sent = r == Row(i);
    EXPECT_TRUE(sent) << r;
  }
  EXPECT_NE(server_->Log().find("draining open_streams=1"), std::string::npos);
}

TEST_F(DrainTest, SigtermWithoutStreamsExitsZeroAndCommits) {
  ASSERT_EQ(HttpCall(*server_, "POST", "/zerobus/v1/tables/main.default.events/insert",
                     R"([{"id": 1}, {"id": 2}])")
                .status,
            200);
  EXPECT_EQ(StopAndReadRows(kTable), (std::vector<std::string>{Row(1), Row(2)}));
}

TEST_F(DrainTest, AdminCloseAllEndsStreamsWithUnavailableAndServerKeepsServing) {
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, Row(0))));
  ASSERT_TRUE(s.WaitForAck(0));
  HttpReply r = HttpCall(*server_, "POST", "/admin/v1/streams/close-all");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body["closed_streams"], 1);
  grpc::Status status = s.Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(s.close_signals(), 1);
  EXPECT_TRUE(Healthy());
  TestStream again(stub_.get());
  ASSERT_FALSE(again.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(again.Send(JsonRecord(0, Row(1))));
  ASSERT_TRUE(again.WaitForAck(0));
  EXPECT_TRUE(again.CloseAndFinish().ok());
  EXPECT_EQ(StopAndReadRows(kTable), (std::vector<std::string>{Row(0), Row(1)}));
}

TEST_F(DrainTest, CancelledStreamLeavesServerHealthy) {
  {
    TestStream s(stub_.get());
    ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
    for (int i = 0; i < 100; ++i) s.Send(JsonRecord(i, Row(i)));
    s.Cancel();
  }
  EXPECT_TRUE(Healthy());
  TestStream s(stub_.get());
  ASSERT_FALSE(s.Create(kTable, zb::JSON).empty());
  ASSERT_TRUE(s.Send(JsonRecord(0, Row(1000))));
  ASSERT_TRUE(s.WaitForAck(0));
  EXPECT_TRUE(s.CloseAndFinish().ok());
  EXPECT_EQ(server_->SignalAndWait(SIGTERM), 0);
}

}  // namespace
}  // namespace nobus::server::testing
