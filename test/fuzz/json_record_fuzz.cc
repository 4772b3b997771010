// libFuzzer target for the JSON record decoder (untrusted bytes: every JSON record a client sends).
// The input is one record, decoded against a fixed nested table schema. Invariants checked: no
// crash or sanitizer report; a rejected record leaves the blob exactly as it was; an accepted
// record replays through ReplayRows (the WAL recovery path) without error and as exactly one row.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "schema/ddl.h"
#include "schema/record_decoder.h"
#include "schema/row_codec.h"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr std::string_view kSchema =
    "id BIGINT NOT NULL, msg STRING, n INT, s SMALLINT, t TINYINT, f FLOAT, d DOUBLE, ok BOOLEAN, "
    "bin BINARY, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, price DECIMAL(10,2), "
    "big DECIMAL(38,6), tags ARRAY<STRING>, "
    "payload STRUCT<x: INT NOT NULL, y: ARRAY<STRUCT<z: DOUBLE, w: MAP<STRING, BIGINT>>>>, "
    "m MAP<INT, ARRAY<DATE>>";

// Counts rows and checks the call sequence is balanced.
class CountingSink : public nobus::schema::RowSink {
 public:
  int64_t rows = 0;
  int depth = 0;
  void BeginRow() override { Check(depth == 0); }
  void PartitionValue(const std::string&, std::optional<std::string>) override {}
  absl::Status EndRow() override {
    Check(depth == 0);
    ++rows;
    return absl::OkStatus();
  }
  void Null() override {}
  void Bool(bool) override {}
  void Int32(int32_t) override {}
  void Int64(int64_t) override {}
  void Float(float) override {}
  void Double(double) override {}
  void String(std::string_view) override {}
  void Binary(std::string_view) override {}
  void Decimal(__int128) override {}
  void BeginStruct() override { ++depth; }
  void EndStruct() override { --depth; }
  void BeginList() override { ++depth; }
  void EndList() override { --depth; }
  void BeginMap() override { ++depth; }
  void EndMap() override { --depth; }
};

struct Fixture {
  nobus::schema::Schema schema;
  std::unique_ptr<nobus::schema::RecordDecoder> decoder;
  Fixture() {
    auto parsed = nobus::schema::ParseDdl(kSchema);
    Check(parsed.ok());
    schema = *parsed;
    auto dec = nobus::schema::RecordDecoder::ForJson(schema);
    Check(dec.ok());
    decoder = *std::move(dec);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  std::string_view record(reinterpret_cast<const char*>(data), size);
  std::string blob;
  nobus::schema::RowBlobWriter writer(&blob);
  const std::string empty = blob;
  absl::Status st = fixture->decoder->Decode(record, &writer);
  if (!st.ok()) {
    Check(st.code() == absl::StatusCode::kInvalidArgument);
    Check(blob == empty && writer.num_rows() == 0);
    return 0;
  }
  Check(writer.num_rows() == 1);
  CountingSink sink;
  Check(nobus::schema::ReplayRows(fixture->schema, {"id", "day"}, blob, &sink).ok());
  Check(sink.rows == 1);
  return 0;
}
