// `nobus bench` smoke tests against a real nobusd: a short run prints one JSON line whose figures
// exist and whose counts are positive (no timing assertions: the machine's speed is not tested).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>
#include <nlohmann/json.hpp>

#include "cli_run.h"
#include "nobusd_process.h"
#include "table_reader.h"

namespace nobus::cli::testing {
namespace {

using delta::testing::TempDir;
using server::testing::Nobusd;

class BenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Nobusd::Start({.data_dir = scratch_.path() + "/data"});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = *std::move(started);
  }

  nlohmann::json Bench(const std::string& extra) {
    CliResult r = RunNobus(Cat("bench --server ", server_->endpoint(), " --http http://",
                               server_->http_address(), " --create-tables --duration-s 1 ", extra),
                           scratch_.path());
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
    nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_TRUE(doc.is_object()) << r.out << r.err;
    return doc.is_object() ? doc : nlohmann::json::object();
  }

  static void ExpectFigures(const nlohmann::json& doc) {
    for (const char* key : {"records_per_s", "mb_per_s", "ack_p50_ms", "ack_p99_ms",
                            "ack_p999_ms", "ttt_p50_ms", "ttt_p99_ms", "client_cpu_cores",
                            "server_ack_p50_ms"}) {
      ASSERT_TRUE(doc.contains(key)) << key << ": " << doc.dump();
      ASSERT_TRUE(doc[key].is_number()) << key << ": " << doc.dump();
    }
    EXPECT_GT(doc["records"].get<int64_t>(), 0);
    EXPECT_GT(doc["bytes"].get<int64_t>(), 0);
    EXPECT_GT(doc["ack_samples"].get<int64_t>(), 0);
    EXPECT_GT(doc["ttt_samples"].get<int64_t>(), 0);
    EXPECT_EQ(doc["errors"], 0);
  }

  TempDir scratch_;
  std::unique_ptr<Nobusd> server_;
};

TEST_F(BenchTest, JsonSingleStreamPrintsOneSummaryLine) {
  const pid_t pid = server_->pid();
  ASSERT_GT(pid, 0);
  nlohmann::json doc = Bench(Cat("--record-bytes 1024 --server-pid ", pid));
  ExpectFigures(doc);
  EXPECT_EQ(doc["format"], "json");
  EXPECT_EQ(doc["streams"], 1);
  EXPECT_EQ(doc["bytes"].get<int64_t>(), doc["records"].get<int64_t>() * 1024);
  ASSERT_TRUE(doc["server_vm_hwm_mb"].is_number()) << doc.dump();
  EXPECT_GT(doc["server_vm_hwm_mb"].get<double>(), 0);
}

TEST_F(BenchTest, ProtoBatchesOverTwoTables) {
  nlohmann::json doc =
      Bench("--format proto --batch-size 20 --streams 3 --tables 2 --rate 2000 --record-bytes 200");
  ExpectFigures(doc);
  EXPECT_EQ(doc["format"], "proto");
  EXPECT_EQ(doc["tables"], 2);
  EXPECT_EQ(doc["records"].get<int64_t>() % 20, 0);
}

// The async driver: 40 light streams over 2 connections, each paced at 50 records/s for 1 s, so
// exactly 50 requests per stream; every acknowledged record is in its table, once.
TEST_F(BenchTest, AsyncDriverPacesManyStreamsAndEveryAckedRowLands) {
  nlohmann::json doc =
      Bench("--driver async --channels 2 --streams 40 --tables 4 --rate 50 --record-bytes 300");
  ExpectFigures(doc);
  EXPECT_EQ(doc["driver"], "async");
  EXPECT_EQ(doc["records"], 40 * 50);
  EXPECT_EQ(doc["ack_samples"], 40 * 50);
  EXPECT_EQ(doc["ttt_unmatched"], 0);
  // Rows of the last commits may land after the probe samples' commits: wait for them.
  const std::string data_dir = scratch_.path() + "/data";
  std::set<std::pair<int64_t, int64_t>> keys;
  int64_t rows = 0;
  for (int attempt = 0; attempt < 100 && rows < 40 * 50; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    keys.clear();
    rows = 0;
    for (int t = 0; t < 4; ++t) {
      auto table = server::testing::ReadJsonRows(data_dir, Cat("main.bench.load_", t));
      ASSERT_TRUE(table.ok()) << table.status();
      for (const nlohmann::json& row : *table) {
        ++rows;
        keys.emplace(row["stream"].get<int64_t>(), row["seq"].get<int64_t>());
        EXPECT_EQ(row["stream"].get<int64_t>() % 4, t) << row.dump();
      }
    }
  }
  EXPECT_EQ(rows, 40 * 50);
  EXPECT_EQ(keys.size(), 40u * 50u);  // no row twice
}

TEST_F(BenchTest, RefusesDriverCombinationsItCannotRun) {
  CliResult r = RunNobus(Cat("bench --server ", server_->endpoint(), " --driver async --streams 3"),
                         scratch_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--driver async paces ephemeral streams: it needs --rate"),
            std::string::npos) << r.err;
  r = RunNobus(Cat("bench --server ", server_->endpoint(), " --streams 2000"), scratch_.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("for more streams pass --driver async"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nobus::cli::testing
