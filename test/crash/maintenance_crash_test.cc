// Crash test of table upkeep: nobusd is SIGKILLed while a client inserts rows (REST) and another
// keeps compacting (OPTIMIZE) and vacuuming (retention 0, forced) the same table, whose log is aged
// before every round so each checkpoint's log cleanup deletes files too. Every restart must
// recover the table; at the end, after a drain, a VACUUM of everything older than the grace period
// must leave no orphan behind, and DuckDB must find every acknowledged row exactly once and no row
// that was never sent. NOBUS_SEED and NOBUS_ITERATIONS as in nobusd_crash_test.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "crash_fixture.h"
#include "nobusd_process.h"
#include "table_reader.h"

namespace nobus::crash {
namespace {

using nlohmann::json;
using server::testing::HttpCall;
using server::testing::HttpReply;
using server::testing::Nobusd;

constexpr const char* kTable = "main.crash.upkeep";
constexpr const char* kInsert = "/zerobus/v1/tables/main.crash.upkeep/insert";
constexpr int kDefaultRounds = 10;
constexpr int kRowsPerRequest = 20;
constexpr int64_t kIdsPerRound = 1'000'000;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

std::string Admin(const char* what) { return Cat("/admin/v1/tables/", kTable, "/", what); }

void AgeTree(const std::filesystem::path& dir, std::chrono::hours by) {
  const auto when = std::filesystem::file_time_type::clock::now() - by;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file()) std::filesystem::last_write_time(e.path(), when);
}

class MaintenanceCrashTest : public CrashTest {
 protected:
  void StartServer(bool maintenance = true) {
    server_.reset();
    std::vector<std::string> args = {"--maintenance-interval-ms", "30"};
    if (!maintenance) args = {"--no-maintenance"};
    auto started =
        Nobusd::Start({.data_dir = data_dir_, .flush_interval_ms = 50, .extra_args = args});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }
  std::string Root() { return server::testing::TableRoot(data_dir_, kTable); }
};

TEST_F(MaintenanceCrashTest, KillsDuringCompactionVacuumAndLogCleanupLoseNothing) {
  const uint64_t seed = EnvOr("NOBUS_SEED", std::random_device{}());
  const int rounds = static_cast<int>(EnvOr("NOBUS_ITERATIONS", kDefaultRounds));
  std::printf("seed %llu, %d rounds\n", static_cast<unsigned long long>(seed), rounds);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  HttpReply created = HttpCall(
      *server_, "POST", "/api/2.1/unity-catalog/tables",
      json{{"catalog_name", "main"},
           {"schema_name", "crash"},
           {"name", "upkeep"},
           {"columns", json::array({{{"name", "id"}, {"type_text", "bigint"}, {"nullable", false}},
                                    {{"name", "name"}, {"type_text", "string"}}})},
           {"properties",
            {{"nobus.autoCompact.minNumFiles", "3"},
             {"delta.checkpointInterval", "3"},
             {"delta.logRetentionDuration", "interval 1 day"}}}}
          .dump());
  ASSERT_EQ(created.status, 200) << created.body.dump();

  std::vector<int64_t> acked(rounds, 0), sent(rounds, 0);
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) {
      ASSERT_NO_FATAL_FAILURE(StartServer());
    }
    AgeTree(Root() + "/_delta_log", std::chrono::hours(72));
    std::atomic<bool> first_ack = false;
    std::thread writer([&] {
      for (int64_t seq = 0;; seq += kRowsPerRequest) {
        json rows = json::array();
        for (int i = 0; i < kRowsPerRequest; ++i) {
          int64_t id = round * kIdsPerRound + seq + i;
          rows.push_back({{"id", id}, {"name", Cat("row-", id)}});
        }
        sent[round] = seq + kRowsPerRequest;
        HttpReply r = HttpCall(*server_, "POST", kInsert, rows.dump());
        if (r.status != 200) return;
        acked[round] = seq + kRowsPerRequest;
        first_ack = true;
      }
    });
    std::thread upkeep([&] {
      for (int i = 0;; ++i) {
        HttpReply r = i % 2 == 0 ? HttpCall(*server_, "POST", Admin("optimize"))
                                 : HttpCall(*server_, "POST", Admin("vacuum"),
                                            R"({"retain_hours": 0, "force": true})");
        if (r.status == 0) return;  // the server is gone
      }
    });
    for (int i = 0; i < 3000 && !first_ack; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const int delay_ms = std::uniform_int_distribution<int>(100, 1500)(rng);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    EXPECT_EQ(server_->SignalAndWait(SIGKILL), 128 + SIGKILL) << server_->Log();
    writer.join();
    upkeep.join();
    std::printf("round %2d: killed %4d ms after the first ack; %6lld rows acked, %6lld sent\n",
                round, delay_ms, static_cast<long long>(acked[round]),
                static_cast<long long>(sent[round]));
    ASSERT_TRUE(first_ack) << "round " << round << ": no insert was acknowledged";
  }

