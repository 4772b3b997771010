// Test-side model of the rows handed to the Parquet writer, and everything the reader tests
// derive from it independently of the writer: the RowBuilder calls that append a row, the
// canonical JSON form every reader's output is compared with (see test/readers/canonical.mjs),
// and the footer statistics recomputed per leaf column.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "parquet/row_batch.h"
#include "schema/types.h"

namespace nobus::parquet::testing {

// One value of any Delta type. Which member is used follows the column's type: `i` for every
// integer type, dates (days) and timestamps (microseconds); `f` for float and double; `s` for
// string and binary; `dec` for decimals (unscaled); `items` for list elements, struct fields in
// schema order, and map entries as key, value, key, value, ...
struct Value {
  enum class Kind { kNull, kBool, kInt, kReal, kBytes, kDecimal, kList, kStruct, kMap };
  Kind kind = Kind::kNull;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  __int128 dec = 0;
  std::vector<Value> items;
};
using Row = std::vector<Value>;  // one Value per top-level field

Value Null();
Value Bool(bool v);
Value Int(int64_t v);
Value Real(double v);
Value Bytes(std::string v);
Value Dec(__int128 unscaled);
Value List(std::vector<Value> items);
Value Struct(std::vector<Value> fields);
Value Map(std::vector<std::pair<Value, Value>> entries);

// Appends `row` through the public RowBuilder API (BeginRow ... EndRow) and returns EndRow's
// status.
[[nodiscard]] absl::Status AppendRow(const schema::Schema& schema, const Row& row,
                                     RowBuilder* builder);

// Canonical JSON of a value / a row (an object keyed by top-level field name).
nlohmann::json Canonical(const schema::DataType& type, const Value& v);
nlohmann::json CanonicalRow(const schema::Schema& schema, const Row& row);
nlohmann::json CanonicalFloat(double v);
std::string DecimalString(__int128 unscaled, int scale);
std::string DateString(int64_t days);
std::string Hex(std::string_view bytes);

// Statistics of one leaf column recomputed from the values, in canonical form.
struct ExpectedLeafStats {
  std::string path;         // Parquet path_in_schema joined with '.'
  schema::DataType type;    // the leaf's primitive type
  int64_t null_count = 0;   // level entries with no value (null at any depth, empty lists)
  nlohmann::json min, max;  // null when the leaf has no non-null, non-NaN value
  bool has_nan = false;
};

// The leaves of `schema` in column order with their statistics over `rows` (use a sub-range
// of the rows for one row group).
std::vector<ExpectedLeafStats> ComputeLeafStats(const schema::Schema& schema,
                                                const std::vector<Row>& rows);

}  // namespace nobus::parquet::testing
