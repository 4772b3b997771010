// The Delta committer: creates tables and lands commits with Delta's optimistic concurrency.
// In the data path: table buffer -> data files (data_files.h) -> [Committer] -> `_delta_log/N.json`
// (put-if-absent) -> checkpoint every delta.checkpointInterval commits.
//
// Every commit goes to snapshot.version + 1. When another writer already holds that version, the
// winning commits are read and checked (protocol or metaData change: abort; a txn for our appId
// at or past our version: the batch already landed, reported instead of committed twice; removes
// of a file we also remove: abort) and the commit retries at the next free version with the same
// data files, up to max_attempts. The protocol refuse rule is re-checked before every attempt.
//
// Exactly-once (spec section 2, txn): tag each batch txn{appId, version} with versions that only
// grow; AppendOnce skips a batch whose version is <= txn[appId] in the snapshot. After a crash or
// an ambiguous error, Open (or Refresh) and call AppendOnce again with the same versions.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/actions.h"
#include "delta/checkpoint.h"
#include "delta/checkpoint_writer.h"
#include "delta/data_files.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "env/env.h"
#include "schema/types.h"

namespace nobus::delta {

// OK if nobus may append to a table in this state: the protocol refuse rule
// (CheckProtocolSupported) and no column invariants. FailedPrecondition otherwise.
[[nodiscard]] absl::Status CheckWritable(const Snapshot& snapshot);

struct CreateTableOptions {
  schema::Schema schema;
  std::vector<std::string> partition_columns;  // top-level primitive columns
  StringMap configuration;                     // merged over DefaultConfiguration()
  std::optional<std::string> name;
  std::optional<std::string> description;
};

struct CommitterOptions {
  std::string engine_info;  // empty: "nobus/<version>"
  std::string node_id;      // when set, engineInfo ends in " node/<node_id>" (which node wrote it)
  int max_attempts = 15;
  parquet::WriterOptions writer;
  bool write_checkpoints = true;
  TxnExpiry expire_txns;  // txns checkpoints leave out (checkpoint_writer.h); null: none
};

struct CommitResult {
  // The version holding the batch: the one we created, or (already_committed) the snapshot
  // version at which txn[appId] showed the batch had landed.
  int64_t version = -1;
  bool already_committed = false;  // nothing was committed by this call
  int attempts = 0;                // put-if-absent attempts made
  std::optional<int64_t> checkpoint_version;
  absl::Status checkpoint_status;  // a failed checkpoint or cleanup never fails the commit
};

// One writer of one table. Lifecycle: Create or Open, then any number of commits; each successful
// commit advances snapshot(). Not thread-safe (one owner); several Committers, in this or other
// processes, may write one table concurrently. Holds `fs` and `clock` unowned. A successful commit
// call means the commit file is durable (synced, directory synced), as are the data files it names.
class Committer {
 public:
  // Writes commit 0 (protocol (1,2), metaData with a new id, CREATE TABLE commitInfo).
  // AlreadyExists if the table has a commit 0; InvalidArgument for a bad schema or partitioning.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Committer>> Create(
      env::FileSystem* fs, env::Clock* clock, const std::string& table_root,
      const CreateTableOptions& table, const CommitterOptions& options = {});
  // Loads the latest snapshot of an existing table (refusing unsupported protocols).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Committer>> Open(
      env::FileSystem* fs, env::Clock* clock, const std::string& table_root,
      const CommitterOptions& options = {});

  const Snapshot& snapshot() const { return snapshot_; }
  LogStore* store() { return &store_; }
  env::FileSystem* fs() const { return fs_; }
  env::Clock* clock() const { return clock_; }
  const CommitterOptions& options() const { return options_; }
  const std::string& table_root() const { return table_root_; }
  // Reloads the latest snapshot from storage. Also done automatically before a commit when the
  // snapshot was last confirmed current more than half of delta.logRetentionDuration ago:
  // metadata cleanup may by then have deleted commits after it, and a put-if-absent at such a
  // deleted version would succeed where it must not.
  [[nodiscard]] absl::Status Refresh();
  // Applies the commits other writers made after snapshot() (reads only those), so the snapshot
  // is current without a full reload; a reload when it is stale as above.
  [[nodiscard]] absl::Status CatchUpLatest();

  // An empty row container for the table's current schema and partition columns.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<PartitionedRows>> NewRows() const;

  // Writes `rows` as data files and commits them; with `txn`, the commit carries it. Empty rows
  // commit only the txn (or nothing without one).
  [[nodiscard]] absl::StatusOr<CommitResult> Append(const PartitionedRows& rows,
                                                    std::optional<Txn> txn = std::nullopt,
                                                    std::vector<Txn> also = {});
  // The exactly-once recipe: if txn[app_id] >= txn_version the batch already landed (nothing is
  // written); else Append with txn{app_id, txn_version}. `also` are further txn actions the
  // commit carries (e.g. persistent stream offsets); only txn{app_id} decides whether the batch
  // landed. A concurrent commit that carries a txn for one of `also` aborts this one (Aborted
  // "ConcurrentTransaction"): it may hold some of the same requests, so the caller rebuilds the
  // batch against the new snapshot (Refresh) without what that commit already holds.
  [[nodiscard]] absl::StatusOr<CommitResult> AppendOnce(const std::string& app_id,
                                                        int64_t txn_version,
                                                        const PartitionedRows& rows,
                                                        std::vector<Txn> also = {});
  // Commits already written, synced files (blind append).
  [[nodiscard]] absl::StatusOr<CommitResult> CommitAdds(std::vector<AddFile> adds,
                                                        std::optional<Txn> txn = std::nullopt);
  // A compaction commit: removes of live files `remove_paths` and `adds`, all dataChange false
  // (removes with extendedFileMetadata and the removed file's stats), OPTIMIZE commitInfo with
  // Delta's metrics (numRemovedFiles, numAddedFiles, numRemovedBytes, numAddedBytes) and
  // operationParameters.auto = `automatic`. NotFound when a path is not live; Aborted when a
  // concurrent commit removed one of them first.
  [[nodiscard]] absl::StatusOr<CommitResult> Compact(const std::vector<std::string>& remove_paths,
                                                     std::vector<AddFile> adds,
                                                     bool automatic = false);
  // A metaData commit merging `properties` into the table's configuration (SET TBLPROPERTIES).
  // InvalidArgument for properties ValidateProperties refuses.
  [[nodiscard]] absl::StatusOr<CommitResult> SetProperties(const StringMap& properties);
  // A commit holding only commitInfo (VACUUM START / VACUUM END, as Delta writes them).
  [[nodiscard]] absl::StatusOr<CommitResult> CommitOperation(std::string operation,
                                                             StringMap parameters,
                                                             StringMap metrics);
  // Writes a checkpoint of the current snapshot now.
  [[nodiscard]] absl::StatusOr<LastCheckpoint> Checkpoint();

 private:
  Committer(env::FileSystem* fs, env::Clock* clock, std::string table_root,
            CommitterOptions options);
  [[nodiscard]] absl::StatusOr<CommitResult> Commit(CommitActions actions);
  // CommitAdds with the number of rows the adds hold (commitInfo numOutputRows).
  [[nodiscard]] absl::StatusOr<CommitResult> CommitWrite(std::vector<AddFile> adds,
                                                         std::optional<Txn> txn, int64_t rows,
                                                         std::vector<Txn> also = {});
  // Reads the commits after the snapshot in order; `visit` sees each before it is applied and
  // returns false to stop after applying it (or an error: stop before).
  [[nodiscard]] absl::Status ApplyNewCommits(
      const std::function<absl::StatusOr<bool>(const CommitActions&, int64_t)>& visit);
  [[nodiscard]] absl::StatusOr<bool> CatchUp(const CommitActions& ours, int64_t* landed_version);
  [[nodiscard]] absl::StatusOr<bool> ResolveAmbiguous(const CommitActions& ours, int64_t version,
                                                      const absl::Status& error);
  void AfterCommit(CommitResult* result);
  [[nodiscard]] absl::Status RefreshIfStale();
  CommitInfo NewCommitInfo(std::string operation) const;

  env::FileSystem* fs_;
  env::Clock* clock_;
  std::string table_root_;
  CommitterOptions options_;
  FileLogStore store_;
  Snapshot snapshot_;
  int64_t confirmed_at_ms_ = 0;  // when snapshot_ was last known to be the latest version
  std::optional<int64_t> cleaned_cutoff_ms_;  // the cutoff of this committer's last log cleanup
};

}  // namespace nobus::delta
