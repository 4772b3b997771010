// The node's identity: a UUID kept in `<data dir>/node_id`, created on first start and never
// changed. The WAL id "nobus-wal-<uuid>" is the Delta txn appId of every commit this node makes,
// so the node id must live as long as the WAL it names (doc/ingest.md "Recovery").
#pragma once

#include <string>

#include "common/status.h"
#include "env/env.h"

namespace nobus::table {

// Reads `<data_dir>/node_id`, or creates it (atomically: temporary file, sync, rename, directory
// sync) when absent. DataLoss when the file exists but does not hold a UUID.
[[nodiscard]] absl::StatusOr<std::string> LoadOrCreateNodeId(env::FileSystem* fs,
                                                             const std::string& data_dir);

}  // namespace nobus::table
