#include "delta/snapshot.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "delta/checkpoint.h"
#include "schema/delta_json.h"

namespace nobus::delta {
namespace {

const std::set<std::string>& SupportedReaderFeatures() {
  static const auto* kFeatures = new std::set<std::string>{"timestampNtz"};
  return *kFeatures;
}

// `invariants`: NOT NULL is enforced at ingest, and a table with delta.invariants expressions is
// refused before a commit (commit_loop.cc).
const std::set<std::string>& SupportedWriterFeatures() {
  static const auto* kFeatures =
      new std::set<std::string>{"appendOnly", "invariants", "timestampNtz"};
  return *kFeatures;
}

absl::Status CheckFeatures(const std::optional<std::vector<std::string>>& features,
                           const std::set<std::string>& supported, const char* kind) {
  if (!features) return absl::OkStatus();
  for (const std::string& f : *features) {
    if (!supported.contains(f))
      return absl::FailedPreconditionError(
          Cat("table uses the ", kind, " feature '", f, "', which nobus does not support"));
  }
  return absl::OkStatus();
}

// Where replay starts: a checkpoint version, or nullopt for commit 0.
absl::StatusOr<std::optional<int64_t>> ChooseCheckpoint(LogStore* store, const LogListing& listing,
                                                        int64_t target) {
  std::optional<int64_t> best;
  for (int64_t v : listing.checkpoints)
    if (v <= target) best = v;
  auto hint_text = store->Read(kLastCheckpointName);
  if (!hint_text.ok()) {
    if (absl::IsNotFound(hint_text.status())) return best;
    return hint_text.status();
  }
  std::optional<LastCheckpoint> hint = ParseLastCheckpoint(*hint_text);
  if (!hint || hint->version > target) return best;
  bool listed =
      std::binary_search(listing.checkpoints.begin(), listing.checkpoints.end(), hint->version);
  // A stale hint (a concurrent writer's older one, whose checkpoint cleanup has since deleted)
  // is harmless while a newer checkpoint exists.
  if (!listed && best && *best > hint->version) return best;
  if (!listed)
    return absl::DataLossError(Cat(kLastCheckpointName, " names checkpoint ",
                                   CheckpointFileName(hint->version), ", which is missing"));
  return std::max(best.value_or(hint->version), hint->version);
}

absl::Status CheckContiguous(const LogListing& listing, int64_t first, int64_t last) {
  auto it = std::lower_bound(listing.commits.begin(), listing.commits.end(), first);
  for (int64_t v = first; v <= last; ++v, ++it) {
    if (it == listing.commits.end() || *it != v)
      return absl::DataLossError(
          Cat("the Delta log has a gap: ", CommitFileName(v), " is missing"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ChooseTarget(const LogListing& listing, std::optional<int64_t> version) {
  int64_t latest = -1;
  if (!listing.commits.empty()) latest = listing.commits.back();
  if (!listing.checkpoints.empty()) latest = std::max(latest, listing.checkpoints.back());
  if (latest < 0) return absl::NotFoundError("the Delta log holds no commits");
  if (!version) return latest;
  if (*version < 0 || *version > latest)
    return absl::NotFoundError(
        Cat("version ", *version, " does not exist (latest is ", latest, ")"));
  // The oldest version the log can still rebuild: 0 while its commit is there, else the oldest
  // checkpoint (log retention deleted everything before it).
  std::optional<int64_t> oldest;
  if (!listing.commits.empty() && listing.commits.front() == 0) oldest = 0;
  else if (!listing.checkpoints.empty()) oldest = listing.checkpoints.front();
  if (oldest && *version < *oldest)
    return absl::NotFoundError(
        Cat("version ", *version, " is no longer readable: log retention (",
            "delta.logRetentionDuration) removed its commits; the oldest readable version is ",
            *oldest));
  return *version;
}

}  // namespace

absl::Status CheckProtocolSupported(const Protocol& p) {
  if (p.min_reader_version <= 1 && p.min_writer_version <= 2) return absl::OkStatus();
  if (p.min_reader_version == 2)
    return absl::FailedPreconditionError(
        "table requires reader version 2 (column mapping), which nobus does not support");
  if (p.min_reader_version > 3 || p.min_writer_version > 7 ||
      (p.min_reader_version == 3) != (p.min_writer_version == 7) || p.min_writer_version < 7)
    return absl::FailedPreconditionError(
        Cat("table protocol (reader ", p.min_reader_version, ", writer ", p.min_writer_version,
            ") is not supported by nobus (it writes reader <= 1 with writer <= 2, or 3/7 with "
            "supported features)"));
  NOBUS_RETURN_IF_ERROR(CheckFeatures(p.reader_features, SupportedReaderFeatures(), "reader"));
  return CheckFeatures(p.writer_features, SupportedWriterFeatures(), "writer");
}

absl::StatusOr<Snapshot> Snapshot::Load(LogStore* store, std::optional<int64_t> version) {
  NOBUS_ASSIGN_OR_RETURN(LogListing listing, store->List());
  NOBUS_ASSIGN_OR_RETURN(int64_t target, ChooseTarget(listing, version));
  NOBUS_ASSIGN_OR_RETURN(std::optional<int64_t> checkpoint,
                         ChooseCheckpoint(store, listing, target));
  Snapshot snap;
  if (checkpoint) {
    std::string name = CheckpointFileName(*checkpoint);
    NOBUS_ASSIGN_OR_RETURN(std::string bytes, store->Read(name));
    NOBUS_ASSIGN_OR_RETURN(CommitActions actions, ParseCheckpoint(bytes, name));
    snap.version_ = *checkpoint - 1;
    NOBUS_RETURN_IF_ERROR(snap.Apply(actions, *checkpoint));
    snap.checkpoint_version_ = checkpoint;
  } else if (listing.commits.empty() || listing.commits.front() != 0) {
    return absl::DataLossError(
        Cat("the Delta log has no checkpoint and ", CommitFileName(0), " is missing"));
  }
  NOBUS_RETURN_IF_ERROR(CheckContiguous(listing, snap.version_ + 1, target));
  for (int64_t v = snap.version_ + 1; v <= target; ++v) {
    std::string name = CommitFileName(v);
    NOBUS_ASSIGN_OR_RETURN(std::string body, store->Read(name));
    NOBUS_ASSIGN_OR_RETURN(CommitActions actions, ParseCommit(body, name));
    NOBUS_RETURN_IF_ERROR(snap.Apply(actions, v));
  }
  if (!snap.has_protocol_ || !snap.has_metadata_) {
    NOBUS_RETURN_IF_ERROR(snap.Finish(CommitFileName(target)));
  }
  return snap;
}

absl::Status Snapshot::Apply(const CommitActions& actions, int64_t version) {
  if (version != version_ + 1)
    return absl::InvalidArgumentError(
        Cat("cannot apply version ", version, " to snapshot at ", version_));
  if (actions.protocol) {
    protocol_ = *actions.protocol;
    has_protocol_ = true;
  }
  if (actions.metadata) {
    metadata_ = *actions.metadata;
    has_metadata_ = true;
  }
  for (const Txn& t : actions.txns) {
    txn_versions_[t.app_id] = t.version;
    txns_[t.app_id] = t;
  }
  ApplyFileActions(actions);
  version_ = version;
  if (!actions.protocol && !actions.metadata) return absl::OkStatus();
  return Finish(CommitFileName(version));
}

void Snapshot::ApplyFileActions(const CommitActions& actions) {
  for (const RemoveFile& r : actions.removes) {
    files_.erase(r.path);
    RemoveFile& t = tombstones_[r.path] = r;
    t.stats.reset();  // history reads them from commits; checkpoints do not keep them
  }
  for (const AddFile& a : actions.adds) {
    tombstones_.erase(a.path);
    files_[a.path] = a;
  }
}

absl::Status Snapshot::Finish(const std::string& where) {
  if (!has_protocol_ || !has_metadata_)
    return absl::DataLossError(Cat(where, ": the table has no ",
                                   has_protocol_ ? "metaData" : "protocol",
                                   " action at or before this version"));
  NOBUS_RETURN_IF_ERROR(CheckProtocolSupported(protocol_));
  auto schema = schema::ParseSchemaJson(metadata_.schema_string);
  if (!schema.ok())
    return absl::DataLossError(Cat(where, ": metaData.schemaString: ", schema.status().message()));
  schema_ = std::move(*schema);
  return absl::OkStatus();
}

Snapshot::RecordCount Snapshot::CountRecords() const {
  RecordCount count;
  for (const auto& [path, add] : files_) {
    std::optional<int64_t> n = NumRecords(add.stats);
    if (n) {
      count.records += *n;
    } else {
      ++count.files_without_count;
    }
  }
  return count;
}

std::optional<int64_t> Snapshot::TxnVersion(const std::string& app_id) const {
  auto it = txn_versions_.find(app_id);
  if (it == txn_versions_.end()) return std::nullopt;
  return it->second;
}

}  // namespace nobus::delta
