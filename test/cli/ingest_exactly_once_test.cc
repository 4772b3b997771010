// `nobus ingest --stream-id-file/--stream-id` (exactly-once, resumable) against a real nobusd:
// a complete run, a rerun that sends nothing, appended lines sent by a resume; a `nobus` process
// SIGKILLed mid-file and run again lands every line exactly once; a bad line stops the run after
// everything before it landed and the fixed file completes; --wait-committed prints the version
// of a commit that already holds every row; usage errors.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "ingest_fixture.h"

namespace nobus::cli::testing {
namespace {

class IngestExactlyOnceTest : public IngestTest {
 protected:
  std::string IdFile() const { return input_ + ".stream"; }
  CliResult IngestOnce(const std::string& extra = "") {
    return Ingest(Cat("'", input_, "' --stream-id-file '", IdFile(), "' ", extra));
  }
};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<int64_t> Range(int64_t n) {
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
  return ids;
}

// `nobus` with `args` in the background, stdout and stderr into `log`. The argv is built before
// fork: the child only makes async-signal-safe calls until exec.
pid_t SpawnNobus(const std::vector<std::string>& args, const std::string& log) {
  const char* dir = std::getenv("NOBUS_BIN_DIR");
  std::string bin = Cat(dir != nullptr ? dir : "build/bin", "/nobus");
  std::vector<std::string> owned = args;
  std::vector<char*> argv{bin.data()};
  for (std::string& a : owned) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execv(bin.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

TEST_F(IngestExactlyOnceTest, RunsResumesAndSendsOnlyNewLines) {
  WriteFile(input_, GoodLines(0, 1500) + "\n   \n" + GoodLines(1500, 3000));  // blank lines
  CliResult r = IngestOnce();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("3,000 records"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("created persistent stream"), std::string::npos) << r.err;
  const std::string id = ReadText(IdFile());
  ASSERT_NE(id.find(table_ + "/"), std::string::npos) << id;

  CliResult again = IngestOnce();  // nothing new
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 records"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("3,000 lines had landed in earlier runs"), std::string::npos)
      << again.out;

  std::ofstream(input_, std::ios::app) << GoodLines(3000, 3500);
  CliResult appended =
      Ingest(Cat("'", input_, "' --stream-id ", id.substr(0, id.find('\n'))));
  ASSERT_EQ(appended.exit_code, 0) << appended.out << appended.err;
  EXPECT_NE(appended.out.find("500 records"), std::string::npos) << appended.out;
  EXPECT_EQ(Ids(Rows(3500)), Range(3500));
}

TEST_F(IngestExactlyOnceTest, KilledMidFileAndRunAgainLandsEveryLineOnce) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A kill loop of 600,000 lines: minutes under the sanitizers for paths the other tests reach.
  GTEST_SKIP() << "release build only (CI time)";
#endif
  constexpr int64_t kLines = 600'000;
  WriteFile(input_, GoodLines(0, kLines));
  const std::string log = input_ + ".log";
  pid_t pid = SpawnNobus({"ingest", table_, input_, "--server", server_->endpoint(),
                          "--stream-id-file", IdFile()},
                         log);
  ASSERT_GT(pid, 0);
  // Kill it once some rows are committed (lines are landing), while it still runs.
  int status = 0;
  bool exited = false;
  for (int i = 0; i < 6000 && CommittedRecords() < 20'000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(exited) << "nobus finished before it could be killed: " << ReadText(log);
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << ReadText(log);
  const int64_t at_kill = CommittedRecords();
  EXPECT_LT(at_kill, kLines) << "the kill came after the last line";

  CliResult r = IngestOnce();
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("resumed stream"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("lines had landed in earlier runs"), std::string::npos) << r.out;
  std::vector<int64_t> ids = Ids(Rows(kLines));
  ASSERT_EQ(ids.size(), static_cast<size_t>(kLines)) << "duplicates or missing lines";
  EXPECT_EQ(ids, Range(kLines));
}

TEST_F(IngestExactlyOnceTest, ABadLineStopsTheRunAndTheFixedFileCompletes) {
  // Line n holds id n-1. Line 20 is rejected by the server, line 30 is not JSON.
  auto text = [](bool fix20, bool fix30) {
    std::string out;
    for (int64_t line = 1; line <= 50; ++line) {
      if (line == 20 && !fix20) out += "{\"id\": \"nineteen\"}\n";
      else if (line == 30 && !fix30) out += "{\"id\": 29,\n";
      else out += Cat("{\"id\": ", line - 1, "}\n");
    }
    return out;
  };
  WriteFile(input_, text(false, false));
  CliResult first = IngestOnce();
  EXPECT_EQ(first.exit_code, 1) << first.out << first.err;
  EXPECT_NE(first.err.find("line 20: rejected by the server"), std::string::npos) << first.err;
  EXPECT_NE(first.err.find("Fix line 20"), std::string::npos) << first.err;
  EXPECT_EQ(Ids(Rows(19)), Range(19));

  WriteFile(input_, text(true, false));
  CliResult second = IngestOnce();
  EXPECT_EQ(second.exit_code, 1) << second.out << second.err;
  EXPECT_NE(second.err.find("line 30: not a JSON object"), std::string::npos) << second.err;
  EXPECT_NE(second.out.find("19 lines had landed in earlier runs"), std::string::npos)
      << second.out;

  WriteFile(input_, text(true, true));
  CliResult third = IngestOnce();
  ASSERT_EQ(third.exit_code, 0) << third.out << third.err;
  EXPECT_NE(third.out.find("21 records"), std::string::npos) << third.out;
  EXPECT_EQ(Ids(Rows(50)), Range(50));
}

TEST_F(IngestExactlyOnceTest, WaitCommittedPrintsTheVersionHoldingEveryRow) {
  WriteFile(input_, GoodLines(0, 5000));
  CliResult r = IngestOnce("--wait-committed");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("committed to the table at version "), std::string::npos) << r.out;
  EXPECT_EQ(CommittedRecords(), 5000);  // no waiting: the commit is already there
  CliResult again = IngestOnce("--wait-committed");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("nothing new to send"), std::string::npos) << again.out;
}

TEST_F(IngestExactlyOnceTest, UsageErrorsExitTwo) {
  WriteFile(input_, GoodLines(0, 1));
  EXPECT_EQ(RunNobus(Cat("ingest ", table_, " --server ", server_->endpoint(),
                         " --stream-id-file '", IdFile(), "'"),
                     scratch_->path(), input_)
                .exit_code,
            2);  // stdin
  EXPECT_EQ(Ingest(Cat("'", input_, "' --wait-committed")).exit_code, 2);
  EXPECT_EQ(IngestOnce("--batch-size 10").exit_code, 2);
  EXPECT_EQ(IngestOnce("--stream-id x").exit_code, 2);
  CliResult bad_id = Ingest(Cat("'", input_, "' --stream-id not-an-id"));
  EXPECT_EQ(bad_id.exit_code, 1);
  EXPECT_NE(bad_id.err.find("not a persistent stream id"), std::string::npos) << bad_id.err;
}

}  // namespace
}  // namespace nobus::cli::testing
