// The WAL's disk fails under a running nobusd (in process, on a fault-injecting file system over
// the real one, since a real disk cannot be made to fail fdatasync on demand): acks stop, the
// stream ends UNAVAILABLE, /readyz answers 503 wal_failed while the fault lasts, the node reopens
// the WAL by itself once the disk works again and takes records, and every acked record lands in
// the table exactly once. src/table/health_test.cc checks the same with a simulated power loss.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "table_reader.h"
#include "env/fault_env.h"
#include "nobusd_process.h"
#include "server/server.h"
#include "zerobus_client.h"

namespace nobus::server::testing {
namespace {

constexpr const char* kTable = "main.s.events";

class ServerWalFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.data_dir = dir_.path() + "/data";
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = "127.0.0.1:0";
    config.flush_interval_ms = 100;
    auto server = Server::Start(config, &fs_, env::SystemClock());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_TRUE(server_->Recover().ok());
    channel_ = grpc::CreateChannel(server_->grpc_address(), grpc::InsecureChannelCredentials());
    stub_ = zb::Zerobus::NewStub(channel_);
    http_ = std::make_unique<httplib::Client>("http://" + server_->http_address());
    nlohmann::json table = {{"catalog_name", "main"},
                            {"schema_name", "s"},
                            {"name", "events"},
                            {"columns", {{{"name", "id"}, {"type_text", "BIGINT"}, {"nullable", false}}}}};
    auto res = http_->Post("/api/2.1/unity-catalog/tables", table.dump(), "application/json");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no reply");
  }

  // GET /readyz: the status and the reason codes.
  std::pair<int, std::set<std::string>> Ready() {
    auto res = http_->Get("/readyz");
    if (!res) return {0, {}};
    std::set<std::string> codes;
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    if (!body.is_discarded())
      for (const auto& r : body["reasons"]) codes.insert(r["code"].get<std::string>());
    return {res->status, codes};
  }

  // Polls /readyz (bounded) until it answers `status`.
  bool WaitForReady(int status) {
    for (int i = 0; i < 300; ++i) {
      if (Ready().first == status) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Sends ids [first, first + n) on a new stream, one record each; returns the acked ids.
  std::vector<int64_t> Write(int64_t first, int n, grpc::Status* status = nullptr) {
    TestStream s(stub_.get());
    std::vector<int64_t> acked;
    if (s.Create(kTable, zb::JSON).empty()) {
      if (status != nullptr) *status = s.Finish();
      return acked;
    }
    for (int i = 0; i < n; ++i)
      if (s.SendNext(JsonRecord(0, Cat("{\"id\": ", first + i, "}"))) < 0) break;
    s.WaitForAck(n - 1);
    for (int64_t offset = 0; offset <= s.last_ack(); ++offset) acked.push_back(first + offset);
    grpc::Status st = s.ended() ? s.Finish() : s.CloseAndFinish();
    if (status != nullptr) *status = st;
    return acked;
  }

  delta::testing::TempDir dir_;
  env::FaultFileSystem fs_{env::PosixFileSystem()};
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<zb::Zerobus::Stub> stub_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(ServerWalFaultTest, FailedFsyncStopsAcksAndTheNodeReopensTheWalByItself) {
  std::vector<int64_t> acked = Write(0, 50);
  ASSERT_EQ(acked.size(), 50u);
  EXPECT_EQ(Ready().first, 200);

  fs_.SetFailSyncs(absl::InternalError("fdatasync: Input/output error (injected)"));
  grpc::Status failed;
  std::vector<int64_t> during = Write(1000, 20, &failed);
  EXPECT_TRUE(during.empty()) << "acked although nothing could be synced";
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
  ASSERT_TRUE(WaitForReady(503));
  EXPECT_EQ(Ready().second, std::set<std::string>{"wal_failed"});
  EXPECT_EQ(http_->Get("/livez")->status, 200);
  // Still failing after a few reopen attempts: new streams' records are refused.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  grpc::Status refused;
  EXPECT_TRUE(Write(2000, 5, &refused).empty());
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << refused.error_message();
  EXPECT_NE(refused.error_message().find("being reopened"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(Ready().first, 503);

  fs_.SetFailSyncs(absl::OkStatus());
  ASSERT_TRUE(WaitForReady(200)) << "the WAL was not reopened";
  std::vector<int64_t> after = Write(3000, 50);
  ASSERT_EQ(after.size(), 50u);
  acked.insert(acked.end(), after.begin(), after.end());
  auto metrics = http_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("nobus_wal_reopens_total 1"), std::string::npos);

  ASSERT_TRUE(server_->Shutdown().ok());
  auto rows = ReadJsonRows(dir_.path() + "/data", kTable);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::vector<int64_t> ids;
  for (const auto& row : *rows) ids.push_back(row["id"].get<int64_t>());
  std::sort(ids.begin(), ids.end());
  EXPECT_TRUE(std::adjacent_find(ids.begin(), ids.end()) == ids.end()) << "a duplicate id";
  for (int64_t id : acked)
    EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), id)) << "acked id " << id << " lost";
  // Records whose acks failed may land (their bytes reached the page cache), at most once.
  for (int64_t id : ids) EXPECT_TRUE(id < 2000 || id >= 3000) << "refused id " << id << " landed";
}

}  // namespace
}  // namespace nobus::server::testing
