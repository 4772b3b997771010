// IngestService's table upkeep: OPTIMIZE (auto and on demand), VACUUM, history and table
// properties, and the low-priority thread that compacts and vacuums open tables by itself.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>

#include "common/logging.h"
#include "delta/compaction.h"
#include "delta/config.h"
#include "table/ingest_service.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

struct LiveTotals {
  int64_t files = 0, bytes = 0;
};

LiveTotals Totals(const delta::Snapshot& snap) {
  LiveTotals t;
  for (const auto& [path, add] : snap.files()) {
    ++t.files;
    t.bytes += add.size_bytes;
  }
  return t;
}

// Errors after which the compaction output certainly is not in the table (so it may go).
bool DefinitelyNotCommitted(const absl::Status& st) {
  return absl::IsNotFound(st) || absl::IsAborted(st) || absl::IsFailedPrecondition(st) ||
         absl::IsInvalidArgument(st);
}

}  // namespace

absl::StatusOr<std::shared_ptr<TableState>> IngestService::FindOrOpen(const TableName& name) {
  NOBUS_RETURN_IF_ERROR(OpenTable(name).status());
  NOBUS_ASSIGN_OR_RETURN(TableName n, ParseTableName(name.ToString()));
  std::lock_guard<std::mutex> l(mu_);
  auto it = tables_.find(n);
  if (it == tables_.end() || it->second->dropping)
    return absl::NotFoundError(Cat("table '", n.ToString(), "' was dropped"));
  return it->second;
}

bool IngestService::YieldToIngest() {
  std::unique_lock<std::mutex> l(mu_);
  // Wait (up to a minute) while acknowledged rows pile up: their commits need the disk first.
  maintenance_cv_.wait_for(l, std::chrono::seconds(60), [&] {
    return closing_ || stop_maintenance_ || held_bytes_ <= options_.max_buffered_bytes / 2;
  });
  return !closing_ && !stop_maintenance_;
}

absl::StatusOr<CompactionReport> IngestService::CompactLocked(TableState* t, bool automatic) {
  CompactionReport report;
  std::vector<delta::CompactionBin> bins;
  schema::Schema schema;
  delta::Metadata metadata;
  std::string root;
  {
    TableCommitLock lock = LockTableCommits(t);
    delta::Committer* c = t->committer.get();
    if (t->needs_refresh || !automatic) {
      NOBUS_RETURN_IF_ERROR(c->Refresh());
      t->needs_refresh = false;
    }
    const delta::Snapshot& snap = c->snapshot();
    if (automatic && !delta::AutoCompactEnabled(snap.metadata())) return report;
    LiveTotals before = Totals(snap);
    report.files_before = report.files_after = before.files;
    report.bytes_before = report.bytes_after = before.bytes;
    report.version = snap.version();
    bins = delta::PlanCompaction(
        snap, automatic ? delta::CompactionMode::kAuto : delta::CompactionMode::kFull,
        t->uncompactable);
    schema = snap.schema();
    metadata = snap.metadata();
    root = c->table_root();
  }
  delta::DataFileOptions options{t->committer->options().writer, delta::NumIndexedCols(metadata)};
  options.writer.codec = parquet::Codec::kZstd;
  options.writer.zstd_level = kCompactedZstdLevel;
  const std::string name = t->info().name.ToString();
  for (const delta::CompactionBin& bin : bins) {
    std::string bad_input;
    absl::StatusOr<delta::AddFile> add =
        delta::RewriteFiles(tables_fs_, clock_, root, schema, metadata, bin, options,
                            [this] { return YieldToIngest(); }, &bad_input);
    if (!bad_input.empty()) {
      // Not ours to rewrite (another engine's layout, no statistics): leave it where it is and
      // compact the rest from the next round on.
      t->uncompactable.insert(bad_input);
      NOBUS_LOG_WARN("compaction leaves a data file alone table={} file={} reason={}", name,
                     bad_input, add.status().ToString());
    }
    if (!add.ok()) return Annotate(add.status(), Cat("compacting table '", name, "'"));
    std::vector<std::string> paths;
    for (const delta::AddFile& f : bin.inputs) paths.push_back(f.path);
    const std::string output = env::JoinPath(root, add->path);
    const int64_t added_bytes = add->size_bytes;
    absl::StatusOr<delta::CommitResult> committed;
    {
      TableCommitLock lock = LockTableCommits(t);
      bool dropped;
      {
        std::lock_guard<std::mutex> l(mu_);
        dropped = t->dropped || t->dropping;
      }
      if (dropped) return absl::NotFoundError(Cat("table '", name, "' was dropped"));
      committed = t->committer->Compact(paths, {*add}, automatic);
      if (!committed.ok()) t->needs_refresh = true;
      if (committed.ok()) t->last_compaction_ms = clock_->NowMillis();
      LiveTotals after = Totals(t->committer->snapshot());
      UpdateUpkeepMetrics(t, after.files, after.bytes, clock_->NowMillis());
      report.files_after = after.files;
      report.bytes_after = after.bytes;
      report.version = t->committer->snapshot().version();
    }
    if (!committed.ok()) {
      // Another writer compacted or removed an input first: nothing lost, the output goes. An
      // unknown outcome keeps the file (a later VACUUM removes it if it did not land).
      if (DefinitelyNotCommitted(committed.status())) (void)tables_fs_->Delete(output);
      return Annotate(committed.status(), Cat("committing the compaction of table '", name, "'"));
    }
    ++report.commits;
    report.files_removed += static_cast<int64_t>(bin.inputs.size());
    report.files_added += 1;
    report.bytes_rewritten += bin.input_bytes;
    if (t->metrics.compactions != nullptr) {
      t->metrics.compactions->Add();
      t->metrics.compaction_bytes_rewritten->Add(bin.input_bytes);
    }
    NOBUS_LOG_INFO(
        "compacted table={} version={} files_in={} bytes_in={} bytes_out={} auto={}", name,
        committed->version, bin.inputs.size(), bin.input_bytes, added_bytes, automatic);
  }
  return report;
}

