#include "delta/log_store.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace nobus::delta {
namespace {

constexpr size_t kVersionDigits = 20;

std::string PadVersion(int64_t version) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld", static_cast<long long>(version));
  return buf;
}

std::optional<int64_t> ParseVersion(std::string_view digits) {
  if (digits.size() != kVersionDigits) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size() || v < 0) return std::nullopt;
  return v;
}

// Runs a whole-file write into the log directory, creating the directory first when the write
// finds it missing (a table's first commit).
template <typename Write>
absl::Status InLogDir(env::FileSystem* fs, const std::string& log_dir, Write write) {
  absl::Status s = write();
  if (!absl::IsNotFound(s)) return s;
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(log_dir));
  return write();
}

}  // namespace

std::string CommitFileName(int64_t version) { return PadVersion(version) + ".json"; }

std::string CheckpointFileName(int64_t version) {
  return PadVersion(version) + ".checkpoint.parquet";
}

std::optional<LogFileName> ParseLogFileName(std::string_view name) {
  if (name.size() < kVersionDigits) return std::nullopt;
  std::optional<int64_t> version = ParseVersion(name.substr(0, kVersionDigits));
  if (!version) return std::nullopt;
  std::string_view suffix = name.substr(kVersionDigits);
  if (suffix == ".json") return LogFileName{LogFileName::Kind::kCommit, *version};
  if (suffix == ".checkpoint.parquet") return LogFileName{LogFileName::Kind::kCheckpoint, *version};
  return std::nullopt;
}

absl::StatusOr<LogListing> LogStore::List() {
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> names, ListNames());
  LogListing listing;
  for (const std::string& name : names) {
    std::optional<LogFileName> f = ParseLogFileName(name);
    if (!f) continue;
    auto& list = f->kind == LogFileName::Kind::kCommit ? listing.commits : listing.checkpoints;
    list.push_back(f->version);
  }
  std::sort(listing.commits.begin(), listing.commits.end());
  std::sort(listing.checkpoints.begin(), listing.checkpoints.end());
  return listing;
}

absl::StatusOr<int64_t> LogStore::ModificationTimeMs(std::string_view) {
  return absl::UnimplementedError("this log store has no modification times");
}

absl::Status LogStore::Delete(std::string_view) {
  return absl::UnimplementedError("this log store cannot delete");
}

FileLogStore::FileLogStore(env::FileSystem* fs, std::string table_root)
    : fs_(fs),
      table_root_(std::move(table_root)),
      log_dir_(env::JoinPath(table_root_, kLogDirName)) {}

absl::StatusOr<std::string> FileLogStore::Read(std::string_view name) {
  return env::ReadFile(fs_, env::JoinPath(log_dir_, name));
}

absl::Status FileLogStore::PutIfAbsent(std::string_view name, std::string_view data) {
  return InLogDir(fs_, log_dir_,
                  [&] { return fs_->PutIfAbsent(env::JoinPath(log_dir_, name), data); });
}

absl::Status FileLogStore::Replace(std::string_view name, std::string_view data) {
  return InLogDir(fs_, log_dir_,
                  [&] { return fs_->PutAtomically(env::JoinPath(log_dir_, name), data); });
}

absl::StatusOr<std::vector<std::string>> FileLogStore::ListNames() {
  auto names = fs_->ListDir(log_dir_);
  if (absl::IsNotFound(names.status()))
    return absl::NotFoundError(Cat("not a Delta table: ", log_dir_, " does not exist"));
  return names;
}

absl::StatusOr<int64_t> FileLogStore::ModificationTimeMs(std::string_view name) {
  NOBUS_ASSIGN_OR_RETURN(env::FileInfo info, fs_->Stat(env::JoinPath(log_dir_, name)));
  return info.mtime_ms;
}

absl::Status FileLogStore::Delete(std::string_view name) {
  return fs_->Delete(env::JoinPath(log_dir_, name));
}

absl::StatusOr<std::string> JsonOnlyLogStore::Read(std::string_view name) {
  if (name == kLastCheckpointName)
    return absl::NotFoundError(Cat(name, " is hidden by the JSON-only view"));
  return base_->Read(name);
}

absl::Status JsonOnlyLogStore::PutIfAbsent(std::string_view name, std::string_view) {
  return absl::FailedPreconditionError(Cat("cannot write ", name, ": JSON-only view is read-only"));
}

absl::Status JsonOnlyLogStore::Replace(std::string_view name, std::string_view) {
  return absl::FailedPreconditionError(Cat("cannot write ", name, ": JSON-only view is read-only"));
}

absl::StatusOr<std::vector<std::string>> JsonOnlyLogStore::ListNames() {
  NOBUS_ASSIGN_OR_RETURN(auto names, base_->ListNames());
  std::erase_if(names, [](const std::string& n) {
    return n.find(".checkpoint.") != std::string::npos || n == kLastCheckpointName;
  });
  return names;
}

}  // namespace nobus::delta
