// Crash test of the WAL: a child process (wal_crash_child) appends from many threads to a WAL on
// the real file system and reports every acknowledged LSN; it is SIGKILLed at a random moment,
// the WAL is reopened (recovery) and every acknowledged record must be there, intact, and every
// record present must be one the child wrote. Repeated on the same directory, so recovery runs on
// logs that were themselves recovered; between runs part of the log is released (truncation).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "common/crc32c.h"
#include "crash/wal_crash_payload.h"
#include "env/env.h"
#include "gtest/gtest.h"
#include "wal/wal.h"

namespace nobus::wal {
namespace {

constexpr int kIterations = 20;
constexpr int kThreads = 16;

struct ChildRun {
  std::map<Lsn, uint32_t> acked;  // LSN -> CRC32C of the payload
  int exit_signal = 0;
};

// Reads "<lsn> <crc>" lines from `fd` until `stop_after` acks were seen (then kills `pid`) or EOF.
void ReadAcks(int fd, pid_t pid, size_t stop_after, ChildRun* run) {
  std::string buffer;
  char chunk[4096];
  bool killed = false;
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, n);
    size_t start = 0, nl;
    while ((nl = buffer.find('\n', start)) != std::string::npos) {
      unsigned long long lsn = 0;
      unsigned crc = 0;
      if (std::sscanf(buffer.c_str() + start, "%llu %u", &lsn, &crc) == 2) run->acked[lsn] = crc;
      start = nl + 1;
    }
    buffer.erase(0, start);
    if (!killed && run->acked.size() >= stop_after) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  if (!killed) ::kill(pid, SIGKILL);
}

ChildRun RunChild(const std::string& dir, size_t stop_after, bool prezero) {
  const char* bin_dir = std::getenv("NOBUS_BIN_DIR");
  std::string child = Cat(bin_dir != nullptr ? bin_dir : "build/bin", "/wal_crash_child");
  // Built before fork: the child only makes async-signal-safe calls until execl.
  const std::string threads = std::to_string(kThreads);
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(child.c_str(), child.c_str(), dir.c_str(), threads.c_str(), prezero ? "1" : "0",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  ChildRun run;
  ReadAcks(fds[0], pid, stop_after, &run);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  EXPECT_TRUE(WIFSIGNALED(status)) << child << " exited with status " << WEXITSTATUS(status);
  return run;
}

// Reads the whole log; checks each record is a payload the child could have written.
std::map<Lsn, uint32_t> ReadBack(Wal* wal, Lsn after) {
  std::map<Lsn, uint32_t> out;
  absl::Status st = wal->ReadFrom(after, [&](Lsn lsn, std::string_view payload) {
    int thread = 0;
    uint64_t seq = 0;
    EXPECT_TRUE(crash::ParseWalCrashPayload(payload, &thread, &seq)) << "LSN " << lsn;
    EXPECT_EQ(payload, crash::WalCrashPayload(thread, seq)) << "LSN " << lsn;
    out[lsn] = crc32c::Value(payload);
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

TEST(WalCrashTest, EveryAckedRecordSurvivesSigkill) {
  // Beside the binaries (a real disk in the build tree) rather than in a possibly-tmpfs /tmp.
  const char* bin_dir = std::getenv("NOBUS_BIN_DIR");
  std::string tmpl = Cat(bin_dir != nullptr ? bin_dir : "/tmp", "/wal_crash_XXXXXX");
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
  const std::string dir = tmpl;
  std::mt19937 rng(std::random_device{}());
  Lsn max_acked = 0;
  Lsn released = 0;
  size_t total_acked = 0;
  for (int iter = 0; iter < kIterations; ++iter) {
    const size_t stop_after = std::uniform_int_distribution<size_t>(1, 10000)(rng);
    ChildRun run = RunChild(dir, stop_after, iter % 2 == 1);
    ASSERT_FALSE(run.acked.empty()) << "iteration " << iter << ": child acked nothing";
    EXPECT_GT(run.acked.begin()->first, max_acked) << "LSN went backwards, iteration " << iter;
    max_acked = std::max(max_acked, run.acked.rbegin()->first);
    total_acked += run.acked.size();

    auto wal = Wal::Open(env::PosixFileSystem(), env::SystemClock(), dir);
    ASSERT_TRUE(wal.ok()) << "iteration " << iter << ": " << wal.status();
    std::map<Lsn, uint32_t> on_disk = ReadBack(wal->get(), released);
    for (const auto& [lsn, crc] : run.acked) {
      auto it = on_disk.find(lsn);
      ASSERT_NE(it, on_disk.end()) << "iteration " << iter << ": acked LSN " << lsn << " lost";
      EXPECT_EQ(it->second, crc) << "iteration " << iter << ": LSN " << lsn << " differs";
    }
    EXPECT_GE((*wal)->next_lsn(), max_acked + 1);
    released = std::max(released, (*wal)->durable_lsn() / 2);
    ASSERT_TRUE((*wal)->ReleaseUpTo(released).ok());
    ASSERT_TRUE((*wal)->Close().ok());
  }
  std::printf("%d SIGKILLs, %zu acknowledged appends checked\n", kIterations, total_acked);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nobus::wal
