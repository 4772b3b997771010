// CleanupExpiredLogs (declared in checkpoint_writer.h): deletes log files made redundant by a
// checkpoint older than the table's log retention, and temporaries of crashed writers.
#include <algorithm>
#include <string>
#include <vector>

#include "delta/checkpoint_writer.h"
#include "delta/config.h"

namespace nobus::delta {
namespace {

constexpr int64_t kMsPerDay = 24LL * 3600 * 1000;

struct VersionedFile {
  std::string name;
  int64_t version = 0;
  bool is_checkpoint = false;
};

// The version of a commit, checkpoint or `<N>.crc` name.
std::optional<std::pair<int64_t, bool>> VersionOf(const std::string& name) {
  if (std::optional<LogFileName> f = ParseLogFileName(name))
    return std::make_pair(f->version, f->kind == LogFileName::Kind::kCheckpoint);
  if (name.size() == 24 && name.ends_with(".crc")) {
    if (std::optional<LogFileName> f = ParseLogFileName(name.substr(0, 20) + ".json"))
      return std::make_pair(f->version, false);
  }
  return std::nullopt;
}

int64_t MidnightUtc(int64_t ms) {
  int64_t day = ms / kMsPerDay;
  if (ms < 0 && ms % kMsPerDay != 0) --day;
  return day * kMsPerDay;
}

// Temporaries `.<name>.<uuid>.tmp` left by writers that crashed mid-commit or mid-checkpoint.
// Only those older than the cutoff: a live writer holds its temporary for milliseconds.
absl::StatusOr<int> DeleteStaleTemporaries(LogStore* store, const std::vector<std::string>& names,
                                           int64_t cutoff_ms) {
  int deleted = 0;
  for (const std::string& name : names) {
    if (!name.starts_with(".") || !name.ends_with(".tmp")) continue;
    absl::StatusOr<int64_t> mtime = store->ModificationTimeMs(name);
    if (!mtime.ok() || *mtime > cutoff_ms) continue;
    absl::Status s = store->Delete(name);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    if (s.ok()) ++deleted;
  }
  return deleted;
}

}  // namespace

int64_t LogCleanupCutoffMs(const Metadata& metadata, int64_t now_ms) {
  return MidnightUtc(now_ms - LogRetentionMs(metadata));
}

absl::StatusOr<int> CleanupExpiredLogs(LogStore* store, const Metadata& metadata, int64_t now_ms) {
  if (!ExpiredLogCleanupEnabled(metadata)) return 0;
  const int64_t cutoff_ms = LogCleanupCutoffMs(metadata, now_ms);
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> names, store->ListNames());
  std::vector<VersionedFile> files;
  for (const std::string& name : names)
    if (auto v = VersionOf(name)) files.push_back(VersionedFile{name, v->first, v->second});
  std::sort(files.begin(), files.end(),
            [](const VersionedFile& a, const VersionedFile& b) { return a.version < b.version; });
  // Oldest first, up to the first file newer than the cutoff: the log is written in version
  // order, so later versions are newer (a file out of order only makes us delete less). A
  // long-lived table's log holds a day of commits per day of retention; only the expired
  // prefix is stat'ed.
  size_t expired = 0;
  for (; expired < files.size(); ++expired) {
    absl::StatusOr<int64_t> mtime = store->ModificationTimeMs(files[expired].name);
    if (absl::IsUnimplemented(mtime.status())) return 0;
    if (absl::IsNotFound(mtime.status())) continue;  // vanished under a concurrent cleanup
    NOBUS_RETURN_IF_ERROR(mtime.status());
    if (*mtime > cutoff_ms) break;
  }
  std::optional<int64_t> keep;
  for (size_t i = 0; i < expired; ++i)
    if (files[i].is_checkpoint) keep = files[i].version;
  NOBUS_ASSIGN_OR_RETURN(int deleted, DeleteStaleTemporaries(store, names, cutoff_ms));
  if (!keep) return deleted;
  for (size_t i = 0; i < expired && files[i].version < *keep; ++i) {
    absl::Status s = store->Delete(files[i].name);
    if (!s.ok() && !absl::IsNotFound(s)) return s;
    if (s.ok()) ++deleted;
  }
  return deleted;
}

}  // namespace nobus::delta
