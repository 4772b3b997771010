// libFuzzer target for the JSON record decoder (untrusted bytes: every JSON record a client sends).
// The input is one record, decoded against a fixed nested table schema. Invariants checked: no
// crash or sanitizer report; a rejected record leaves the blob exactly as it was; an accepted
// record replays through ReplayRows (the WAL recovery path) without error and as exactly one row.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "schema/ddl.h"
#include "schema/record_decoder.h"

namespace {

constexpr std::string_view kSchema =
    "id BIGINT NOT NULL, msg STRING, n INT, s SMALLINT, t TINYINT, f FLOAT, d DOUBLE, ok BOOLEAN, "
    "bin BINARY, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, price DECIMAL(10,2), "
    "big DECIMAL(38,6), tags ARRAY<STRING>, "
    "payload STRUCT<x: INT NOT NULL, y: ARRAY<STRUCT<z: DOUBLE, w: MAP<STRING, BIGINT>>>>, "
    "m MAP<INT, ARRAY<DATE>>";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nobus::fuzz::DecoderFixture* fixture = nobus::fuzz::NewDecoderFixture(
      kSchema,
      [](const nobus::schema::Schema& s) { return nobus::schema::RecordDecoder::ForJson(s); });
  nobus::fuzz::CheckDecodeOne(*fixture, {"id", "day"},
                              std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