absl::StatusOr<CompactionReport> IngestService::Optimize(const TableName& name) {
  std::lock_guard<std::mutex> job(maintenance_mu_);
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  return CompactLocked(t.get(), /*automatic=*/false);
}

absl::StatusOr<delta::VacuumResult> IngestService::VacuumLocked(
    TableState* t, const delta::VacuumOptions& options) {
  const std::string name = t->info().name.ToString();
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<delta::Committer> c,
                         delta::Committer::Open(tables_fs_, clock_, t->info().path,
                                                delta::CommitterOptions{.node_id = node_id_}));
  absl::StatusOr<delta::VacuumResult> result = delta::Vacuum(c.get(), options);
  if (!result.ok()) return Annotate(result.status(), Cat("vacuuming table '", name, "'"));
  if (!options.dry_run) {
    t->last_vacuum_ms = clock_->NowMillis();
    if (t->metrics.files_vacuumed != nullptr)
      t->metrics.files_vacuumed->Add(static_cast<int64_t>(result->files.size()));
    NOBUS_LOG_INFO("vacuumed table={} files={} bytes={} orphans={} retention_ms={}", name,
                   result->files.size(), result->bytes, result->orphans, result->retention_ms);
  }
  return result;
}

absl::StatusOr<delta::VacuumResult> IngestService::Vacuum(const TableName& name,
                                                          const delta::VacuumOptions& options) {
  std::lock_guard<std::mutex> job(maintenance_mu_);
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  return VacuumLocked(t.get(), options);
}

absl::StatusOr<std::vector<delta::HistoryEntry>> IngestService::History(const TableName& name,
                                                                       int64_t limit) {
  NOBUS_ASSIGN_OR_RETURN(TableInfo info, catalog_->Get(name));
  delta::FileLogStore store(tables_fs_, info.path);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot latest, delta::Snapshot::Load(&store));
  return delta::ReadHistory(&store, latest, limit);
}

