// Table upkeep through nobusd: the /admin/v1/tables/{name}/... endpoints and `nobus table
// optimize|vacuum|history|set-properties`; time travel after compaction, VACUUM and log cleanup;
// compaction and appends of another Delta writer interleaving on one table.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kTable = "main.default.events";
constexpr const char* kInsert = "/zerobus/v1/tables/main.default.events/insert";

std::string Admin(const char* what, const std::string& table = kTable) {
  return Cat("/admin/v1/tables/", table, "/", what);
}

class TableAdminTest : public ServerTest {
 protected:
  std::string Root() { return TableRoot(server_->data_dir(), kTable); }
  // Creates main.default.events (id BIGINT, name STRING) with table properties.
  HttpReply CreateEvents(const json& properties) {
    return HttpCall(*server_, "POST", "/api/2.1/unity-catalog/tables",
                    json{{"catalog_name", "main"},
                         {"schema_name", "default"},
                         {"name", "events"},
                         {"columns", json::array({{{"name", "id"}, {"type_text", "bigint"}},
                                                  {{"name", "name"}, {"type_text", "string"}}})},
                         {"properties", properties}}
                        .dump());
  }
  // Inserts ids [first, first + n) in one request and waits for the commit holding them.
  void Insert(int64_t first, int n) {
    json rows = json::array();
    for (int i = 0; i < n; ++i) rows.push_back({{"id", first + i}, {"name", Cat("n", first + i)}});
    const int64_t before = Version();
    HttpReply r = HttpCall(*server_, "POST", kInsert, rows.dump());
    ASSERT_EQ(r.status, 200) << r.body.dump();
    for (int i = 0; i < 200 && Version() == before; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  int64_t Version() {
    delta::FileLogStore store(env::PosixFileSystem(), Root());
    auto snap = delta::Snapshot::Load(&store);
    return snap.ok() ? snap->version() : -1;
  }
  delta::Snapshot Load(std::optional<int64_t> version = std::nullopt) {
    delta::FileLogStore store(env::PosixFileSystem(), Root());
    auto snap = delta::Snapshot::Load(&store, version);
    EXPECT_TRUE(snap.ok()) << snap.status();
    return snap.ok() ? *snap : delta::Snapshot();
  }
  int64_t DuckdbRows(const delta::Snapshot& snap) {
    auto read = delta::testing::ReadTableWithDuckdb(snap, Root());
    EXPECT_TRUE(read.ok()) << read.status();
    return read.ok() ? (*read)["rows"].get<int64_t>() : -1;
  }
};

TEST_F(TableAdminTest, OptimizeVacuumHistoryAndPropertiesOverHttp) {
  HttpReply created = CreateEvents({{"delta.autoOptimize.autoCompact", "false"}, {"team", "ops"}});
  ASSERT_EQ(created.status, 200) << created.body.dump();
  EXPECT_EQ(created.body["properties"]["team"], "ops");
  for (int i = 0; i < 6; ++i) Insert(i * 10, 10);

  HttpReply optimized = HttpCall(*server_, "POST", Admin("optimize"));
  ASSERT_EQ(optimized.status, 200) << optimized.body.dump();
  EXPECT_EQ(optimized.body["files_before"], 6);
  EXPECT_EQ(optimized.body["files_after"], 1);
  EXPECT_EQ(optimized.body["commits"], 1);

  HttpReply history = HttpCall(*server_, "GET", Admin("history") + "?limit=3");
  ASSERT_EQ(history.status, 200) << history.body.dump();
  ASSERT_EQ(history.body["history"].size(), 3u);
  EXPECT_EQ(history.body["history"][0]["operation"], "OPTIMIZE");
  EXPECT_EQ(history.body["history"][0]["table_rows"], 60);
  EXPECT_EQ(history.body["history"][0]["rows_removed"], 60);
  EXPECT_EQ(history.body["history"][1]["operation"], "STREAMING UPDATE");

  HttpReply refused = HttpCall(*server_, "POST", Admin("vacuum"), R"({"retain_hours": 0})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["error_code"], "INVALID_STATE");
  EXPECT_NE(refused.body["message"].get<std::string>().find("--force"), std::string::npos);
  HttpReply dry = HttpCall(*server_, "POST", Admin("vacuum"),
                           R"({"retain_hours": 0, "force": true, "dry_run": true})");
  ASSERT_EQ(dry.status, 200) << dry.body.dump();
  EXPECT_EQ(dry.body["files"].size(), 6u);
  EXPECT_EQ(dry.body.count("start_version"), 0u);
  HttpReply vacuumed =
      HttpCall(*server_, "POST", Admin("vacuum"), R"({"retain_hours": 0, "force": true})");
  ASSERT_EQ(vacuumed.status, 200) << vacuumed.body.dump();
  EXPECT_EQ(vacuumed.body["files"].size(), 6u);
  EXPECT_EQ(vacuumed.body["end_version"], vacuumed.body["start_version"].get<int64_t>() + 1);
  EXPECT_EQ(DuckdbRows(Load()), 60);

  HttpReply set = HttpCall(*server_, "POST", Admin("properties"),
                           R"({"properties": {"delta.targetFileSize": "64mb"}})");
  ASSERT_EQ(set.status, 200) << set.body.dump();
  EXPECT_EQ(set.body["properties"]["delta.targetFileSize"], "64mb");

  // Bad input: a precise 4xx, and the table is untouched.
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("optimize", "main.default.nope")).status, 404);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("vacuum"), R"({"retain_hours": -1})").status, 400);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("vacuum"), R"({"dry_run": "yes"})").status, 400);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("vacuum"), "[1]").status, 400);
  EXPECT_EQ(HttpCall(*server_, "GET", Admin("history") + "?limit=x").status, 400);
  HttpReply bad_prop = HttpCall(*server_, "POST", Admin("properties"),
                                R"({"properties": {"delta.enableChangeDataFeed": "true"}})");
  EXPECT_EQ(bad_prop.status, 400);
  EXPECT_NE(bad_prop.body["message"].get<std::string>().find("delta.enableChangeDataFeed"),
            std::string::npos);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("properties"), R"({"properties": {}})").status, 400);
  EXPECT_EQ(DuckdbRows(Load()), 60);
}

