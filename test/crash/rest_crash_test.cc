// Crash test of REST ingestion: 8 clients POST /zerobus/v1/tables/{name}/insert (JSON arrays of
// 1-50 rows, each row with a unique id) on keep-alive connections while nobusd is SIGKILLed at a
// random moment; it is restarted on the same data directory and the table is read with DuckDB.
// HTTP 200 promises durability, so after every restart: every row of every request answered 200
// is in the table exactly once, no row is there twice, none is there that was never sent, and
// every row's columns are the ones sent with its id. Requests that got no answer may or may not
// have landed. Three kill/restart cycles. Two variants: one table, and 120 tables (each request
// to the next table in turn) so that the kills hit many tables' concurrent commits.
//
// NOBUS_SEED=<n> fixes the random choices (rows per request, kill delays). A failing run (or any
// run with NOBUS_KEEP_DATA=1) keeps its data directory and the nobusd log and prints their paths.
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crash_fixture.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "nobusd_process.h"

namespace nobus::crash {
namespace {

using server::testing::Nobusd;

constexpr int kClients = 8;
constexpr int kCycles = 3;
constexpr int kMaxRowsPerRequest = 50;
constexpr int kMaxRequestsPerCycle = 2000;  // per client: bounds the rows to check
constexpr int kKillDelayMinMs = 100, kKillDelayMaxMs = 1500;  // after every client saw a 200
constexpr auto kFirstAckTimeout = std::chrono::seconds(60);
constexpr auto kLandTimeout = std::chrono::seconds(30);
constexpr int64_t kFlushIntervalMs = 200;

constexpr const char* kDdl = "id BIGINT NOT NULL, client INT, payload STRING";

std::string TableName(int i, int tables) {
  return tables == 1 ? std::string("main.crash.rest") : Cat("main.crash.rest_", i);
}

// ---- Rows: everything is a pure function of the id ----

constexpr int64_t kCycleStride = 1'000'000'000'000, kClientStride = 1'000'000'000;

int64_t RowId(int cycle, int client, int64_t seq) {
  return (cycle + 1) * kCycleStride + client * kClientStride + seq;
}
int ClientOf(int64_t id) { return static_cast<int>(id % kCycleStride / kClientStride); }
std::string Payload(int64_t id) {
  return Cat("p", id, std::string(static_cast<size_t>(id % 17), 'x'));
}

// What one client sent in one cycle: every id it put in a request (and the table it went to),
// and those answered 200.
struct ClientLog {
  std::vector<int64_t> sent;
  std::vector<int> sent_table;  // per sent id
  std::vector<int64_t> acked;
  int64_t requests = 0;
  std::string error;  // a request answered with something other than 200
};

// Lets the cycle's driver wait until every client has seen a 200 (or stopped).
class Progress {
 public:
  void Started() {
    std::lock_guard lock(mu_);
    ++started_;
    cv_.notify_all();
  }
  bool WaitAll(std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return started_ == kClients; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int started_ = 0;
};

// Inserts batches of new rows until a request gets no answer (the server was killed).
void InsertUntilBroken(const Nobusd& server, int tables, int cycle, int client, uint32_t seed,
                       Progress* progress, ClientLog* out) {
  std::mt19937 rng(seed);
  httplib::Client http = server.Http();
  http.set_keep_alive(true);
  bool started = false;
  int64_t seq = 0;
  while (out->requests < kMaxRequestsPerCycle) {
    const int n = std::uniform_int_distribution<int>(1, kMaxRowsPerRequest)(rng);
    nlohmann::json rows = nlohmann::json::array();
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i, ++seq) {
      ids.push_back(RowId(cycle, client, seq));
      rows.push_back({{"id", ids.back()}, {"client", client}, {"payload", Payload(ids.back())}});
    }
    const int table = static_cast<int>((client * 7 + out->requests) % tables);
    out->sent.insert(out->sent.end(), ids.begin(), ids.end());
    out->sent_table.insert(out->sent_table.end(), ids.size(), table);
    ++out->requests;
    httplib::Result res =
        http.Post(Cat("/zerobus/v1/tables/", TableName(table, tables), "/insert"), rows.dump(),
                  "application/json");
    if (!res) break;  // no answer: these rows may or may not be durable
    if (res->status != 200) {
      out->error = Cat("HTTP ", res->status, ": ", res->body);
      break;
    }
    out->acked.insert(out->acked.end(), ids.begin(), ids.end());
    if (!started) progress->Started();
    started = true;
  }
  if (!started) progress->Started();
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class RestCrashTest : public CrashTest {
 protected:
  // Creates the tables, then runs the kill/restart cycles and checks every table after each (or,
  // with many tables, read by one DuckDB process each, after the last).
  void Run(int tables, bool check_every_cycle);
  void StartServer() {
    server_.reset();
    auto started = Nobusd::Start({.data_dir = data_dir_, .flush_interval_ms = kFlushIntervalMs});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
  }

  // Runs every client until the server is SIGKILLed, a random delay after each saw a 200.
  void RunCycle(int cycle, std::mt19937& rng);

  // Reads the table (waiting up to kLandTimeout for every acked row) and checks it.
  void CheckTable();

  int tables_ = 1;
  std::unordered_map<int64_t, int> sent_;  // id -> the table it was sent to
  std::unordered_set<int64_t> acked_;
};

void RestCrashTest::RunCycle(int cycle, std::mt19937& rng) {
  std::vector<ClientLog> logs(kClients);
  Progress progress;
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    const uint32_t seed = static_cast<uint32_t>(rng());
    threads.emplace_back([&, c, seed] {
      InsertUntilBroken(*server_, tables_, cycle, c, seed, &progress,
                        &logs[static_cast<size_t>(c)]);
    });
  }
  const bool all_started = progress.WaitAll(kFirstAckTimeout);
  const int delay_ms = std::uniform_int_distribution<int>(kKillDelayMinMs, kKillDelayMaxMs)(rng);
  if (all_started) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const int exit_code = server_->SignalAndWait(SIGKILL);
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(all_started) << "cycle " << cycle << ": a client saw no 200 within "
                           << kFirstAckTimeout.count() << " s; log:\n"
                           << server_->Log();
  EXPECT_EQ(exit_code, 128 + SIGKILL) << "cycle " << cycle << ": nobusd died before the SIGKILL";
  int64_t requests = 0, sent = 0, acked = 0, still_running = 0;
  for (int c = 0; c < kClients; ++c) {
    const ClientLog& log = logs[static_cast<size_t>(c)];
    EXPECT_EQ(log.error, "") << "cycle " << cycle << ", client " << c;
    for (size_t i = 0; i < log.sent.size(); ++i) sent_[log.sent[i]] = log.sent_table[i];
    acked_.insert(log.acked.begin(), log.acked.end());
    requests += log.requests;
    sent += static_cast<int64_t>(log.sent.size());
    acked += static_cast<int64_t>(log.acked.size());
    still_running += log.requests < kMaxRequestsPerCycle ? 1 : 0;
  }
  EXPECT_GT(still_running, 0) << "every client had finished: the kill hit no request in flight";
  std::printf("cycle %d: killed %d ms after the first 200s: %lld requests sent, %lld rows sent, "
              "%lld answered 200\n",
              cycle, delay_ms, static_cast<long long>(requests), static_cast<long long>(sent),
              static_cast<long long>(acked));
  std::fflush(stdout);
}

void RestCrashTest::CheckTable() {
  std::unordered_map<int64_t, int> count;
  std::vector<std::string> wrong;  // rows never sent or with other columns than sent
  const auto deadline = std::chrono::steady_clock::now() + kLandTimeout;
  for (;;) {
    count.clear();
    wrong.clear();
    for (int t = 0; t < tables_; ++t) {
      absl::StatusOr<std::vector<nlohmann::json>> rows =
          server::testing::ReadJsonRows(data_dir_, TableName(t, tables_));
      ASSERT_TRUE(rows.ok()) << rows.status();
      for (const nlohmann::json& row : *rows) {
        const int64_t id = row.value("id", int64_t{-1});
        ++count[id];
        auto sent = sent_.find(id);
        if (sent == sent_.end() || sent->second != t || row["client"] != ClientOf(id) ||
            row["payload"] != Payload(id))
          wrong.push_back(Cat(TableName(t, tables_), ": ", row.dump()));
      }
    }
    bool all_there = true;
    for (int64_t id : acked_) all_there = all_there && count.contains(id);
    if (all_there || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::vector<int64_t> missing, twice;
  for (int64_t id : acked_)
    if (!count.contains(id)) missing.push_back(id);
  for (const auto& [id, n] : count)
    if (n > 1) twice.push_back(id);
  auto some = [](const auto& items) {
    std::string out = Cat(items.size(), ":");
    for (size_t i = 0; i < items.size() && i < 10; ++i) out += Cat(" ", items[i]);
    return out;
  };
  EXPECT_TRUE(missing.empty()) << "answered 200 but missing, " << some(missing);
  EXPECT_TRUE(twice.empty()) << "present more than once, " << some(twice);
  EXPECT_TRUE(wrong.empty()) << "never sent, in another table or changed, " << some(wrong);
  std::printf("%d table(s): %zu rows, %zu answered 200, %zu sent\n", tables_, count.size(),
              acked_.size(), sent_.size());
  std::fflush(stdout);
}

void RestCrashTest::Run(int tables, bool check_every_cycle) {
  tables_ = tables;
  const uint64_t seed = EnvOr("NOBUS_SEED", std::random_device{}());
  std::printf("seed %llu (rerun: NOBUS_SEED=%llu)\n", static_cast<unsigned long long>(seed),
              static_cast<unsigned long long>(seed));
  std::mt19937 rng(static_cast<uint32_t>(seed));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (int t = 0; t < tables; ++t) {
    server::testing::HttpReply reply =
        server::testing::CreateTable(*server_, TableName(t, tables), kDdl);
    ASSERT_EQ(reply.status, 200) << reply.body.dump();
  }
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    RunCycle(cycle, rng);
    ASSERT_FALSE(HasFailure()) << "stopped after cycle " << cycle;
    ASSERT_NO_FATAL_FAILURE(StartServer());  // recovery replays and commits the WAL
    if (check_every_cycle || cycle == kCycles - 1) ASSERT_NO_FATAL_FAILURE(CheckTable());
    ASSERT_FALSE(HasFailure()) << "stopped after cycle " << cycle;
  }
  EXPECT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
}

TEST_F(RestCrashTest, EveryRowAnswered200LandsExactlyOnceAcrossSigkills) { Run(1, true); }

// The kills land while the commit workers commit many tables at once.
TEST_F(RestCrashTest, ManyTablesEveryRowAnswered200LandsExactlyOnceAcrossSigkills) {
  Run(120, false);
}

}  // namespace
}  // namespace nobus::crash
