#include "delta/committer.h"

#include <nlohmann/json.hpp>

#include "delta/checkpoint_writer.h"
#include "delta/config.h"
#include "schema/delta_json.h"

#ifndef NOBUS_VERSION
#define NOBUS_VERSION "0"
#endif

namespace nobus::delta {
namespace {

bool UsesType(const schema::DataType& type, schema::TypeKind kind) {
  if (type.kind == kind) return true;
  for (const schema::Field& f : type.fields)
    if (UsesType(f.type, kind)) return true;
  return (type.element && UsesType(*type.element, kind)) || (type.value && UsesType(*type.value, kind));
}

// (1,2), read by every engine, unless the schema needs a table feature: timestamp_ntz needs
// `timestampNtz`, i.e. (3,7) (specs/delta-parquet.md). At writer 7 every writer feature in use must
// be listed, so the writer-2 features come along as Spark lists them when it upgrades a table
// (Spark refuses a NOT NULL column without `invariants`).
Protocol ProtocolFor(const schema::Schema& schema) {
  for (const schema::Field& f : schema.fields) {
    if (UsesType(f.type, schema::TypeKind::kTimestampNtz)) {
      return Protocol{
          .min_reader_version = 3, .min_writer_version = 7,
          .reader_features = std::vector<std::string>{"timestampNtz"},
          .writer_features = std::vector<std::string>{"appendOnly", "invariants", "timestampNtz"}};
    }
  }
  return Protocol{};
}

std::string JsonList(const std::vector<std::string>& items) { return nlohmann::json(items).dump(); }

}  // namespace

Committer::Committer(env::FileSystem* fs, env::Clock* clock, std::string table_root,
                     CommitterOptions options)
    : fs_(fs),
      clock_(clock),
      table_root_(std::move(table_root)),
      options_(std::move(options)),
      store_(fs, table_root_) {
  if (options_.engine_info.empty()) options_.engine_info = Cat("nobus/", NOBUS_VERSION);
  if (!options_.node_id.empty()) options_.engine_info += Cat(" node/", options_.node_id);
}

absl::StatusOr<std::unique_ptr<Committer>> Committer::Create(env::FileSystem* fs, env::Clock* clock,
                                                             const std::string& table_root,
                                                             const CreateTableOptions& table,
                                                             const CommitterOptions& options) {
  NOBUS_RETURN_IF_ERROR(schema::Validate(table.schema));
  NOBUS_RETURN_IF_ERROR(ValidateProperties(table.configuration));
  NOBUS_RETURN_IF_ERROR(PartitionedRows::Create(table.schema, table.partition_columns).status());
  std::unique_ptr<Committer> c(new Committer(fs, clock, table_root, options));
  CommitActions actions;
  actions.protocol = ProtocolFor(table.schema);
  Metadata& m = actions.metadata.emplace();
  m.id = NewUuid();
  m.name = table.name;
  m.description = table.description;
  m.schema_string = schema::SchemaToJson(table.schema);
  m.partition_columns = table.partition_columns;
  m.configuration = DefaultConfiguration();
  for (const auto& [k, v] : table.configuration) m.configuration[k] = v;
  m.created_time_ms = clock->NowMillis();
  CommitInfo info = c->NewCommitInfo("CREATE TABLE");
  info.operation_parameters = {{"isManaged", "false"},
                               {"partitionBy", JsonList(table.partition_columns)},
                               {"properties", nlohmann::json(m.configuration).dump()}};
  info.is_blind_append = true;
  actions.commit_info = std::move(info);
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(table_root));
  absl::Status put = c->store_.PutIfAbsent(CommitFileName(0), SerializeCommit(actions));
  if (absl::IsAlreadyExists(put))
    return absl::AlreadyExistsError(Cat("a Delta table already exists at ", table_root));
  NOBUS_RETURN_IF_ERROR(put);
  NOBUS_RETURN_IF_ERROR(c->snapshot_.Apply(actions, 0));
  c->confirmed_at_ms_ = clock->NowMillis();
  return c;
}

