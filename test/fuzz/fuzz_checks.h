// Helpers shared by the fuzz targets: invariant checks that abort (so libFuzzer records a crash),
// the serialize-then-parse round trip the Delta targets apply to what they parsed, and the
// decode-then-replay check the record decoder targets apply to every input.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "delta/actions.h"
#include "schema/ddl.h"
#include "schema/record_decoder.h"
#include "schema/row_codec.h"

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

// The value of `v`; aborts if it is an error (fixture setup).
template <typename T>
T OrDie(absl::StatusOr<T> v) {
  Check(v.ok());
  return *std::move(v);
}

// Counts rows and checks the call sequence is balanced.
class CountingSink : public schema::RowSink {
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

// A table schema and a record decoder for it, built once per fuzz process.
struct DecoderFixture {
  schema::Schema schema;
  std::unique_ptr<schema::RecordDecoder> decoder;
};

// The fixture for table `ddl` with the decoder `make_decoder(schema)` returns (a StatusOr);
// aborts if either fails. Never freed: fuzz targets keep it for the whole process.
template <typename MakeDecoder>
const DecoderFixture* NewDecoderFixture(std::string_view ddl, MakeDecoder make_decoder) {
  auto* f = new DecoderFixture;
  f->schema = OrDie(schema::ParseDdl(ddl));
  f->decoder = OrDie(make_decoder(f->schema));
  return f;
}

// Decodes `record` as one row: a rejection must be InvalidArgument and leave the blob as it was;
// an accepted record must write one row that replays through ReplayRows (the WAL recovery path,
// with `partitions` as partition columns) without error, balanced, as exactly one row.
inline void CheckDecodeOne(const DecoderFixture& f, const std::vector<std::string>& partitions,
                           std::string_view record) {
  std::string blob;
  schema::RowBlobWriter writer(&blob);
  const std::string empty = blob;
  absl::Status st = f.decoder->Decode(record, &writer);
  if (!st.ok()) {
    Check(st.code() == absl::StatusCode::kInvalidArgument);
    Check(blob == empty && writer.num_rows() == 0);
    return;
  }
  Check(writer.num_rows() == 1);
  CountingSink sink;
  Check(schema::ReplayRows(f.schema, partitions, blob, &sink).ok());
  Check(sink.rows == 1);
}

}  // namespace nobus::fuzz
