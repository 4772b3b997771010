// In-memory FileSystem and manual Clock for tests. MemFileSystem models durability the way a POSIX
// disk does: file contents become durable at File::Sync, directory entries (creations, renames,
// deletions) at SyncDir of their directory; SimulatePowerLoss() throws away everything that was
// not durable. Thread-safe (one mutex). Directories themselves are always durable.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "env/env.h"

namespace nobus::env {

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem();
  ~MemFileSystem() override;

  absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path, OpenMode mode) override;
  absl::Status Delete(std::string_view path) override;
  absl::Status Rename(std::string_view from, std::string_view to) override;
  absl::Status RenameNoReplace(std::string_view from, std::string_view to) override;
  absl::Status CreateDirs(std::string_view path) override;
  absl::Status DeleteDir(std::string_view path) override;
  absl::Status SyncDir(std::string_view path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(std::string_view path) override;
  absl::StatusOr<FileInfo> Stat(std::string_view path) override;
  // Capacity minus the bytes of every live file (the capacity is 1 TiB until set).
  absl::StatusOr<DiskSpace> GetDiskSpace(std::string_view path) override;
  void SetCapacity(uint64_t total_bytes);

  // Reverts every file to its last synced contents and every directory to its last synced
  // entries. Open handles keep working on the reverted files.
  void SimulatePowerLoss();

  struct Node;

 private:
  // Rename and RenameNoReplace: moves `from` to `to`, over an existing `to` only if `replace`.
  absl::Status Move(std::string_view from, std::string_view to, bool replace);

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Node>> files_;          // live namespace
  std::map<std::string, std::shared_ptr<Node>> durable_files_;  // as of the last SyncDir
  std::set<std::string> dirs_;
  int64_t now_ms_ = 1;
  uint64_t capacity_bytes_ = uint64_t{1} << 40;
};

// A clock that moves only when told. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_micros = 1'700'000'000'000'000) : now_micros_(now_micros) {}
  int64_t NowMicros() override { return now_micros_.load(); }
  int64_t MonotonicNanos() override { return now_micros_.load() * 1000; }
  void AdvanceMicros(int64_t delta) { now_micros_ += delta; }

 private:
  std::atomic<int64_t> now_micros_;
};

}  // namespace nobus::env
