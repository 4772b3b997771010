// VACUUM: deleting data files no version inside the retention window needs. In the data path:
// maintenance (table/maintenance.h, daily by default) or `nobus table vacuum` -> [Vacuum] ->
// VACUUM START commit, file deletions, VACUUM END commit (as Delta writes them; none when there
// is nothing to delete or on a dry run). Stateless; the committer is borrowed.
//
// A file under the table root (outside `_delta_log/` and hidden `_*`/`.*` entries) is deleted
// when the latest snapshot does not reference it, no tombstone of it is younger than the
// retention, and its modification time is older than the retention. The last rule also covers
// orphans (files a crashed writer wrote but never committed), and protects files a live writer is
// about to commit: untracked files are never deleted before `untracked_grace_ms`, even when the
// retention is forced lower.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/committer.h"

namespace nobus::delta {

struct VacuumOptions {
  // Default: the table's delta.deletedFileRetentionDuration (7 days when unset).
  std::optional<int64_t> retention_ms;
  bool dry_run = false;
  // Allow a retention below delta.deletedFileRetentionDuration (readers of older versions and
  // time travel then fail sooner).
  bool force = false;
  int64_t untracked_grace_ms = 3'600'000;
};

struct VacuumResult {
  int64_t retention_ms = 0;
  int64_t files_scanned = 0;     // data files found under the table root
  std::vector<std::string> files;  // deleted (or, on a dry run, to delete), table-relative
  int64_t bytes = 0;               // their total size
  int64_t orphans = 0;             // of which never referenced by the snapshot's log state
  std::optional<int64_t> start_version, end_version;  // the VACUUM START / END commits
};

// FailedPrecondition when the retention is below the table's delta.deletedFileRetentionDuration
// without `force` (naming both and how to proceed). Deletes in parallel with ingest are safe: a
// file being written is younger than the grace period.
[[nodiscard]] absl::StatusOr<VacuumResult> Vacuum(Committer* committer,
                                                  const VacuumOptions& options);

}  // namespace nobus::delta
