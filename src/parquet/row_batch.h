// Columnar row buffers for one table schema: the in-memory form of rows between ingest and a
// Parquet file. RowBuilder shreds each row (Dremel repetition/definition levels) straight into
// per-leaf buffers, so appending a value never allocates per value (buffers grow geometrically).
//
// Lifecycle: a RowBatch is created for a schema, filled by exactly one RowBuilder, handed to
// FileWriter::Write, then Clear()ed and reused. Not thread-safe: one owner (the table buffer).
// Everything here is in memory only; durability comes from the WAL in front of it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/byte_buffer.h"
#include "parquet/physical_type.h"
#include "schema/types.h"

namespace nobus::parquet {

class FileReader;

// One leaf column of the schema (a primitive at the end of a path through structs, lists, maps).
struct LeafDescriptor {
  std::vector<std::string> path;  // Parquet path_in_schema, e.g. {"tags","list","element"}
  std::string display_path;       // user-facing column name, e.g. "tags.element"
  schema::DataType type;          // the Delta primitive type of the values
  PhysicalType physical = PhysicalType::kInt64;
  int type_length = 0;  // FIXED_LEN_BYTE_ARRAY width (decimal p > 18)
  int16_t max_def = 0;
  int16_t max_rep = 0;
  bool required = false;  // value must be present whenever its parent is (nullable:false)
  // Index of the top-level schema field this leaf belongs to, and whether it sits under an array
  // or map (such leaves get no Delta min/max statistics).
  int top_level_field = 0;
  bool inside_repeated = false;
};

// The values and levels of one leaf. Fixed-width values are stored little-endian in `values`
// (booleans one byte each); byte arrays as concatenated bytes plus `offsets` (size n+1).
struct LeafBuffer {
  std::vector<int16_t> def_levels;   // empty when max_def == 0
  std::vector<int16_t> rep_levels;   // empty when max_rep == 0
  ByteBuffer values;                 // non-null values only
  std::vector<uint32_t> offsets{0};  // byte arrays: value i = values[offsets[i], offsets[i+1])
  int64_t num_values = 0;            // non-null values stored
  int64_t num_levels = 0;            // level entries (values + nulls + empty lists)
};

class RowBatch {
 public:
  // Fails with InvalidArgument if the schema is invalid (schema::Validate).
  static absl::StatusOr<std::unique_ptr<RowBatch>> Create(const schema::Schema& schema);

  const schema::Schema& schema() const { return schema_; }
  const std::vector<LeafDescriptor>& leaves() const { return leaves_; }
  const LeafBuffer& leaf(size_t i) const { return buffers_[i]; }
  LeafBuffer& mutable_leaf(size_t i) { return buffers_[i]; }
  int64_t num_rows() const { return num_rows_; }
  // Approximate bytes held (values + levels), for flush thresholds.
  int64_t ByteSize() const;
  void Clear();

 private:
  friend class RowBuilder;
  friend absl::Status AppendRowGroupRows(const FileReader& file, int row_group, RowBatch* batch);
  RowBatch() = default;
  schema::Schema schema_;
  std::vector<LeafDescriptor> leaves_;
  std::vector<LeafBuffer> buffers_;
  int64_t num_rows_ = 0;
};

// Appends rows to a RowBatch by walking the schema depth-first in field order:
//
//   b.BeginRow();
//   b.Int64(42);                      // id BIGINT
//   b.Null();                         // msg STRING (null)
//   b.BeginList(); b.String("a"); b.String("b"); b.EndList();   // tags ARRAY<STRING>
//   b.BeginStruct(); b.Int32(1); b.Null(); b.EndStruct();      // s STRUCT<x INT, y STRING>
//   b.BeginMap(); b.String("k"); b.Double(1.5); b.EndMap();    // m MAP<STRING, DOUBLE>
//   absl::Status st = b.EndRow();
//
// Every field of every struct must be given (Null() for absent ones); Null() on a struct, list or
// map makes the whole subtree null. Value calls must match the column's type:
//   Bool: boolean · Int32: integer, short, byte, date (days since epoch) · Int64: long,
//   timestamp, timestamp_ntz (microseconds since epoch) · Float · Double · String: string (must be
//   valid UTF-8) · Binary: binary · Decimal: decimal (unscaled value, must fit the precision).
// Range checks apply (short/byte must fit). The first mistake in a row is remembered; EndRow then
// returns InvalidArgument naming the column and the row number ("row 17, column 'tags.element':
// ...") and rolls the batch back to how it was before BeginRow, so a bad row never leaves partial
// data behind and the builder stays usable. Not thread-safe.
class RowBuilder {
 public:
  explicit RowBuilder(RowBatch* batch);
  ~RowBuilder();

  void BeginRow();
  [[nodiscard]] absl::Status EndRow();
  // Drops the row in progress (as if BeginRow had not been called).
  void AbortRow();

  void Null();
  void Bool(bool v);
  void Int32(int32_t v);
  void Int64(int64_t v);
  void Float(float v);
  void Double(double v);
  void String(std::string_view utf8);
  void Binary(std::string_view bytes);
  void Decimal(__int128 unscaled);
  void BeginStruct();
  void EndStruct();
  void BeginList();
  void EndList();
  void BeginMap();
  void EndMap();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace nobus::parquet
