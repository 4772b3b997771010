// Table history: one entry per commit still in the log, newest first, as `nobus table history`
// and GET /admin/v1/tables/{name}/history show it. Read from the JSON commits alone (a version
// whose commit was cleaned up by log retention is no longer listed). Stateless.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/actions.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"

namespace nobus::delta {

struct HistoryEntry {
  int64_t version = 0;
  std::optional<int64_t> timestamp_ms;  // commitInfo.timestamp, else the file's mtime
  std::string operation;                // commitInfo.operation ("" when absent)
  std::string engine_info;              // who wrote it: "nobus/<v> node/<id>", "Apache-Spark/..."
  StringMap operation_parameters;
  StringMap operation_metrics;
  int64_t files_added = 0, files_removed = 0;
  int64_t bytes_added = 0, bytes_removed = 0;
  int64_t rows_added = 0;  // numRecords of the adds (0 where stats lack it)
  // numRecords of the removed files, when every remove carries stats (nobus's OPTIMIZE does).
  std::optional<int64_t> rows_removed;
  // Rows in the table at this version: the latest snapshot's count walked back through the
  // entries; unknown once a commit removes files without stats or a file lacks numRecords.
  std::optional<int64_t> table_rows;
};

// The newest `limit` commits of the table at `store` (all with limit <= 0), newest first.
// `latest` must be the store's latest snapshot. DataLoss for an unreadable commit.
[[nodiscard]] absl::StatusOr<std::vector<HistoryEntry>> ReadHistory(LogStore* store,
                                                                    const Snapshot& latest,
                                                                    int64_t limit);

}  // namespace nobus::delta
