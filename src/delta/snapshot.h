// The state of a Delta table at one version, rebuilt by log replay: the newest checkpoint at or
// below the version, then every later JSON commit in order. In the data path: the committer loads
// a snapshot before writing (protocol check, txn versions for exactly-once recovery) and advances
// it with each commit it lands; `nobus delta show` prints one.
//
// Refusal: Load fails with FailedPrecondition for any table whose protocol we cannot honour
// (CheckProtocolSupported), DataLoss for a corrupt or incomplete log (bad JSON, a version gap, a
// checkpoint named by `_last_checkpoint` that is missing while no newer one is listed), each
// message naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "common/status.h"
#include "delta/actions.h"
#include "delta/log_store.h"
#include "schema/types.h"

namespace nobus::delta {

// OK if we may read and append to a table with this protocol: reader <= 1 and writer <= 2, or
// (3,7) listing only features we support. FailedPrecondition names the version or feature.
[[nodiscard]] absl::Status CheckProtocolSupported(const Protocol& protocol);

// An immutable-by-convention value: Load or Apply build it, readers share it across threads
// without locking. Holds no reference to the LogStore.
class Snapshot {
 public:
  // Loads the latest version, or `version` when given (NotFound if the log has no such version).
  [[nodiscard]] static absl::StatusOr<Snapshot> Load(LogStore* store,
                                                     std::optional<int64_t> version = std::nullopt);

  // Applies the actions of commit `version` (must be version() + 1) in memory; used after our own
  // commit lands. Re-checks protocol support and re-parses the schema on a new metaData.
  [[nodiscard]] absl::Status Apply(const CommitActions& actions, int64_t version);

  int64_t version() const { return version_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  const schema::Schema& schema() const { return schema_; }
  // Live files by decoded path.
  const std::map<std::string, AddFile>& files() const { return files_; }
  // Removed files still remembered (until their retention expires) by decoded path; their
  // `stats` are dropped (checkpoints do not keep them either).
  const std::map<std::string, RemoveFile>& tombstones() const { return tombstones_; }
  // Latest txn version per appId.
  const std::map<std::string, int64_t>& txn_versions() const { return txn_versions_; }
  // The latest txn action per appId (with lastUpdated), as checkpoints record them.
  const std::map<std::string, Txn>& txns() const { return txns_; }
  std::optional<int64_t> TxnVersion(const std::string& app_id) const;
  // Rows in the live files: the sum of their stats' numRecords; files whose stats lack it are
  // counted in files_without_count.
  struct RecordCount {
    int64_t records = 0;
    int64_t files_without_count = 0;
  };
  RecordCount CountRecords() const;
  // The checkpoint replay started from, if any.
  std::optional<int64_t> checkpoint_version() const { return checkpoint_version_; }

 private:
  void ApplyFileActions(const CommitActions& actions);
  [[nodiscard]] absl::Status Finish(const std::string& where);

  int64_t version_ = -1;
  Protocol protocol_;
  Metadata metadata_;
  bool has_protocol_ = false;
  bool has_metadata_ = false;
  schema::Schema schema_;
  std::map<std::string, AddFile> files_;
  std::map<std::string, RemoveFile> tombstones_;
  std::map<std::string, int64_t> txn_versions_;
  std::map<std::string, Txn> txns_;
  std::optional<int64_t> checkpoint_version_;
};

}  // namespace nobus::delta
