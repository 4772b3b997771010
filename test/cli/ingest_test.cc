// `nobus ingest` against a real nobusd: every good line lands (read back with DuckDB), bad lines
// (not JSON objects, or rejected by the server) are reported by line number while all other lines
// land exactly once, stdin input, and the exit codes and advice for usage and server errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cli_run.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "nobusd_process.h"
#include "table_reader.h"

namespace nobus::cli::testing {
namespace {

using delta::testing::TempDir;
using server::testing::CreateTable;
using server::testing::HttpReply;
using server::testing::Nobusd;
using server::testing::ReadJsonRows;
using server::testing::TableRoot;

int64_t AsInt(const nlohmann::json& v) {
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

  // Waits until `n` rows are committed (nobusd commits every 200 ms here), then reads them.
  std::vector<nlohmann::json> Rows(int64_t n) {
    const std::string data_dir = scratch_->path() + "/data";
    delta::LocalLogStore store(env::PosixFileSystem(), TableRoot(data_dir, table_));
    for (int i = 0; i < 300; ++i) {
      absl::StatusOr<delta::Snapshot> s = delta::Snapshot::Load(&store);
      if (s.ok() && s->CountRecords().records >= n) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
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

  static TempDir* scratch_;
  static Nobusd* server_;
  std::string table_;
  std::string input_;
};

TempDir* IngestTest::scratch_ = nullptr;
Nobusd* IngestTest::server_ = nullptr;

std::string GoodLines(int64_t from, int64_t to) {  // ids from..to-1
  std::string text;
  for (int64_t i = from; i < to; ++i) text += Cat("{\"id\": ", i, ", \"msg\": \"m", i, "\"}\n");
  return text;
}

TEST_F(IngestTest, GoodFileLandsEveryRow) {
  WriteFile(input_, GoodLines(0, 2500));
  CliResult r = Ingest(Cat("'", input_, "' --batch-size 1000"));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2,500 records"), std::string::npos) << r.out;
  std::vector<nlohmann::json> rows = Rows(2500);
  std::vector<int64_t> want(2500);
  for (int64_t i = 0; i < 2500; ++i) want[static_cast<size_t>(i)] = i;
  EXPECT_EQ(Ids(rows), want);
  for (const auto& row : rows) EXPECT_EQ(row["msg"], Cat("m", AsInt(row["id"])));
}

TEST_F(IngestTest, BadLinesAreReportedByNumberAndTheRestLands) {
  // Line n holds id n. Line 3 is not JSON, line 20 has a string id, line 33 lacks the NOT NULL id.
  std::string text;
  for (int64_t line = 1; line <= 50; ++line) {
    if (line == 3) text += "{\"id\": 3, \"msg\":\n";
    else if (line == 20) text += "{\"id\": \"twenty\"}\n";
    else if (line == 33) text += "{\"msg\": \"no id\"}\n";
    else text += Cat("{\"id\": ", line, "}\n");
  }
  WriteFile(input_, text);
  CliResult r = Ingest(Cat("'", input_, "' --batch-size 10"));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("line 3: not a JSON object"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 20: rejected by the server"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("column 'id'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 33: rejected by the server"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("47 records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 lines failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3, 20, 33"), std::string::npos) << r.out;
  std::vector<int64_t> want;
  for (int64_t line = 1; line <= 50; ++line)
    if (line != 3 && line != 20 && line != 33) want.push_back(line);
  EXPECT_EQ(Ids(Rows(47)), want);  // each good line exactly once
}

TEST_F(IngestTest, ReadsStdinWhenNoFileIsGiven) {
  WriteFile(input_, GoodLines(0, 30));
  CliResult r = RunNobus(Cat("ingest ", table_, " --server ", server_->endpoint()),
                         scratch_->path(), input_);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Ids(Rows(30)).size(), 30u);
}

TEST_F(IngestTest, UsageErrorsExitTwo) {
  WriteFile(input_, GoodLines(0, 1));
  EXPECT_EQ(RunNobus("ingest main.cli '" + input_ + "'", scratch_->path()).exit_code, 2);
  CliResult missing = Ingest("'" + input_ + ".missing'");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos) << missing.err;
  EXPECT_EQ(Ingest("'" + input_ + "' --batch-size 0").exit_code, 2);
}

TEST_F(IngestTest, UnknownTableSaysHowToCreateIt) {
  WriteFile(input_, GoodLines(0, 1));
  CliResult r = RunNobus(Cat("ingest main.cli.nope '", input_, "' --server ", server_->endpoint()),
                         scratch_->path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nobus table create main.cli.nope"), std::string::npos) << r.err;
}

TEST_F(IngestTest, UnreachableServerSaysHowToStartIt) {
  WriteFile(input_, GoodLines(0, 1));
  CliResult r = RunNobus(Cat("ingest ", table_, " '", input_, "' --server http://127.0.0.1:1"),
                         scratch_->path());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot reach nobusd at http://127.0.0.1:1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("build/bin/nobusd"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace nobus::cli::testing
