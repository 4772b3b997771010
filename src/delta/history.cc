#include "delta/history.h"


namespace nobus::delta {

absl::StatusOr<std::vector<HistoryEntry>> ReadHistory(LogStore* store, const Snapshot& latest,
                                                      int64_t limit) {
  NOBUS_ASSIGN_OR_RETURN(LogListing listing, store->List());
  std::vector<HistoryEntry> out;
  Snapshot::RecordCount count = latest.CountRecords();
  std::optional<int64_t> rows;
  if (count.files_without_count == 0) rows = count.records;
  for (auto it = listing.commits.rbegin(); it != listing.commits.rend(); ++it) {
    if (*it > latest.version()) continue;
    if (limit > 0 && static_cast<int64_t>(out.size()) >= limit) break;
    std::string name = CommitFileName(*it);
    absl::StatusOr<std::string> body = store->Read(name);
    if (absl::IsNotFound(body.status())) break;  // cleaned up meanwhile: older ones are gone too
    NOBUS_RETURN_IF_ERROR(body.status());
    NOBUS_ASSIGN_OR_RETURN(CommitActions actions, ParseCommit(*body, name));
    HistoryEntry e;
    e.version = *it;
    e.table_rows = rows;
    if (actions.commit_info) {
      const CommitInfo& ci = *actions.commit_info;
      e.timestamp_ms = ci.timestamp_ms;
      e.operation = ci.operation;
      e.engine_info = ci.engine_info;
      e.operation_parameters = ci.operation_parameters;
      e.operation_metrics = ci.operation_metrics;
    }
    if (!e.timestamp_ms) {
      absl::StatusOr<int64_t> mtime = store->ModificationTimeMs(name);
      if (mtime.ok()) e.timestamp_ms = *mtime;
    }
    bool added_known = true;
    for (const AddFile& a : actions.adds) {
      ++e.files_added;
      e.bytes_added += a.size_bytes;
      std::optional<int64_t> n = NumRecords(a.stats);
      added_known = added_known && n.has_value();
      e.rows_added += n.value_or(0);
    }
    int64_t removed = 0;
    bool removed_known = true;
    for (const RemoveFile& r : actions.removes) {
      ++e.files_removed;
      e.bytes_removed += r.size_bytes.value_or(0);
      std::optional<int64_t> n = NumRecords(r.stats);
      removed_known = removed_known && n.has_value();
      removed += n.value_or(0);
    }
    if (removed_known) e.rows_removed = removed;
    // The table at version - 1 had the rows this commit removed and not those it added.
    if (rows && added_known && removed_known) {
      rows = *rows - e.rows_added + removed;
    } else {
      rows.reset();
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace nobus::delta
