// The fixture of the `nobus ingest` tests against a real nobusd (ingest_test.cc,
// ingest_exactly_once_test.cc): one nobusd per test suite, a fresh table per test named after it
// (id BIGINT NOT NULL, msg STRING), running the nobus binary, and reading back the committed rows
// (DuckDB). Test-only; one test thread.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "nobusd_process.h"
#include "table_reader.h"

namespace nobus::cli::testing {

using delta::testing::TempDir;
using server::testing::CreateTable;
using server::testing::HttpReply;
using server::testing::Nobusd;
using server::testing::ReadJsonRows;
using server::testing::TableRoot;

inline int64_t AsInt(const nlohmann::json& v) {
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

class IngestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new TempDir();
    auto started = Nobusd::Start({.data_dir = scratch_->path() + "/data"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = started->release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete scratch_;
    server_ = nullptr;
    scratch_ = nullptr;
  }

  // Creates a fresh table named after the test: id BIGINT NOT NULL, msg STRING.
  void SetUp() override {
    ASSERT_NE(server_, nullptr);
    table_ = Cat("main.cli.",
                 ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::transform(table_.begin(), table_.end(), table_.begin(), ::tolower);
    HttpReply created = CreateTable(*server_, table_, "id BIGINT NOT NULL, msg STRING");
    ASSERT_EQ(created.status, 200) << created.body.dump();
    input_ = Cat(scratch_->path(), "/", table_, ".jsonl");
  }

  CliResult Ingest(const std::string& extra) {
    return RunNobus(Cat("ingest ", table_, " --server ", server_->endpoint(), " ", extra),
                    scratch_->path());
  }

  // Rows committed to the table so far (its latest snapshot; 0 before the first commit).
  int64_t CommittedRecords() const {
    delta::FileLogStore store(env::PosixFileSystem(),
                               TableRoot(scratch_->path() + "/data", table_));
    absl::StatusOr<delta::Snapshot> s = delta::Snapshot::Load(&store);
    return s.ok() ? s->CountRecords().records : 0;
  }

  // Waits until `n` rows are committed (nobusd commits every 200 ms here), then reads them.
  std::vector<nlohmann::json> Rows(int64_t n) {
    const std::string data_dir = scratch_->path() + "/data";
    for (int i = 0; i < 300 && CommittedRecords() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto rows = ReadJsonRows(data_dir, table_);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<nlohmann::json>{};
  }

  static std::vector<int64_t> Ids(const std::vector<nlohmann::json>& rows) {
    std::vector<int64_t> ids;
    for (const auto& r : rows) ids.push_back(AsInt(r["id"]));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  static inline TempDir* scratch_ = nullptr;
  static inline Nobusd* server_ = nullptr;
  std::string table_;
  std::string input_;
};

inline std::string GoodLines(int64_t from, int64_t to) {  // ids from..to-1
  std::string text;
  for (int64_t i = from; i < to; ++i) text += Cat("{\"id\": ", i, ", \"msg\": \"m", i, "\"}\n");
  return text;
}

}  // namespace nobus::cli::testing
