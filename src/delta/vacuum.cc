#include "delta/vacuum.h"

#include <set>

#include "delta/config.h"

namespace nobus::delta {
namespace {

struct Found {
  std::string path;  // table-relative
  env::FileInfo info;
};

// Every regular file below `root`, skipping `_delta_log` and hidden (`_*`, `.*`) entries; a
// directory named like a partition (`col=value`) is descended even when it starts with '_'.
absl::Status ListDataFiles(env::FileSystem* fs, const std::string& root, const std::string& rel,
                           std::vector<Found>* out) {
  std::string dir = rel.empty() ? root : env::JoinPath(root, rel);
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> names, fs->ListDir(dir));
  for (const std::string& name : names) {
    bool hidden = name.starts_with(".") || (name.starts_with("_") && name.find('=') == std::string::npos);
    if (hidden) continue;
    std::string child = rel.empty() ? name : Cat(rel, "/", name);
    absl::StatusOr<env::FileInfo> info = fs->Stat(env::JoinPath(root, child));
    if (absl::IsNotFound(info.status())) continue;  // deleted meanwhile
    NOBUS_RETURN_IF_ERROR(info.status());
    if (info->is_dir) {
      NOBUS_RETURN_IF_ERROR(ListDataFiles(fs, root, child, out));
    } else {
      out->push_back(Found{child, *info});
    }
  }
  return absl::OkStatus();
}

std::string Hours(int64_t ms) {
  return ms % 3'600'000 == 0 ? Cat(ms / 3'600'000, " hours") : Cat(ms / 1000, " seconds");
}

}  // namespace

absl::StatusOr<VacuumResult> Vacuum(Committer* committer, const VacuumOptions& options) {
  NOBUS_RETURN_IF_ERROR(committer->Refresh());
  const Snapshot& snap = committer->snapshot();
  env::FileSystem* fs = committer->fs();
  const int64_t table_retention = DeletedFileRetentionMs(snap.metadata());
  VacuumResult result;
  result.retention_ms = options.retention_ms.value_or(table_retention);
  if (result.retention_ms < 0)
    return absl::InvalidArgumentError("the vacuum retention must not be negative");
  if (result.retention_ms < table_retention && !options.force)
    return absl::FailedPreconditionError(Cat(
        "retention of ", Hours(result.retention_ms), " is below the table's ",
        kDeletedFileRetentionKey, " (", Hours(table_retention),
        "): readers of older versions could lose files they need. Pass --force (retain_hours "
        "with \"force\": true) if no reader needs them, or lower the table property"));
  const int64_t now_ms = committer->clock()->NowMillis();
  const int64_t cutoff_ms = now_ms - result.retention_ms;
  const int64_t untracked_cutoff_ms = now_ms - std::max(result.retention_ms, options.untracked_grace_ms);

  std::vector<Found> found;
  NOBUS_RETURN_IF_ERROR(ListDataFiles(fs, committer->table_root(), "", &found));
  result.files_scanned = static_cast<int64_t>(found.size());
  for (const Found& f : found) {
    if (snap.files().contains(f.path)) continue;
    auto tomb = snap.tombstones().find(f.path);
    bool tracked = tomb != snap.tombstones().end();
    if (tracked && tomb->second.deletion_timestamp_ms.value_or(0) > cutoff_ms) continue;
    if (f.info.mtime_ms > (tracked ? cutoff_ms : untracked_cutoff_ms)) continue;
    result.files.push_back(f.path);
    result.bytes += static_cast<int64_t>(f.info.size_bytes);
    result.orphans += !tracked;
  }
  if (options.dry_run || result.files.empty()) return result;

  StringMap params = {{"retentionCheckEnabled", options.force ? "false" : "true"},
                      {"defaultRetentionMillis", std::to_string(table_retention)}};
  if (options.retention_ms) params["specifiedRetentionMillis"] = std::to_string(*options.retention_ms);
  NOBUS_ASSIGN_OR_RETURN(
      CommitResult start,
      committer->CommitOperation("VACUUM START", params,
                                 {{"numFilesToDelete", std::to_string(result.files.size())},
                                  {"sizeOfDataToDelete", std::to_string(result.bytes)}}));
  result.start_version = start.version;
  int64_t deleted = 0;
  std::set<std::string> dirs;
  for (const std::string& rel : result.files) {
    absl::Status st = fs->Delete(env::JoinPath(committer->table_root(), rel));
    if (!st.ok() && !absl::IsNotFound(st)) return Annotate(st, Cat("deleting ", rel));
    deleted += st.ok();
    size_t slash = rel.rfind('/');
    dirs.insert(slash == std::string::npos ? "" : rel.substr(0, slash));
  }
  for (const std::string& d : dirs)
    NOBUS_RETURN_IF_ERROR(fs->SyncDir(d.empty() ? committer->table_root()
                                                : env::JoinPath(committer->table_root(), d)));
  NOBUS_ASSIGN_OR_RETURN(
      CommitResult end,
      committer->CommitOperation("VACUUM END", {{"status", "COMPLETED"}},
                                 {{"numDeletedFiles", std::to_string(deleted)},
                                  {"numVacuumedDirectories", std::to_string(dirs.size())}}));
  result.end_version = end.version;
  return result;
}

}  // namespace nobus::delta