  // Recover, drain, then vacuum everything the grace period protected (orphans of the kills).
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
  std::vector<std::string> before;
  for (const auto& e : std::filesystem::recursive_directory_iterator(Root()))
    if (e.is_regular_file() && e.path().string().find("_delta_log") == std::string::npos)
      before.push_back(std::filesystem::relative(e.path(), Root()).string());
  AgeTree(Root(), std::chrono::hours(2));
  ASSERT_NO_FATAL_FAILURE(StartServer(/*maintenance=*/false));  // nothing compacts after the vacuum
  HttpReply vacuum =
      HttpCall(*server_, "POST", Admin("vacuum"), R"({"retain_hours": 0, "force": true})");
  ASSERT_EQ(vacuum.status, 200) << vacuum.body.dump();
  HttpReply history = HttpCall(*server_, "GET", Admin("history"));
  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();

  delta::FileLogStore store(env::PosixFileSystem(), Root());
  auto snap = delta::Snapshot::Load(&store);
  ASSERT_TRUE(snap.ok()) << snap.status();
  std::set<std::string> left;
  for (const auto& e : std::filesystem::recursive_directory_iterator(Root()))
    if (e.is_regular_file() && e.path().string().find("_delta_log") == std::string::npos)
      left.insert(std::filesystem::relative(e.path(), Root()).string());
  // Every file left is referenced by the log: live, or removed by a commit (a tombstone).
  for (const std::string& f : left)
    EXPECT_TRUE(snap->files().contains(f) || snap->tombstones().contains(f)) << "orphan left: " << f;
  EXPECT_EQ(left.size(), snap->files().size());
  int optimizes = 0, vacuum_starts = 0, vacuum_ends = 0;
  for (const json& e : history.body["history"]) {
    optimizes += e["operation"] == "OPTIMIZE";
    vacuum_starts += e["operation"] == "VACUUM START";
    vacuum_ends += e["operation"] == "VACUUM END";
  }
  std::printf("end: %zu files before the final vacuum, %zu orphans among them removed by it, %zu "
              "live files; log still holds %d OPTIMIZE, %d VACUUM START and %d VACUUM END "
              "commits (a START without END is a kill mid-vacuum), log starts at version %lld\n",
              before.size(), vacuum.body["orphans"].get<size_t>(), left.size(), optimizes,
              vacuum_starts, vacuum_ends,
              static_cast<long long>(history.body["history"].back()["version"].get<int64_t>()));

  auto rows = server::testing::ReadJsonRows(data_dir_, kTable);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::map<int64_t, int> seen;
  int64_t bad = 0;
  for (const json& row : *rows) {
    const int64_t id = row["id"].get<int64_t>();
    ++seen[id];
    const int64_t round = id / kIdsPerRound, seq = id % kIdsPerRound;
    if (round >= rounds || seq >= sent[round] || row["name"] != Cat("row-", id)) ++bad;
  }
  int64_t missing = 0, duplicated = 0, total_acked = 0;
  for (int round = 0; round < rounds; ++round) {
    total_acked += acked[round];
    for (int64_t seq = 0; seq < acked[round]; ++seq)
      missing += !seen.contains(round * kIdsPerRound + seq);
  }
  for (const auto& [id, n] : seen) duplicated += n > 1;
  std::printf("total: %lld acked, %zu in the table\n", static_cast<long long>(total_acked),
              seen.size());
  EXPECT_EQ(missing, 0) << "acknowledged rows missing";
  EXPECT_EQ(duplicated, 0) << "rows present more than once";
  EXPECT_EQ(bad, 0) << "rows never sent or with other columns";
}

}  // namespace
}  // namespace nobus::crash