TEST_F(TableAdminTest, AuthIsRequiredWhenTokensAreConfigured) {
  StartServer(R"({"tokens": [{"token": "writer", "tables": ["main.default.*"]},
                             {"token": "other", "tables": ["main.elsewhere.*"]}]})");
  MakeTable(kTable, "id BIGINT, name STRING", {}, "writer");
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("optimize")).status, 401);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("optimize"), "", "other").status, 403);
  EXPECT_EQ(HttpCall(*server_, "POST", Admin("optimize"), "", "writer").status, 200);
}

TEST_F(TableAdminTest, EveryVersionInsideTheRetentionWindowReadsWithTheRowsItsHistorySays) {
  HttpReply created = CreateEvents(
      {{"delta.checkpointInterval", "4"}, {"delta.logRetentionDuration", "interval 1 day"}});
  ASSERT_EQ(created.status, 200) << created.body.dump();
  int64_t next = 0;
  for (int i = 0; i < 5; ++i, next += 7) Insert(next, 7);
  ASSERT_EQ(HttpCall(*server_, "POST", Admin("optimize")).status, 200);
  // Age the log so far by three days and restart, as a node would find it three days later: its
  // first checkpoint's cleanup drops what the log's checkpoints cover. (A running node cleans once
  // per cutoff, which moves daily; it cleaned at the checkpoint above already.)
  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(72);
  for (const auto& e : std::filesystem::directory_iterator(Root() + "/_delta_log"))
    std::filesystem::last_write_time(e.path(), old);
  StartServer();
  const int64_t aged_up_to = Version();
  for (int i = 0; i < 6; ++i, next += 7) Insert(next, 7);
  ASSERT_EQ(HttpCall(*server_, "POST", Admin("optimize")).status, 200);
  ASSERT_EQ(HttpCall(*server_, "POST", Admin("vacuum")).status, 200);  // default: 7 days

  HttpReply history = HttpCall(*server_, "GET", Admin("history"));
  ASSERT_EQ(history.status, 200);
  const json& entries = history.body["history"];
  const int64_t oldest = entries.back()["version"];
  EXPECT_GT(oldest, 0) << "log cleanup removed nothing";
  EXPECT_LE(oldest, aged_up_to);
  for (const json& e : entries) {
    ASSERT_TRUE(e["table_rows"].is_number()) << e.dump();
    EXPECT_EQ(DuckdbRows(Load(e["version"].get<int64_t>())), e["table_rows"].get<int64_t>())
        << "version " << e["version"];
  }
  EXPECT_EQ(entries.front()["table_rows"], next);
  delta::FileLogStore store(env::PosixFileSystem(), Root());
  auto gone = delta::Snapshot::Load(&store, oldest - 1);
  EXPECT_TRUE(absl::IsNotFound(gone.status())) << gone.status();
  EXPECT_NE(gone.status().message().find("no longer readable"), std::string::npos) << gone.status();
}

TEST_F(TableAdminTest, CompactionAndAnotherWritersAppendsInterleaveWithoutLosingRows) {
  StartServer();
  MakeTable(kTable, "id BIGINT, name STRING");
  // Another Delta writer (its own process) appends 5-row batches; nobusd ingests and compacts.
  const char* bin = std::getenv("NOBUS_BIN_DIR");
  const std::string child = Cat(bin != nullptr ? bin : "build/bin", "/delta_append_child");
  const std::string root = Root();  // before fork: the child only makes async-signal-safe calls
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    execl(child.c_str(), child.c_str(), root.c_str(), "other-writer", "1", "150",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::atomic<bool> done = false;
  std::atomic<int> optimize_failures = 0, optimizes = 0;
  std::thread compactor([&] {
    while (!done) {
      HttpReply r = HttpCall(*server_, "POST", Admin("optimize"));
      if (r.status == 200) ++optimizes; else ++optimize_failures;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  int64_t acked = 0;
  for (int i = 0; i < 150; ++i) {
    json rows = json::array();
    for (int k = 0; k < 4; ++k) rows.push_back({{"id", 10'000'000 + acked + k}, {"name", "nobusd"}});
    HttpReply r = HttpCall(*server_, "POST", kInsert, rows.dump());
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.body.dump();
    acked += 4;
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  done = true;
  compactor.join();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the other writer failed";
  EXPECT_GT(optimizes.load(), 0);
  std::printf("optimize calls: %d ok, %d failed (conflicts with the other writer are allowed)\n",
              optimizes.load(), optimize_failures.load());
  std::vector<std::string> rows = StopAndReadRows(kTable);
  std::map<int64_t, int> seen;
  for (const std::string& text : rows) ++seen[json::parse(text)["id"].get<int64_t>()];
  int64_t missing = 0, duplicated = 0;
  for (int64_t id = 0; id < acked; ++id) missing += !seen.contains(10'000'000 + id);
  for (int64_t v = 1; v <= 150; ++v)
    for (int i = 0; i < 5; ++i) missing += !seen.contains(v * 1000 + i);
  for (const auto& [id, n] : seen) duplicated += n > 1;
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(static_cast<int64_t>(seen.size()), acked + 150 * 5);
  EXPECT_EQ(server_->Log().find("commit failed"), std::string::npos) << server_->Log();
}

}  // namespace
}  // namespace nobus::server::testing