absl::StatusOr<std::unique_ptr<Committer>> Committer::Open(env::FileSystem* fs, env::Clock* clock,
                                                           const std::string& table_root,
                                                           const CommitterOptions& options) {
  std::unique_ptr<Committer> c(new Committer(fs, clock, table_root, options));
  NOBUS_RETURN_IF_ERROR(c->Refresh());
  return c;
}

absl::Status Committer::Refresh() {
  int64_t now_ms = clock_->NowMillis();
  NOBUS_ASSIGN_OR_RETURN(snapshot_, Snapshot::Load(&store_));
  confirmed_at_ms_ = now_ms;
  return absl::OkStatus();
}

absl::Status Committer::CatchUpLatest() {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  const int64_t now_ms = clock_->NowMillis();
  NOBUS_RETURN_IF_ERROR(ApplyNewCommits([](const CommitActions&, int64_t) { return true; }));
  confirmed_at_ms_ = now_ms;
  return absl::OkStatus();
}

absl::Status Committer::RefreshIfStale() {
  if (clock_->NowMillis() - confirmed_at_ms_ <= LogRetentionMs(snapshot_.metadata()) / 2)
    return absl::OkStatus();
  return Refresh();
}

absl::StatusOr<std::unique_ptr<PartitionedRows>> Committer::NewRows() const {
  return PartitionedRows::Create(snapshot_.schema(), snapshot_.metadata().partition_columns);
}

CommitInfo Committer::NewCommitInfo(std::string operation) const {
  CommitInfo info;
  info.timestamp_ms = clock_->NowMillis();
  info.operation = std::move(operation);
  // A table's first commit reads no version: Spark omits the field, and delta-rs rejects -1.
  if (snapshot_.version() >= 0) info.read_version = snapshot_.version();
  info.engine_info = options_.engine_info;
  info.txn_id = NewUuid();
  return info;
}

absl::StatusOr<CommitResult> Committer::Append(const PartitionedRows& rows,
                                               std::optional<Txn> txn, std::vector<Txn> also) {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  NOBUS_RETURN_IF_ERROR(CheckWritable(snapshot_));
  DataFileOptions options{options_.writer, NumIndexedCols(snapshot_.metadata())};
  NOBUS_ASSIGN_OR_RETURN(std::vector<AddFile> adds,
                         WriteDataFiles(fs_, clock_, table_root_, rows, options));
  return CommitWrite(std::move(adds), std::move(txn), rows.num_rows(), std::move(also));
}

absl::StatusOr<CommitResult> Committer::AppendOnce(const std::string& app_id, int64_t txn_version,
                                                   const PartitionedRows& rows,
                                                   std::vector<Txn> also) {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  std::optional<int64_t> landed = snapshot_.TxnVersion(app_id);
  if (landed && *landed >= txn_version) {
    CommitResult result;
    result.version = snapshot_.version();
    result.already_committed = true;
    return result;
  }
  return Append(rows, Txn{app_id, txn_version, clock_->NowMillis()}, std::move(also));
}

absl::StatusOr<CommitResult> Committer::CommitAdds(std::vector<AddFile> adds,
                                                   std::optional<Txn> txn) {
  int64_t rows = 0;
  for (const AddFile& a : adds) rows += NumRecords(a.stats).value_or(0);
  return CommitWrite(std::move(adds), std::move(txn), rows);
}

