// The operating-system boundary of nobus: files, directories and time. Every component that does
// I/O takes a FileSystem* and a Clock* so tests can run it on the in-memory or fault-injecting
// implementations (no sleeps, simulated power loss) and production runs it on POSIX.
//
// Durability vocabulary used in every comment of nobus:
//   written  - handed to the OS (File::Append/WriteAt returned OK); lost on power failure.
//   synced   - File::Sync returned OK (fdatasync); survives power failure, if the file's directory
//              entry is itself durable (FileSystem::SyncDir after creating or renaming it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nobus::env {

// An open file. Not thread-safe: one owner at a time (the WAL writer thread, a Parquet writer...).
// Reads and writes may interleave; ReadAt returns fewer bytes than asked only at end of file.
class File {
 public:
  virtual ~File() = default;
  // Writes at the current end of file.
  [[nodiscard]] virtual absl::Status Append(std::string_view data) = 0;
  // Writes at `offset`, extending the file if needed.
  [[nodiscard]] virtual absl::Status WriteAt(uint64_t offset, std::string_view data) = 0;
  // Reads up to `n` bytes at `offset` into `scratch`; returns the bytes actually read.
  [[nodiscard]] virtual absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n,
                                                      char* scratch) const = 0;
  // Makes everything written so far durable (fdatasync). A failure is final for this file.
  [[nodiscard]] virtual absl::Status Sync() = 0;
  [[nodiscard]] virtual absl::Status Truncate(uint64_t size) = 0;
  // Reserves disk space for [0, size) without changing the visible size (fallocate KEEP_SIZE).
  [[nodiscard]] virtual absl::Status Preallocate(uint64_t size) = 0;
  [[nodiscard]] virtual absl::StatusOr<uint64_t> Size() const = 0;
  [[nodiscard]] virtual absl::Status Close() = 0;
};

enum class OpenMode {
  kRead,       // existing file, read only
  kReadWrite,  // existing file
  kCreate,     // create or open existing, read-write
  kCreateNew,  // create; AlreadyExists if present
  kTruncate,   // create or truncate to zero, read-write
};

struct FileInfo {
  uint64_t size_bytes = 0;
  int64_t mtime_ms = 0;
  bool is_dir = false;
};

// Space of the file system holding a path (statvfs): what unprivileged writers may still use.
struct DiskSpace {
  uint64_t free_bytes = 0;
  uint64_t total_bytes = 0;
};

// A hierarchical file system. Implementations are thread-safe; paths are '/'-separated.
class FileSystem {
 public:
  virtual ~FileSystem() = default;
  [[nodiscard]] virtual absl::StatusOr<std::unique_ptr<File>> Open(std::string_view path,
                                                                   OpenMode mode) = 0;
  [[nodiscard]] virtual absl::Status Delete(std::string_view path) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable after SyncDir of both parents.
  [[nodiscard]] virtual absl::Status Rename(std::string_view from, std::string_view to) = 0;
  // Renames `from` to `to` only if `to` does not exist: AlreadyExists otherwise, and nothing
  // changes (put-if-absent; renameat2 RENAME_NOREPLACE). Durable after SyncDir of both parents.
  [[nodiscard]] virtual absl::Status RenameNoReplace(std::string_view from, std::string_view to) = 0;
  // Creates `path` and any missing parents; OK if it exists.
  [[nodiscard]] virtual absl::Status CreateDirs(std::string_view path) = 0;
  [[nodiscard]] virtual absl::Status DeleteDir(std::string_view path) = 0;
  // Makes the directory's entries (creations, renames, deletions) durable.
  [[nodiscard]] virtual absl::Status SyncDir(std::string_view path) = 0;
  // Names (not paths) of the entries of `path`, sorted, without "." and "..".
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListDir(std::string_view path) = 0;
  [[nodiscard]] virtual absl::StatusOr<FileInfo> Stat(std::string_view path) = 0;
  // Free and total bytes of the file system holding `path` (which must exist).
  [[nodiscard]] virtual absl::StatusOr<DiskSpace> GetDiskSpace(std::string_view path) = 0;

  // Whole-file writes with the atomicity the Delta log needs. The defaults write and sync a
  // temporary `.<name>.<uuid>.tmp` beside `path` (a name of its own: several writers may race
  // for one path), rename it into place and sync the directory; an object store overrides them
  // with one PUT.
  // Creates `path` holding `data` only if no file of that name exists. OK: durable and whole
  // (readers never see a partial file); AlreadyExists: it exists and nothing changed; any other
  // error leaves the outcome unknown (read `path` back to decide).
  [[nodiscard]] virtual absl::Status PutIfAbsent(std::string_view path, std::string_view data);
  // Creates or replaces `path` with `data`; durable on OK; readers see the old or the new, whole.
  [[nodiscard]] virtual absl::Status PutAtomically(std::string_view path, std::string_view data);

  // How users and other tools name `path`: the path itself on a disk, s3://bucket/key on an
  // object store.
  virtual std::string Location(std::string_view path) { return std::string(path); }

  bool Exists(std::string_view path) { return Stat(path).ok(); }
};

// Wall and monotonic time. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() = 0;       // since the Unix epoch, UTC
  virtual int64_t MonotonicNanos() = 0;  // arbitrary origin, never goes back
  int64_t NowMillis() { return NowMicros() / 1000; }
};

// The process-wide POSIX implementations (never deleted).
FileSystem* PosixFileSystem();
Clock* SystemClock();

// Whole-file helpers on any FileSystem.
[[nodiscard]] absl::StatusOr<std::string> ReadFile(FileSystem* fs, std::string_view path);
// Writes `data` to a new file at `path` (truncating), syncs it and its directory.
[[nodiscard]] absl::Status WriteFileDurably(FileSystem* fs, std::string_view path,
                                            std::string_view data);
std::string JoinPath(std::string_view dir, std::string_view name);
std::string_view Dirname(std::string_view path);

}  // namespace nobus::env
