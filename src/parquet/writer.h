// Front door of src/parquet: writes a RowBatch as a Parquet file that every reader accepts (Spark,
// Databricks, delta-rs, DuckDB, Trino, arrow-rs, hyparquet), and returns the per-file statistics
// the Delta log needs. In the data path: table buffer -> [Parquet writer] -> Delta committer.
//
// Format choices (see ../shared/specs/delta-parquet.md and doc/parquet.md): data page v1, PLAIN or
// RLE_DICTIONARY (dictionary with fallback to PLAIN when it grows past the limit), RLE/bit-packed
// levels, SNAPPY or ZSTD, 3-level LIST and MAP, every column OPTIONAL except map keys, both
// logicalType and converted_type, footer statistics under TypeDefinedOrder, Thrift compact footer
// from our own encoder.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "parquet/row_batch.h"

namespace nobus::parquet {

enum class Codec { kUncompressed = 0, kSnappy = 1, kZstd = 6 };

struct WriterOptions {
  Codec codec = Codec::kZstd;
  int zstd_level = 3;
  int64_t row_group_size_bytes = 128 << 20;  // uncompressed bytes per row group (approximate)
  int64_t page_size_bytes = 1 << 20;         // uncompressed value bytes per data page
  bool enable_dictionary = true;
  int64_t dictionary_page_size_limit_bytes = 1 << 20;  // past this, fall back to PLAIN
  std::string created_by;                              // empty: "nobus version <v> (build <sha>)"
};

// A typed bound of a leaf column, in the Delta type's terms.
struct StatValue {
  enum class Kind { kNone, kInt, kDouble, kBytes, kDecimal } kind = Kind::kNone;
  int64_t i = 0;      // integers, date (days), timestamps (micros)
  double d = 0;       // float, double
  std::string bytes;  // string, binary (full value; truncation is the consumer's job)
  __int128 dec = 0;   // decimal unscaled
};

// Statistics of one leaf over the whole file.
struct LeafStats {
  int64_t null_count = 0;  // level entries that are null at any depth (Parquet null_count)
  StatValue min, max;      // kNone when there were no non-null values (or NaN for floats)
  bool has_nan = false;
};

// Null counts of array/map fields (Delta counts a null array once, not its leaves).
struct FieldNullCount {
  std::vector<std::string> path;  // top-level name, struct field names...
  int64_t null_count = 0;
};

struct FileResult {
  uint64_t size_bytes = 0;
  int64_t num_rows = 0;
  int num_row_groups = 0;
  std::vector<LeafStats> leaves;  // parallel to RowBatch::leaves()
  std::vector<FieldNullCount> repeated_fields;
};

struct ColumnTree;
class ColumnWriter;
struct RowGroupResult;

// Writes one Parquet file from any number of RowBatches of one schema, so a large file never
// needs all its rows in memory at once (compaction streams small files into one). Lifecycle: Open
// (writes the magic) -> Add* (each batch becomes one or more row groups, cut at
// row_group_size_bytes) -> Finish (footer; the FileResult covers every batch). Output is gathered
// in memory and handed to the file in writes of up to kWriteChunkBytes (a small file is one write);
// Finish writes the rest. Nothing is synced: the caller syncs the file. Not thread-safe; holds `file` unowned. After an error the file is
// garbage (the caller deletes it).
class FileWriter {
 public:
  // `schema` must have passed schema::Validate (every RowBatch's has). InvalidArgument for an
  // unsupported codec; FailedPrecondition when `file` is not empty.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FileWriter>> Open(
      env::File* file, const schema::Schema& schema, const WriterOptions& options = {});
  ~FileWriter();

  // InvalidArgument when the batch's schema is not the file's.
  [[nodiscard]] absl::Status Add(const RowBatch& batch);
  [[nodiscard]] absl::StatusOr<FileResult> Finish();
  // Bytes of the file so far (some may still wait in memory for the next write).
  int64_t bytes_written() const { return offset_; }
  static constexpr size_t kWriteChunkBytes = 1 << 20;

  // Where the next row group starts in one leaf buffer of the batch being added.
  struct Cursor {
    int64_t level = 0;
    int64_t value = 0;
  };

 private:
  FileWriter(env::File* file, const schema::Schema& schema, const WriterOptions& options);
  [[nodiscard]] absl::Status Append(std::string_view data);
  [[nodiscard]] absl::Status WritePending();
  [[nodiscard]] absl::Status WriteRowGroup(const RowBatch& batch, int64_t rows,
                                           std::vector<Cursor>* cursors);

  env::File* file_;
  WriterOptions options_;
  std::unique_ptr<ColumnTree> tree_;
  schema::Schema schema_;
  std::vector<std::unique_ptr<ColumnWriter>> writers_;
  std::vector<RowGroupResult> row_groups_;
  FileResult result_;
  int64_t offset_ = 0;           // the file's length once `pending_` is written
  std::string pending_;          // output not yet handed to the file
  bool finished_ = false;
};

// Writes `batch` to `file` (which must be empty) as a complete Parquet file: row groups split at
// row_group_size_bytes, pages at page_size_bytes. On success the bytes are written, not synced:
// the caller syncs the file before referencing it from a Delta commit. On error nothing about the
// file is promised (the caller deletes it); `batch` is never modified.
[[nodiscard]] absl::StatusOr<FileResult> WriteFile(env::File* file, const RowBatch& batch,
                                                   const WriterOptions& options = {});

// Writes to a new file at `path` on `fs`, then fdatasyncs it. Deletes the file on failure.
[[nodiscard]] absl::StatusOr<FileResult> WriteFileAt(env::FileSystem* fs, const std::string& path,
                                                     const RowBatch& batch,
                                                     const WriterOptions& options = {});

struct DeltaStatsOptions {
  int num_indexed_cols = 32;  // delta.dataSkippingNumIndexedCols; -1 = all, 0 = numRecords only
  int string_prefix_chars = 32;
};

// The Delta `add.stats` JSON (numRecords, minValues, maxValues, nullCount) for a written file,
// following Spark's rules: first N leaf columns, no min/max for boolean/binary/array/map, strings
// truncated to a 32-character prefix (max gets a tie-breaker so it stays an upper bound),
// timestamps truncated to milliseconds, no min/max for a float column that saw NaN.
std::string DeltaStatsJson(const RowBatch& batch, const FileResult& result,
                           const DeltaStatsOptions& options = {});

}  // namespace nobus::parquet
