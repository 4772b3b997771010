// libFuzzer target for the Delta commit parser (untrusted bytes: `_delta_log/<N>.json` written by
// any engine). The input is one commit file body. Invariants: no crash or sanitizer report; a
// body that parses serializes, and the serialization parses back to the same actions (paths
// decode to themselves, unknown actions dropped). Also compiled into delta_fuzz_regression_test
// (with NOBUS_FUZZ_REGRESSION) as a regression over known-bad inputs.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "delta/actions.h"
#include "fuzz_checks.h"

using nobus::fuzz::Check;

int NobusDeltaActionsFuzzOne(const uint8_t* bytes, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(bytes), size);
  auto parsed = nobus::delta::ParseCommit(body, "fuzz.json");
  if (!parsed.ok()) return 0;
  const nobus::delta::CommitActions again = nobus::fuzz::RoundTrip(*parsed);
  Check(again.adds.size() == parsed->adds.size());
  Check(again.removes.size() == parsed->removes.size());
  Check(again.txns.size() == parsed->txns.size());
  Check(again.protocol.has_value() == parsed->protocol.has_value());
  Check(again.metadata.has_value() == parsed->metadata.has_value());
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusDeltaActionsFuzzOne(bytes, size);
}
#endif
