// Helpers shared by the Delta fuzz targets: invariant checks that abort (so libFuzzer records a
// crash) and the serialize-then-parse round trip both targets apply to what they parsed.
#pragma once

#include <cstdlib>
#include <string>

#include "delta/actions.h"

namespace nobus::fuzz {

inline void Check(bool ok) {
  if (!ok) std::abort();
}

// Serializes `parsed` as a commit and parses it back; aborts if that fails.
inline delta::CommitActions RoundTrip(const delta::CommitActions& parsed) {
  auto again = delta::ParseCommit(delta::SerializeCommit(parsed), "fuzz-roundtrip.json");
  Check(again.ok());
  return *std::move(again);
}

}  // namespace nobus::fuzz
