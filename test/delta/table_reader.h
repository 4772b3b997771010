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

// A fresh directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nobus::delta::testing