absl::Status IngestService::SetTableProperties(
    const TableName& name, const std::map<std::string, std::string>& properties) {
  NOBUS_RETURN_IF_ERROR(delta::ValidateProperties(properties));
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  TableCommitLock lock = LockTableCommits(t.get());
  absl::StatusOr<delta::CommitResult> result = t->committer->SetProperties(properties);
  if (!result.ok()) {
    t->needs_refresh = true;
    return Annotate(result.status(), Cat("setting properties of table '", name.ToString(), "'"));
  }
  NOBUS_LOG_INFO("table properties set table={} version={}", name.ToString(), result->version);
  const delta::Metadata& m = t->committer->snapshot().metadata();
  std::lock_guard<std::mutex> l(mu_);
  t->stream_retention_ms = delta::StreamRetentionMs(m);
  t->stream_max_live = delta::StreamMaxLive(m);
  t->set_kafka_partitions(delta::KafkaPartitions(m));
  return absl::OkStatus();
}

void IngestService::UpdateUpkeepMetrics(TableState* t, int64_t live_files, int64_t live_bytes,
                                        int64_t now_ms) {
  const TableMetrics& m = t->metrics;
  if (m.live_files == nullptr) return;
  m.live_files->Set(static_cast<double>(live_files));
  m.live_bytes->Set(static_cast<double>(live_bytes));
  m.small_files->Set(static_cast<double>(delta::CountSmallFiles(t->committer->snapshot())));
  int64_t since = t->last_compaction_ms != 0 ? t->last_compaction_ms : t->opened_at_ms;
  if (since != 0) m.seconds_since_compaction->Set(static_cast<double>(now_ms - since) / 1000.0);
}

void IngestService::MaintainTables() {
  std::vector<std::shared_ptr<TableState>> tables;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, t] : tables_)  // a stuck table is left alone until it commits
      if (!t->dropping && !t->dropped && !t->stuck) tables.push_back(t);
  }
  std::lock_guard<std::mutex> job(maintenance_mu_);
  for (const std::shared_ptr<TableState>& t : tables) {
    if (!YieldToIngest()) return;
    const std::string name = t->info().name.ToString();
    const int64_t now = clock_->NowMillis();
    if (t->opened_at_ms == 0) t->opened_at_ms = now;
    absl::StatusOr<CompactionReport> compacted = CompactLocked(t.get(), /*automatic=*/true);
    if (!compacted.ok() && !absl::IsCancelled(compacted.status()))
      NOBUS_LOG_WARN("auto-compaction failed (retried next round) table={} error={}", name,
                     compacted.status().ToString());
    bool vacuum_due = false;
    {
      TableCommitLock lock = LockTableCommits(t.get());
      const delta::Snapshot& snap = t->committer->snapshot();
      LiveTotals totals = Totals(snap);
      UpdateUpkeepMetrics(t.get(), totals.files, totals.bytes, now);
      if (delta::AutoVacuumEnabled(snap.metadata())) {
        int64_t due = t->last_vacuum_ms != 0
                          ? t->last_vacuum_ms + delta::AutoVacuumIntervalMs(snap.metadata())
                          : t->opened_at_ms + options_.maintenance.first_vacuum_delay_ms;
        vacuum_due = now >= due;
      }
    }
    if (vacuum_due) {
      absl::StatusOr<delta::VacuumResult> vacuumed = VacuumLocked(t.get(), {});
      if (!vacuumed.ok()) {
        t->last_vacuum_ms = now;  // retried after a full interval, not every round
        NOBUS_LOG_WARN("auto-vacuum failed table={} error={}", name, vacuumed.status().ToString());
      }
    }
  }
}

void IngestService::MaintenanceLoop() {
  // Linux: a thread's nice value is its own; ingest threads keep theirs.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)),
                    options_.maintenance.nice);
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_maintenance_) {
    maintenance_cv_.wait_for(l, std::chrono::milliseconds(options_.maintenance.check_interval_ms),
                             [&] { return stop_maintenance_; });
    if (stop_maintenance_) break;
    l.unlock();
    MaintainTables();
    l.lock();
  }
}

}  // namespace nobus::table
