#include "table/ingest_service.h"

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "schema/row_codec.h"
#include "delta/config.h"
#include "table/node_id.h"
#include "table/table_state.h"
#include "table/wal_record.h"

namespace nobus::table {

IngestService::IngestService(env::FileSystem* fs, env::Clock* clock, std::string data_dir,
                             IngestOptions options)
    : fs_(fs),
      clock_(clock),
      data_dir_(std::move(data_dir)),
      options_(std::move(options)),
      tables_fs_(options_.tables_fs != nullptr ? options_.tables_fs : fs_),
      tables_root_(options_.tables_fs != nullptr ? options_.tables_root
                                                 : env::JoinPath(data_dir_, "tables")) {}

absl::StatusOr<std::unique_ptr<IngestService>> IngestService::Open(env::FileSystem* fs,
                                                                   env::Clock* clock,
                                                                   std::string data_dir,
                                                                   IngestOptions options) {
  std::unique_ptr<IngestService> service(
      new IngestService(fs, clock, std::move(data_dir), std::move(options)));
  absl::Status st = service->Start();
  if (!st.ok()) {
    service->Abandon();
    return st;
  }
  return service;
}

absl::Status IngestService::Start() {
  NOBUS_RETURN_IF_ERROR(fs_->CreateDirs(data_dir_));
  NOBUS_ASSIGN_OR_RETURN(std::string node_id, LoadOrCreateNodeId(fs_, data_dir_));
  wal_id_ = Cat(kWalTxnPrefix, node_id);
  node_id_ = node_id;
  NOBUS_ASSIGN_OR_RETURN(catalog_, Catalog::Open(tables_fs_, clock_, tables_root_));
  if (options_.metrics != nullptr) {
    wal_bytes_ = options_.metrics->GetCounter("nobus_wal_bytes_written_total",
                                              "Bytes written and synced to the write-ahead log.");
    wal_segments_ = options_.metrics->GetGauge("nobus_wal_segments",
                                               "Segment files of the write-ahead log on disk.");
    tables_open_gauge_ = options_.metrics->GetGauge(
        "nobus_tables_open", "Tables the node holds open (as of the last idle check).");
    tables_closed_idle_ = options_.metrics->GetCounter(
        "nobus_tables_closed_idle_total", "Open tables closed after idle_table_close_ms unused.");
    held_bytes_gauge_ = options_.metrics->GetGauge(
        "nobus_buffered_bytes",
        "Row bytes accepted and not yet committed, node-wide (capped by max_buffered_bytes).");
    admission_waiting_ = options_.metrics->GetGauge(
        "nobus_admission_waiting",
        "Requests waiting for room in the node's buffers (the admission queue).");
    backpressure_waits_ = options_.metrics->GetCounter(
        "nobus_backpressure_waits_total",
        "Requests that waited for room because the node's buffers were full.");
    backpressure_ms_ = options_.metrics->GetCounter(
        "nobus_backpressure_wait_milliseconds_total",
        "Time requests spent waiting for room in the node's buffers.");
  }
  RegisterHealthMetrics();
  NOBUS_ASSIGN_OR_RETURN(wal_, OpenWal());
  // The commit workers start first: recovery's commits of every table run on them.
  if (options_.background_flush)
    committers_ = std::make_unique<TaskPool>(options_.commit_threads, "nobus-commit");
  NOBUS_RETURN_IF_ERROR(Recover());
  CheckDisks();  // a disk already below its watermark pauses admission from the start
  if (options_.background_flush) health_ = std::thread(&IngestService::HealthLoop, this);
  if (options_.background_flush) flusher_ = std::thread(&IngestService::FlusherLoop, this);
  if (options_.background_flush && options_.maintenance.enabled)
    maintainer_ = std::thread(&IngestService::MaintenanceLoop, this);
  admitter_ = std::thread(&IngestService::AdmissionLoop, this);
  return absl::OkStatus();
}

void IngestService::Abandon() {
  std::lock_guard<std::mutex> cl(close_mu_);
  if (committers_ != nullptr) committers_->Stop();
  if (wal_ != nullptr) (void)wal_->Close();
  closed_ = true;  // Close has nothing left to do
}

IngestService::~IngestService() {
  absl::Status st = Close();
  if (!st.ok()) NOBUS_LOG_WARN("ingest service closed with an error: {}", st.ToString());
}

Catalog* IngestService::catalog() { return catalog_.get(); }

const std::string& IngestService::wal_id() const { return wal_id_; }

absl::StatusOr<std::shared_ptr<TableState>> IngestService::LoadTable(const TableInfo& info) {
  auto committer = delta::Committer::Open(
      tables_fs_, clock_, info.path,
      delta::CommitterOptions{.node_id = node_id_,
                              .writer = options_.data_files,
                              .expire_txns = ExpiredStreamTxn});
  if (!committer.ok())
    return Annotate(committer.status(), Cat("opening table '", info.name.ToString(), "'"));
  NOBUS_ASSIGN_OR_RETURN(auto decoder, schema::RecordDecoder::ForJson(info.schema));
  TableMetrics metrics = TableMetrics::Register(options_.metrics, info.name.ToString());
  if (metrics.last_commit_version != nullptr)
    metrics.last_commit_version->Set(static_cast<double>((*committer)->snapshot().version()));
  auto table = std::make_shared<TableState>(info, std::move(decoder), std::move(*committer), metrics);
  table->streams.Load(table->committer->snapshot(), info.name.ToString());
  table->last_used_nanos = clock_->MonotonicNanos();  // not shared yet: no lock needed
  const delta::Metadata& m = table->committer->snapshot().metadata();
  table->stream_retention_ms = delta::StreamRetentionMs(m);
  table->stream_max_live = delta::StreamMaxLive(m);
  table->set_kafka_partitions(delta::KafkaPartitions(m));
  return table;
}

absl::StatusOr<std::shared_ptr<const LiveTable>> IngestService::OpenTable(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(TableName n, ParseTableName(name.ToString()));
  auto find = [&]() -> std::shared_ptr<TableState> {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tables_.find(n);
    return it == tables_.end() ? nullptr : it->second;
  };
  std::shared_ptr<TableState> table = find();
  if (table == nullptr) {
    std::lock_guard<std::mutex> ops(table_ops_mu_);
    table = find();
    if (table == nullptr) {
      NOBUS_ASSIGN_OR_RETURN(TableInfo info, catalog_->Get(n));
      NOBUS_ASSIGN_OR_RETURN(table, LoadTable(info));
      std::lock_guard<std::mutex> l(mu_);
      tables_[n] = table;
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (table->dropping) return absl::NotFoundError(Cat("table '", n.ToString(), "' is being dropped"));
  return std::shared_ptr<const LiveTable>(table);
}

void IngestService::AdjustHeldLocked(int64_t delta) {
  if (delta == 0) return;
  held_bytes_ += delta;
  if (held_bytes_gauge_ != nullptr) held_bytes_gauge_->Set(static_cast<double>(held_bytes_));
  if (delta < 0) {
    room_cv_.notify_all();
    maintenance_cv_.notify_all();  // a compaction waiting for ingest to catch up
  }
}

void IngestService::BufferLocked(TableState* table, BufferedBlob blob) {
  if (table->dropped) {
    AdjustHeldLocked(-static_cast<int64_t>(blob.blob.size()));
    return;
  }
  if (table->stuck) {  // admitted before the table was isolated: parked with the rest
    table->buffer.Add(std::move(blob));
    ParkLocked(table);
    return;
  }
  bool was_empty = table->buffer.empty();
  table->last_used_nanos = blob.acked_nanos;
  table->buffer.Add(std::move(blob));
  if (table->metrics.buffered_bytes != nullptr)
    table->metrics.buffered_bytes->Set(static_cast<double>(table->buffer.bytes()));
  bool newly_over =
      !table->flush_requested && table->buffer.bytes() >= options_.flush_threshold_bytes;
  if (newly_over) table->flush_requested = true;
  if (was_empty || newly_over) ScheduleLocked(table);
}

absl::Status IngestService::DropTable(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(TableName n, ParseTableName(name.ToString()));
  std::lock_guard<std::mutex> ops(table_ops_mu_);
  std::shared_ptr<TableState> table;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tables_.find(n);
    if (it != tables_.end()) table = it->second;
    if (table != nullptr) table->dropping = true;
  }
  // Waits out a commit to the table in progress.
  std::optional<TableCommitLock> lock;
  if (table != nullptr) lock = LockTableCommits(table.get());
  absl::Status st = catalog_->Drop(n);
  bool gone = st.ok() || (absl::IsNotFound(st) && table != nullptr);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (table != nullptr && !gone) table->dropping = false;
    if (table != nullptr && gone) {
      table->dropped = true;
      AdjustHeldLocked(-table->buffer.bytes());
      table->buffer.Take();
      tables_.erase(n);
    }
  }
  if (!gone) return st;
  if (options_.metrics != nullptr) options_.metrics->RemoveSeries("table", n.ToString());
  return absl::OkStatus();
}

absl::Status IngestService::Close() {
  std::lock_guard<std::mutex> cl(close_mu_);
  if (closed_) return close_status_;
  {
    std::lock_guard<std::mutex> l(mu_);
    closing_ = true;
    room_cv_.notify_all();      // the admission thread refuses what waits, then ends
    inflight_cv_.notify_all();  // a WAL reopen waiting for appends gives up
  }
  if (admitter_.joinable()) admitter_.join();
  {
    std::unique_lock<std::mutex> l(mu_);
    inflight_cv_.wait(l, [&] { return inflight_ == 0; });
    stop_flusher_ = true;
    stop_maintenance_ = true;
    stop_health_ = true;
  }
  flusher_cv_.notify_all();
  maintenance_cv_.notify_all();
  health_cv_.notify_all();
  if (health_.joinable()) health_.join();
  if (maintainer_.joinable()) maintainer_.join();
  if (flusher_.joinable()) flusher_.join();
  absl::Status st = Flush(/*all=*/true);
  if (committers_ != nullptr) committers_->Stop();
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, t] : tables_)
      if (t->stuck)
        NOBUS_LOG_WARN("table {} is stuck at shutdown: its {} acknowledged WAL records stay in the "
                       "WAL and are committed after the next start once it is writable (last "
                       "error: {})",
                       name.ToString(), t->parked_records, t->last_error);
  }
  absl::Status wal_st = wal_->Close();
  if (st.ok()) st = wal_st;
  closed_ = true;
  close_status_ = st;
  return st;
}

}  // namespace nobus::table
