// Data files of a Delta table: the rows of one commit, split by partition value, each partition
// written as one Parquet file and described by an `add` action. In the data path: table buffer ->
// [PartitionedRows -> WriteDataFiles] -> Committer::Append. Partition columns are not stored in
// the files (their values live only in the log); files go to Hive-style directories
// `col=value/` (null -> `__HIVE_DEFAULT_PARTITION__`), named `part-00000-<uuid>-c000.zstd.parquet`.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/actions.h"
#include "env/env.h"
#include "parquet/row_batch.h"
#include "parquet/writer.h"
#include "schema/types.h"

namespace nobus::delta {

inline constexpr char kHiveDefaultPartition[] = "__HIVE_DEFAULT_PARTITION__";

// Rows of one batch grouped by partition value. Lifecycle: Create for the table's schema and
// partition columns, fill rows through Builder(values), hand to WriteDataFiles, discard. Not
// thread-safe; owns its batches. In memory only.
class PartitionedRows {
 public:
  // Fails with InvalidArgument when a partition column is not a top-level primitive field of
  // `schema`, or the non-partition columns do not form a valid schema.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<PartitionedRows>> Create(
      const schema::Schema& schema, const std::vector<std::string>& partition_columns);

  // The builder for rows whose partition values are `values`: one entry per partition column in
  // Delta's string form (dates "YYYY-MM-DD", numbers plain decimal, booleans true/false; nullopt
  // = null). The caller fills only the non-partition fields, in schema order (data_schema()).
  // Unpartitioned tables use Builder({}). InvalidArgument when the keys are not exactly the
  // partition columns, or an integer, boolean or date value is not in that form (other types are
  // not checked).
  [[nodiscard]] absl::StatusOr<parquet::RowBuilder*> Builder(const PartitionValues& values);

  struct Group {
    PartitionValues values;
    std::unique_ptr<parquet::RowBatch> batch;
    std::unique_ptr<parquet::RowBuilder> builder;
  };
  const schema::Schema& data_schema() const { return data_schema_; }
  const std::vector<std::string>& partition_columns() const { return partition_columns_; }
  const std::map<PartitionValues, Group>& groups() const { return groups_; }
  int64_t num_rows() const;

 private:
  PartitionedRows() = default;
  schema::Schema data_schema_;
  std::vector<std::string> partition_columns_;
  std::map<std::string, schema::TypeKind> partition_types_;
  std::map<PartitionValues, Group> groups_;
};

// The table-relative directory of a partition, `a=1/b=__HIVE_DEFAULT_PARTITION__` ("" when
// unpartitioned); bytes outside [A-Za-z0-9._-] in values are %XX-escaped.
std::string PartitionDir(const std::vector<std::string>& partition_columns,
                         const PartitionValues& values);

// A fresh table-relative path for a data file in `partition_dir` ("" = the table root), named
// like every data file nobus writes.
std::string NewDataFilePath(const std::string& partition_dir, const parquet::WriterOptions& options);

// Creates `dir` (table-relative, maybe nested) below `root`, syncing each parent whose entries
// changed, so a file created in it survives a crash once the file and `dir` are synced.
[[nodiscard]] absl::Status CreateDirDurably(env::FileSystem* fs, const std::string& root,
                                            const std::string& dir);

struct DataFileOptions {
  parquet::WriterOptions writer;
  int num_indexed_cols = 32;  // delta.dataSkippingNumIndexedCols
};

// Writes `batch` as a new file in `partition_dir` below `table_root`: written, fsynced, its
// directory fsynced (and the partition directory's parent when it was created). Returns the add
// action (dataChange true, exact size, stats JSON), or nullopt for an empty batch (nothing is
// written: 0-row files are never committed). On error the file is deleted.
[[nodiscard]] absl::StatusOr<std::optional<AddFile>> WriteDataFile(
    env::FileSystem* fs, env::Clock* clock, const std::string& table_root,
    const std::string& partition_dir, const PartitionValues& values, const parquet::RowBatch& batch,
    const DataFileOptions& options = {});

// WriteDataFile for every non-empty partition of `rows`; the adds in partition order.
[[nodiscard]] absl::StatusOr<std::vector<AddFile>> WriteDataFiles(
    env::FileSystem* fs, env::Clock* clock, const std::string& table_root,
    const PartitionedRows& rows, const DataFileOptions& options = {});

}  // namespace nobus::delta
