// gtest fixture for nobusd integration tests: a fresh temp data dir and a running nobusd per
// test, with helpers for tables and streams. Test-only.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <memory>
#include <string>

#include "nobusd_process.h"
#include "table_reader.h"
#include "zerobus_client.h"

namespace nobus::server::testing {

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(const std::string& config_json = "") {
    server_.reset();
    NobusdOptions options;
    options.data_dir = dir_.path() + "/data";
    options.config_json = config_json;
    auto started = Nobusd::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = server_->NewStub();
  }

  void MakeTable(const std::string& name, const std::string& ddl,
                 const std::vector<std::string>& partition_by = {}, const std::string& token = "") {
    HttpReply r = CreateTable(*server_, name, ddl, partition_by, token);
    ASSERT_EQ(r.status, 200) << r.body.dump();
  }

  // Stops the server (SIGTERM: flush and commit everything) and reads the table with DuckDB.
  std::vector<std::string> StopAndReadRows(const std::string& name) {
    EXPECT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
    auto rows = ReadRows(server_->data_dir(), name);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<std::string>{};
  }

  // True if the server still answers /healthz with 200.
  bool Healthy() {
    HttpReply r = HttpCall(*server_, "GET", "/healthz");
    return r.status == 200;
  }

  delta::testing::TempDir dir_;
  std::unique_ptr<Nobusd> server_;
  std::unique_ptr<zb::Zerobus::Stub> stub_;
};

// Acks strictly increasing.
inline bool Monotonic(const std::vector<int64_t>& acks) {
  for (size_t i = 1; i < acks.size(); ++i)
    if (acks[i] <= acks[i - 1]) return false;
  return true;
}

}  // namespace nobus::server::testing
