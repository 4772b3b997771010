// The storage boundary of the Delta log: named files under `<table>/_delta_log/`, with the one
// coordination primitive Delta needs, put-if-absent of a commit file. In the data path: the
// committer calls PutIfAbsent for `<N>.json`; snapshot replay calls List and Read. A LogStore knows
// nothing about actions; see actions.h for the contents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/uuid.h"
#include "env/env.h"

namespace nobus::delta {

inline constexpr char kLogDirName[] = "_delta_log";
inline constexpr char kLastCheckpointName[] = "_last_checkpoint";

// `00000000000000000042.json` and `00000000000000000042.checkpoint.parquet`.
std::string CommitFileName(int64_t version);
std::string CheckpointFileName(int64_t version);

// A log file name we understand: a commit or a classic single-file checkpoint. Multi-part and
// UUID-named (V2) checkpoints, `.crc` files and temporaries are not log files for us (nullopt).
struct LogFileName {
  enum class Kind { kCommit, kCheckpoint } kind;
  int64_t version;
};
std::optional<LogFileName> ParseLogFileName(std::string_view name);

// Versions present in the log, each list ascending.
struct LogListing {
  std::vector<int64_t> commits;
  std::vector<int64_t> checkpoints;
};

// Abstract log storage. Implementations are thread-safe; several processes may share one log.
class LogStore {
 public:
  virtual ~LogStore() = default;

  // The whole file `name` of the log directory; NotFound if absent.
  [[nodiscard]] virtual absl::StatusOr<std::string> Read(std::string_view name) = 0;
  // Creates `name` holding `data` only if no file of that name exists. OK = the file is durable
  // and complete (readers never see a partial commit); AlreadyExists = another writer won the
  // version. Any other error leaves the outcome unknown: re-read the file to decide.
  [[nodiscard]] virtual absl::Status PutIfAbsent(std::string_view name, std::string_view data) = 0;
  // Atomically creates or replaces `name` (checkpoints, `_last_checkpoint`); durable on OK.
  [[nodiscard]] virtual absl::Status Replace(std::string_view name, std::string_view data) = 0;
  // Names of the log directory's entries, sorted; NotFound if the log directory does not exist.
  [[nodiscard]] virtual absl::StatusOr<std::vector<std::string>> ListNames() = 0;
  // Last-modification time of `name` in ms since the epoch (metadata cleanup ages files by it).
  // The default is Unimplemented: such a store is never cleaned up.
  [[nodiscard]] virtual absl::StatusOr<int64_t> ModificationTimeMs(std::string_view name);
  // Deletes `name` (metadata cleanup only; never a commit newer than the newest checkpoint).
  // The default is Unimplemented.
  [[nodiscard]] virtual absl::Status Delete(std::string_view name);

  // Commits and checkpoints found by ListNames.
  [[nodiscard]] absl::StatusOr<LogListing> List();
};

// A read-only view of another LogStore that hides every checkpoint and `_last_checkpoint`, so a
// snapshot loaded through it replays the JSON commits alone. Used to check a checkpoint against
// the commits it summarizes (tests, `bench/`). Writes fail with FailedPrecondition. Holds `base`
// unowned.
class JsonOnlyLogStore final : public LogStore {
 public:
  explicit JsonOnlyLogStore(LogStore* base) : base_(base) {}
  absl::StatusOr<std::string> Read(std::string_view name) override;
  absl::Status PutIfAbsent(std::string_view name, std::string_view data) override;
  absl::Status Replace(std::string_view name, std::string_view data) override;
  absl::StatusOr<std::vector<std::string>> ListNames() override;

 private:
  LogStore* base_;
};

// A LogStore on an env::FileSystem: a local disk, a POSIX mount or an object store. PutIfAbsent
// and Replace are the file system's own (env::FileSystem::PutIfAbsent/PutAtomically: a synced
// temporary renamed into place on disk, one conditional PUT on an object store). Holds `fs`
// unowned; `fs` must outlive the store.
class FileLogStore final : public LogStore {
 public:
  FileLogStore(env::FileSystem* fs, std::string table_root);

  absl::StatusOr<std::string> Read(std::string_view name) override;
  absl::Status PutIfAbsent(std::string_view name, std::string_view data) override;
  absl::Status Replace(std::string_view name, std::string_view data) override;
  absl::StatusOr<std::vector<std::string>> ListNames() override;
  absl::StatusOr<int64_t> ModificationTimeMs(std::string_view name) override;
  absl::Status Delete(std::string_view name) override;

  const std::string& table_root() const { return table_root_; }
  const std::string& log_dir() const { return log_dir_; }

 private:
  env::FileSystem* fs_;
  std::string table_root_;
  std::string log_dir_;
};

}  // namespace nobus::delta
