// Child process of wal_crash_test: opens the WAL in argv[1] on the real file system and appends
// from argv[2] threads until it is killed, writing "<lsn> <crc32c of payload>\n" to stdout for
// every acknowledged append (one write(2) per line, so a SIGKILL never splits a line). argv[3] = 1
// turns on pre-zeroed segments. Exits 2 if the WAL cannot be opened or an append fails.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/crc32c.h"
#include "crash/wal_crash_payload.h"
#include "env/env.h"
#include "wal/wal.h"

namespace {

void Report(uint64_t lsn, uint32_t crc) {
  char line[64];
  int n = std::snprintf(line, sizeof(line), "%llu %u\n", static_cast<unsigned long long>(lsn), crc);
  if (::write(STDOUT_FILENO, line, n) != n) std::_Exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: wal_crash_child DIR THREADS PREZERO\n");
    return 2;
  }
  nobus::wal::WalOptions options;
  options.segment_size_bytes = 1 << 20;
  options.prezero_segments = std::atoi(argv[3]) == 1;
  auto wal = nobus::wal::Wal::Open(nobus::env::PosixFileSystem(), nobus::env::SystemClock(),
                                   argv[1], options);
  if (!wal.ok()) {
    std::fprintf(stderr, "open: %s\n", wal.status().ToString().c_str());
    return 2;
  }
  const int threads = std::atoi(argv[2]);
  const uint64_t base_seq = (*wal)->next_lsn();  // distinct payloads per run
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (uint64_t seq = base_seq;; ++seq) {
        std::string payload = nobus::crash::WalCrashPayload(t, seq);
        auto lsn = (*wal)->Append(payload);
        if (!lsn.ok()) {
          std::fprintf(stderr, "append: %s\n", lsn.status().ToString().c_str());
          std::_Exit(2);
        }
        Report(*lsn, nobus::crc32c::Value(payload));
      }
    });
  }
  for (auto& w : workers) w.join();
  return 0;
}
