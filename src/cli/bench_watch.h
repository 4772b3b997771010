// Time-to-table for `nobus bench`: follows the Delta logs of the bench tables (on the local file
// system: the storage_location the table API reports) and learns, for each commit that adds data,
// which `probe` values it made visible and when. `probe` is written only by the first stream of
// each table and increases along that stream, so each data file's statistics (minValues/maxValues
// of `probe` in the add action) name exactly the probe values it holds.
//
// When a commit landed = the modification time of `_delta_log/<version>.json`: nobusd writes the
// commit to a temporary file, fsyncs it and links it under that name, so the mtime precedes the
// moment readers can see it by one fsync and a link (about a millisecond on a quiet disk).
// Files added by compaction (dataChange false) are ignored: their rows were visible before.
//
// Lifecycle: Start (versions already in the log are skipped) -> CommitTimeMs from any thread ->
// Stop (or the destructor). Polls every `poll_ms` on its own thread. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace nobus::cli::bench {

class CommitWatcher {
 public:
  // `roots`: table directories (one per bench table, indexed like the tables).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<CommitWatcher>> Start(
      std::vector<std::string> roots, int64_t poll_ms);
  ~CommitWatcher();
  CommitWatcher(const CommitWatcher&) = delete;
  CommitWatcher& operator=(const CommitWatcher&) = delete;

  // Wall-clock time (ms since the epoch) of the commit that made `probe` of table `table`
  // visible; nullopt if not seen yet.
  std::optional<int64_t> CommitTimeMs(size_t table, int64_t probe) const;
  // Data commits seen so far (all tables), and the first polling error, if any.
  int64_t commits_seen() const;
  absl::Status error() const;
  void Stop();

 private:
  struct Range {
    int64_t min = 0;
    int64_t max = 0;
    int64_t commit_ms = 0;
  };
  struct Table;

  CommitWatcher() = default;
  void Loop(int64_t poll_ms);
  // Reads every new commit of `t`; records probe ranges.
  absl::Status Poll(Table& t);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::unique_ptr<Table>> tables_;
  int64_t commits_seen_ = 0;
  absl::Status error_;
  std::thread thread_;
};

}  // namespace nobus::cli::bench
