// A Parquet file reader for what nobus itself needs to read back: Delta checkpoints written by
// Spark or by us, and our own data files in tests. In the data path: snapshot replay
// (delta/checkpoint.h) -> [Parquet reader]. Not a general query engine: it decodes one column chunk
// at a time into values plus repetition/definition levels and leaves record assembly to the
// caller.
//
// Supported: Thrift compact footer, data pages v1 and v2, dictionary pages, PLAIN, RLE_DICTIONARY
// and PLAIN_DICTIONARY, RLE/bit-packed levels (and RLE booleans), UNCOMPRESSED/SNAPPY/ZSTD, every
// physical type (INT96 as raw 12-byte strings). Anything else fails with Unimplemented; malformed
// bytes fail with DataLoss, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "parquet/physical_type.h"
#include "parquet/thrift_decoder.h"

namespace nobus::parquet {

// A leaf column of the file's schema.
struct ColumnDescriptor {
  std::vector<std::string>
      path;  // names below the root, e.g. {"add", "partitionValues", "key_value", "key"}
  PhysicalType type = PhysicalType::kInt32;
  int type_length = 0;
  int16_t max_def_level = 0;
  int16_t max_rep_level = 0;
  std::optional<int> converted_type;
};

// Decoded column data. One level entry per value slot (nulls included); the value vectors hold
// only non-null values, in order: an entry has a value iff its definition level == max_def_level.
struct ColumnValues {
  size_t num_entries = 0;
  std::vector<int16_t> def_levels;  // empty when max_def_level == 0 (all entries have values)
  std::vector<int16_t> rep_levels;  // empty when max_rep_level == 0
  std::vector<int64_t> ints;        // BOOLEAN (0/1), INT32, INT64
  std::vector<double> doubles;      // FLOAT, DOUBLE
  std::vector<std::string> bytes;   // BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY, INT96
};

// An opened file held in memory. Lifecycle: Open parses and validates the footer and schema;
// reads decode on demand. Immutable after Open, so concurrent reads are safe. Owns the bytes.
class FileReader {
 public:
  [[nodiscard]] static absl::StatusOr<FileReader> Open(std::string bytes);

  const FileMetaData& metadata() const { return metadata_; }
  const std::vector<ColumnDescriptor>& columns() const { return columns_; }
  int num_row_groups() const { return static_cast<int>(metadata_.row_groups.size()); }
  int64_t num_rows() const { return metadata_.num_rows; }
  // Index of the leaf column at `path`, if present.
  std::optional<int> FindColumn(const std::vector<std::string>& path) const;

  // Decodes one column chunk.
  [[nodiscard]] absl::StatusOr<ColumnValues> ReadColumnChunk(int row_group, int column) const;
  // Decodes a column across all row groups, concatenated.
  [[nodiscard]] absl::StatusOr<ColumnValues> ReadColumn(int column) const;

 private:
  FileReader() = default;
  [[nodiscard]] absl::Status BuildColumns();

  std::string bytes_;
  FileMetaData metadata_;
  std::vector<ColumnDescriptor> columns_;
};

}  // namespace nobus::parquet
