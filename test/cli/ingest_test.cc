// `nobus ingest` against a real nobusd: every good line lands (read back with DuckDB), bad lines
// (not JSON objects, or rejected by the server) are reported by line number while all other lines
// land exactly once, stdin input, and the exit codes and advice for usage and server errors.
#include "ingest_fixture.h"

namespace nobus::cli::testing {
namespace {

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
