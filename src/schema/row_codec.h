// The row codec: nobus's internal binary form of validated rows. In the data path:
// front end (record_decoder.h) -> [RowBlobWriter] -> WAL payload -> table buffer ->
// [ReplayRows] -> parquet::RowBuilder (via src/table). Rows are encoded once, at ingest, after
// validation against the table schema; the WAL stores these bytes, so recovery replays exactly
// what was acked without re-parsing JSON or needing the stream's protobuf descriptor.
// Byte layout: doc/wal.md "Row encoding".
//
// Thread-safety: RowBlobWriter is single-owner; ReplayRows is a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "schema/types.h"

namespace nobus::schema {

// Receives one row's values in schema order, exactly the call sequence parquet::RowBuilder
// expects (so src/table adapts it to a RowBuilder with one forwarding call each), except that
// top-level partition columns are not forwarded: they are reported through PartitionValue.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void BeginRow() = 0;
  // `value` in Delta's partition-value string form (dates "YYYY-MM-DD", timestamps
  // "YYYY-MM-DD HH:MM:SS[.ffffff]", numbers plain decimal, booleans true/false), nullopt = null.
  virtual void PartitionValue(const std::string& column, std::optional<std::string> value) = 0;
  virtual absl::Status EndRow() = 0;
  virtual void Null() = 0;
  virtual void Bool(bool v) = 0;
  virtual void Int32(int32_t v) = 0;
  virtual void Int64(int64_t v) = 0;
  virtual void Float(float v) = 0;
  virtual void Double(double v) = 0;
  virtual void String(std::string_view utf8) = 0;
  virtual void Binary(std::string_view bytes) = 0;
  virtual void Decimal(__int128 unscaled) = 0;
  virtual void BeginStruct() = 0;
  virtual void EndStruct() = 0;
  virtual void BeginList() = 0;
  virtual void EndList() = 0;
  virtual void BeginMap() = 0;
  virtual void EndMap() = 0;
};

// Builds a blob of encoded rows (one request's records) in `out`. Decoders call the value methods
// in schema order between BeginRow and EndRow, as for parquet::RowBuilder, but give element counts
// up front: BeginList(n) then n values, BeginMap(n) then n key, value pairs.
// The writer does not know the schema and checks nothing: ReplayRows checks the blob against the
// schema. The blob starts at out->size() when the writer is constructed (normally `out` is empty)
// and is well-formed between rows (after construction, EndRow or AbortRow). Borrows `out`.
class RowBlobWriter {
 public:
  explicit RowBlobWriter(std::string* out);
  void BeginRow();
  void EndRow();
  void AbortRow();  // drops the row in progress; the blob is as before BeginRow
  int64_t num_rows() const;

  void Null();
  void Bool(bool v);
  void Int32(int32_t v);
  void Int64(int64_t v);
  void Float(float v);
  void Double(double v);
  void String(std::string_view v);
  void Binary(std::string_view v);
  void Decimal(__int128 unscaled);
  void BeginStruct();
  void EndStruct();
  void BeginList(uint64_t count);
  void EndList();
  void BeginMap(uint64_t count);
  void EndMap();
  // For the record decoders: appends values already encoded by schema/row_encoding.h (between
  // BeginRow and EndRow).
  void AppendEncoded(std::string_view values);

 private:
  std::string* out_;
  size_t blob_start_;  // offset of the blob header in *out_
  size_t row_start_;   // size of *out_ at BeginRow
  int64_t num_rows_ = 0;
};

// Number of rows in a blob; DataLoss if it is not a well-formed blob header.
[[nodiscard]] absl::StatusOr<int64_t> CountRows(std::string_view blob);

// Replays every row of `blob` into `sink` against `schema`, reporting the top-level columns named
// in `partition_columns` via PartitionValue. Returns the first non-OK EndRow status, or DataLoss
// if the blob does not match the schema (never crashes on arbitrary bytes: blobs come from disk).
// On DataLoss the sink has seen BeginRow but no EndRow for the offending row (the sink drops it,
// e.g. RowBuilder::AbortRow). InvalidArgument when a partition column is not a top-level primitive
// column of `schema`. PartitionValue calls come in schema order among the value calls.
[[nodiscard]] absl::Status ReplayRows(const Schema& schema,
                                      const std::vector<std::string>& partition_columns,
                                      std::string_view blob, RowSink* sink);

}  // namespace nobus::schema
