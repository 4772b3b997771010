// Record decoders: the front end's validation step. In the data path: gRPC / REST request ->
// [RecordDecoder::Decode] -> encoded rows (row_codec.h) -> WAL. A record that does not fit the
// table schema is rejected here with InvalidArgument naming the column and the problem, before
// anything of its request reaches the WAL.
//
// JSON records: one JSON object per record, values mapped to columns by name (case-sensitive,
// falling back to case-insensitive); unknown keys, missing NOT NULL columns and wrong types are
// errors; missing nullable columns are null. Databricks conventions: DATE as "YYYY-MM-DD" or
// integer days since epoch; TIMESTAMP / TIMESTAMP_NTZ as integer microseconds since epoch or an
// ISO-8601 string ("2025-01-02T03:04:05.123456Z", offset allowed for TIMESTAMP); DECIMAL as a JSON
// number or string, exact (no binary floating point); BINARY as base64; BIGINT also accepted as a
// string of digits; FLOAT/DOUBLE also as "NaN", "Infinity", "-Infinity"; STRUCT as an object,
// ARRAY as an array, MAP as an object (string keys) or array of {"key":..,"value":..}.
//
// Protobuf records: the stream's DescriptorProto (nested types inside it) is checked against the
// table once, at create_stream (ForProto): every field must name a column, with the type mapping of
// specs/zerobus-wire.md "Protobuf records"; a NOT NULL column must be a `required` field; a
// nullable column may be absent from the descriptor (null). Records are the standard binary
// encoding of that message, decoded by our own wire-format parser (unknown field numbers skipped).
// Lenient where harmless: a nullable column may be `required`; int32/sint32/sfixed32/uint32/fixed32
// into BIGINT or TIMESTAMP, float into DOUBLE, string into BINARY; a DECIMAL column takes a string
// field holding the exact decimal text. Type names resolve like protoc (relative to the enclosing
// message, or fully qualified with any package). Enums, groups and imported types are rejected.
// (The schema model has no VARIANT type, so "VARIANT -> string" does not arise.)
//
// Thread-safety: a decoder is immutable after creation; Decode may run on many threads at once.
// Decode keeps per-thread scratch (a thread's JSON parser keeps the capacity of the largest record
// it has seen), so it does not allocate per record once warm.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/row_codec.h"
#include "schema/types.h"

namespace nobus::schema {

enum class RecordFormat { kJson, kProto };

class RecordDecoder {
 public:
  virtual ~RecordDecoder() = default;
  // InvalidArgument for a schema the decoder cannot serve (should not happen for valid tables).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RecordDecoder>> ForJson(const Schema& table);
  // InvalidArgument naming the field and the mismatch when `descriptor_proto` (a serialized
  // google.protobuf.DescriptorProto) does not fit the table, or does not parse.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<RecordDecoder>> ForProto(
      const Schema& table, std::string_view descriptor_proto);

  virtual RecordFormat format() const = 0;
  // Appends `record` as one row to `rows`. InvalidArgument ("column 'a.b': expected BIGINT, got
  // string") on any mismatch, and then `rows` is as before the call.
  [[nodiscard]] virtual absl::Status Decode(std::string_view record, RowBlobWriter* rows) const = 0;
};

}  // namespace nobus::schema