absl::StatusOr<CommitResult> Committer::CommitWrite(std::vector<AddFile> adds,
                                                    std::optional<Txn> txn, int64_t rows,
                                                    std::vector<Txn> also) {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  if (adds.empty() && !txn) {
    CommitResult result;
    result.version = snapshot_.version();
    return result;
  }
  CommitActions actions;
  CommitInfo info = NewCommitInfo(txn ? "STREAMING UPDATE" : "WRITE");
  if (txn) {
    info.operation_parameters = {{"outputMode", "Append"},
                                 {"queryId", txn->app_id},
                                 {"epochId", std::to_string(txn->version)}};
    actions.txns.push_back(*txn);
    for (Txn& t : also) actions.txns.push_back(std::move(t));
  } else {
    info.operation_parameters = {{"mode", "Append"},
                                 {"partitionBy", JsonList(snapshot_.metadata().partition_columns)}};
  }
  info.is_blind_append = true;
  int64_t bytes = 0;
  for (const AddFile& a : adds) bytes += a.size_bytes;
  info.operation_metrics = {{"numFiles", std::to_string(adds.size())},
                            {"numOutputRows", std::to_string(rows)},
                            {"numOutputBytes", std::to_string(bytes)}};
  actions.commit_info = std::move(info);
  actions.adds = std::move(adds);
  return Commit(std::move(actions));
}

absl::StatusOr<CommitResult> Committer::Compact(const std::vector<std::string>& remove_paths,
                                                std::vector<AddFile> adds, bool automatic) {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  CommitActions actions;
  int64_t now_ms = clock_->NowMillis();
  int64_t removed_bytes = 0, added_bytes = 0;
  for (const std::string& path : remove_paths) {
    auto it = snapshot_.files().find(path);
    if (it == snapshot_.files().end()) return absl::NotFoundError(Cat("not a live file: ", path));
    const AddFile& live = it->second;
    RemoveFile& r = actions.removes.emplace_back();
    r.path = path;
    r.deletion_timestamp_ms = now_ms;
    r.data_change = false;
    r.extended_file_metadata = true;
    r.partition_values = live.partition_values;
    r.size_bytes = live.size_bytes;
    r.stats = live.stats;
    removed_bytes += live.size_bytes;
  }
  for (AddFile& a : adds) {
    a.data_change = false;
    added_bytes += a.size_bytes;
  }
  CommitInfo info = NewCommitInfo("OPTIMIZE");
  info.operation_parameters = {{"predicate", "[]"},
                               {"zOrderBy", "[]"},
                               {"clusteringColumns", "[]"},
                               {"auto", automatic ? "true" : "false"}};
  info.is_blind_append = false;
  info.operation_metrics = {{"numRemovedFiles", std::to_string(remove_paths.size())},
                            {"numAddedFiles", std::to_string(adds.size())},
                            {"numRemovedBytes", std::to_string(removed_bytes)},
                            {"numAddedBytes", std::to_string(added_bytes)}};
  actions.commit_info = std::move(info);
  actions.adds = std::move(adds);
  return Commit(std::move(actions));
}

absl::StatusOr<CommitResult> Committer::SetProperties(const StringMap& properties) {
  NOBUS_RETURN_IF_ERROR(ValidateProperties(properties));
  NOBUS_RETURN_IF_ERROR(Refresh());
  CommitActions actions;
  Metadata m = snapshot_.metadata();
  for (const auto& [k, v] : properties) m.configuration[k] = v;
  CommitInfo info = NewCommitInfo("SET TBLPROPERTIES");
  info.operation_parameters = {{"properties", nlohmann::json(properties).dump()}};
  info.is_blind_append = false;
  actions.commit_info = std::move(info);
  actions.metadata = std::move(m);
  return Commit(std::move(actions));
}

absl::StatusOr<CommitResult> Committer::CommitOperation(std::string operation,
                                                        StringMap parameters, StringMap metrics) {
  NOBUS_RETURN_IF_ERROR(RefreshIfStale());
  CommitActions actions;
  CommitInfo info = NewCommitInfo(std::move(operation));
  info.operation_parameters = std::move(parameters);
  info.operation_metrics = std::move(metrics);
  info.is_blind_append = false;
  actions.commit_info = std::move(info);
  return Commit(std::move(actions));
}

absl::StatusOr<LastCheckpoint> Committer::Checkpoint() {
  return WriteCheckpoint(&store_, snapshot_, clock_->NowMillis(), options_.expire_txns);
}

}  // namespace nobus::delta
