// libFuzzer target for the Delta checkpoint reader (untrusted bytes: `<N>.checkpoint.parquet`
// and `_last_checkpoint` written by any engine). The input is fed to ParseCheckpoint as a whole
// Parquet file and to ParseLastCheckpoint as JSON. Invariants: no crash or sanitizer report;
// actions from a checkpoint that parsed serialize as a commit that parses back. Also compiled
// into delta_fuzz_regression_test (with NOBUS_FUZZ_REGRESSION) as a regression.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "delta/actions.h"
#include "delta/checkpoint.h"
#include "fuzz_checks.h"

using nobus::fuzz::Check;

int NobusDeltaCheckpointFuzzOne(const uint8_t* bytes, size_t size) {
  std::string_view data(reinterpret_cast<const char*>(bytes), size);
  (void)nobus::delta::ParseLastCheckpoint(data);
  auto parsed = nobus::delta::ParseCheckpoint(data, "fuzz.checkpoint.parquet");
  if (!parsed.ok()) return 0;
  Check(nobus::fuzz::RoundTrip(*parsed).adds.size() == parsed->adds.size());
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusDeltaCheckpointFuzzOne(bytes, size);
}
#endif
