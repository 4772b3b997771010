// Test harness: reads Delta tables with DuckDB through test/delta/read_table.mjs (node), the
// independent check of what nobus commits. Test-only.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/snapshot.h"

namespace nobus::delta::testing {

// The live files of `snapshot` (table at `table_root`) read by DuckDB. With `expected` parquet
// files: {"rows","expected_rows","missing","extra","samples"}; without: {"rows","json_rows"}.
[[nodiscard]] absl::StatusOr<nlohmann::json> ReadTableWithDuckdb(
    const Snapshot& snapshot, const std::string& table_root,
    const std::optional<std::vector<std::string>>& expected = std::nullopt);

// Runs test/readers/read_parquet.mjs (DuckDB, parquet-wasm, hyparquet) on one file.
[[nodiscard]] absl::StatusOr<nlohmann::json> ReadParquetWithAllReaders(const std::string& path);

// Copies every Delta table under `dir` (each directory holding a _delta_log) into the reader
// corpus, where the reference readers (delta-rs, Spark: test/readers/run_readers.sh) read them at
// the end of the ctest run. The corpus is $NOBUS_READER_CORPUS, else $NOBUS_BIN_DIR/../reader-corpus
// when that directory exists (ctest's reader_corpus fixture makes it in the release build); with
// neither, nothing is copied. Failures to copy are reported on stderr, never fatal.
void KeepTablesForReaders(const std::string& dir);

// A fresh directory under the system temp dir. The destructor keeps its Delta tables for the
// reference readers (KeepTablesForReaders) and removes it, unless Keep() was called.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // Leaves the directory on disk as it is (not removed, not handed to the readers): for a
  // failing test to be inspected.
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace nobus::delta::testing
