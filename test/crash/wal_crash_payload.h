// Payloads of the WAL crash test, shared by the child that appends them and the test that checks
// them after a SIGKILL: each payload is a pure function of (thread, sequence), so any record read
// back can be verified on its own, and the child reports CRC32C of each acknowledged one.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace nobus::crash {

inline std::string WalCrashPayload(int thread, uint64_t seq) {
  char head[64];
  int n =
      std::snprintf(head, sizeof(head), "t%d:s%llu:", thread, static_cast<unsigned long long>(seq));
  std::string out(head, n);
  const size_t filler = (seq * 7919 + static_cast<uint64_t>(thread) * 31) % 1500 + 10;
  for (size_t i = 0; i < filler; ++i)
    out.push_back(static_cast<char>('a' + (seq + i * 13 + static_cast<uint64_t>(thread)) % 26));
  return out;
}

// Parses the "t<thread>:s<seq>:" prefix; false if absent.
inline bool ParseWalCrashPayload(std::string_view payload, int* thread, uint64_t* seq) {
  unsigned long long s = 0;
  int t = 0;
  std::string head(payload.substr(0, 48));
  if (std::sscanf(head.c_str(), "t%d:s%llu:", &t, &s) != 2) return false;
  *thread = t;
  *seq = s;
  return true;
}

}  // namespace nobus::crash
