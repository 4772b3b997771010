// IngestService's health thread (table/health.h): the free-space guard, WAL reopening after a
// failure, slow-disk detection, and the health reports built from them.
#include <algorithm>
#include <array>

#include "common/logging.h"
#include "table/ingest_service.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

std::string MiB(uint64_t bytes) { return Cat(bytes >> 20, " MiB"); }

uint64_t Watermark(uint64_t bytes, double percent, uint64_t total) {
  return std::max(bytes, static_cast<uint64_t>(static_cast<double>(total) * percent / 100.0));
}

bool Low(const DiskReport& d) { return d.error.empty() && d.space.free_bytes < d.pause_below_bytes; }

bool Recovered(const DiskReport& d) {
  return !d.error.empty() || d.space.free_bytes >= d.resume_above_bytes;
}

}  // namespace

std::array<std::string, 2> IngestService::WatchedDirs() const {
  return {env::JoinPath(data_dir_, "wal"), tables_root_};
}

absl::StatusOr<std::unique_ptr<wal::Wal>> IngestService::OpenWal() {
  wal::WalOptions wal_options = options_.wal;
  if (wal_sync_seconds_ != nullptr)
    wal_options.on_batch_synced = [h = wal_sync_seconds_](int64_t n) { h->Observe(n / 1e9); };
  return wal::Wal::Open(fs_, clock_, WatchedDirs()[0], wal_options);
}

void IngestService::RegisterHealthMetrics() {
  MetricsRegistry* r = options_.metrics;
  if (r == nullptr) return;
  wal_sync_seconds_ = r->GetHistogram("nobus_wal_sync_seconds",
                                      "Time of each WAL batch's write and fdatasync.",
                                      LatencyBucketsSeconds());
  admission_paused_gauge_ = r->GetGauge(
      "nobus_admission_paused",
      "1 while a disk is below its free-space watermark and new records are refused.");
  wal_failed_gauge_ = r->GetGauge(
      "nobus_wal_failed", "1 while the write-ahead log has failed and is being reopened.");
  wal_reopens_counter_ = r->GetCounter("nobus_wal_reopens_total",
                                       "Times the write-ahead log was reopened after a failure.");
  wal_sync_running_seconds_ = r->GetGauge(
      "nobus_wal_sync_running_seconds",
      "How long the WAL batch being written and synced now has taken (0 while idle).");
  tables_stuck_gauge_ =
      r->GetGauge("nobus_tables_stuck", "Tables isolated because their commits keep failing.");
  for (const std::string& path : WatchedDirs()) {
    disk_free_gauges_.push_back(r->GetGauge("nobus_disk_free_bytes",
                                            "Free bytes of the disk holding the path.",
                                            {{"path", path}}));
  }
}

void IngestService::HealthLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_health_) {
    l.unlock();
    CheckHealth();
    l.lock();
    health_cv_.wait_for(l, std::chrono::milliseconds(options_.health.check_interval_ms),
                        [&] { return stop_health_; });
  }
}

void IngestService::CheckHealth() {
  const int64_t now = clock_->MonotonicNanos();
  CheckDisks();
  CheckSlowDisk(now);
  CheckWal(now);
}

void IngestService::CheckDisks() {
  const HealthOptions& h = options_.health;
  std::vector<DiskReport> disks;
  for (const std::string& path : WatchedDirs()) {
    DiskReport d;
    d.path = path;
    env::FileSystem* fs = disks.empty() ? fs_ : tables_fs_;  // the WAL's, then the tables'
    absl::StatusOr<env::DiskSpace> space = fs->GetDiskSpace(path);
    if (space.ok()) {
      d.space = *space;
      d.pause_below_bytes =
          Watermark(h.pause_below_free_bytes, h.pause_below_free_percent, d.space.total_bytes);
      d.resume_above_bytes =
          Watermark(h.resume_above_free_bytes, h.resume_above_free_percent, d.space.total_bytes);
    } else {
      d.error = std::string(space.status().message());
    }
    if (disk_free_gauges_.size() == 2)
      disk_free_gauges_[disks.size()]->Set(static_cast<double>(d.space.free_bytes));
    disks.push_back(std::move(d));
  }
  std::lock_guard<std::mutex> l(mu_);
  // Never below what the node must still write before it can free anything: the Parquet files of
  // the rows it holds (at most their row bytes) and the WAL's next segment. Otherwise a pause
  // could come too late for the held rows to commit, and the WAL could never be released.
  const uint64_t must_write =
      static_cast<uint64_t>(std::max<int64_t>(held_bytes_, 0)) + options_.wal.segment_size_bytes;
  const bool off = h.pause_below_free_bytes == 0 && h.pause_below_free_percent == 0;
  for (DiskReport& d : disks) {
    if (!d.error.empty() || off) continue;
    d.pause_below_bytes = std::max(d.pause_below_bytes, must_write);
    d.resume_above_bytes = std::max(d.resume_above_bytes, d.pause_below_bytes);
  }
  const bool low = std::any_of(disks.begin(), disks.end(), Low);
  const bool recovered = std::all_of(disks.begin(), disks.end(), Recovered);
  disks_ = std::move(disks);
  if (!admission_paused_ && low) {
    admission_paused_ = true;
    NOBUS_LOG_WARN("admission paused: {}; new records are refused (RESOURCE_EXHAUSTED) while "
                   "acknowledged rows are committed",
                   DiskLowMessageLocked());
  } else if (admission_paused_ && recovered) {
    admission_paused_ = false;
    NOBUS_LOG_INFO("admission resumed: every disk is above its resume watermark ({} free on {})",
                   MiB(disks_[0].space.free_bytes), disks_[0].path);
    RetryStuckSoonLocked();  // their commits may have failed for want of space
  } else {
    return;
  }
  if (admission_paused_gauge_ != nullptr) admission_paused_gauge_->Set(admission_paused_ ? 1 : 0);
  room_cv_.notify_all();
}

std::string IngestService::DiskLowMessageLocked() const {
  for (const DiskReport& d : disks_) {
    if (!Low(d)) continue;
    return Cat("the disk holding ", d.path, " has ", MiB(d.space.free_bytes), " free of ",
               MiB(d.space.total_bytes), ", below the watermark of ", MiB(d.pause_below_bytes),
               " (disk_pause_below_free_bytes / _percent, and never less than the node's "
               "uncommitted rows plus a WAL segment; admission resumes at ",
               MiB(d.resume_above_bytes), ")");
  }
  return "a disk was below its free-space watermark and is not yet above its resume watermark";
}

void IngestService::CheckSlowDisk(int64_t now) {
  const int64_t running = wal_->sync_running_nanos();
  const wal::WalStats stats = wal_->stats();
  if (wal_sync_running_seconds_ != nullptr)
    wal_sync_running_seconds_->Set(static_cast<double>(running) / 1e9);
  const int64_t threshold = options_.health.slow_sync_ms * kNanosPerMilli;
  const bool new_batch = stats.syncs != syncs_seen_;
  int64_t slow = running > threshold ? running : 0;
  if (new_batch && stats.last_sync_nanos > threshold) slow = std::max(slow, stats.last_sync_nanos);
  std::lock_guard<std::mutex> l(mu_);
  syncs_seen_ = stats.syncs;
  sync_running_ms_ = running / kNanosPerMilli;
  last_sync_ms_ = stats.last_sync_nanos / kNanosPerMilli;
  if (slow > 0) {
    if (slow_disk_until_nanos_ == 0) {
      NOBUS_LOG_WARN("the WAL disk is slow: a write + fdatasync took {} ms (slow_sync_ms = {}); "
                     "the node reports not ready (slow_disk)",
                     slow / kNanosPerMilli, options_.health.slow_sync_ms);
    }
    slow_sync_seen_ms_ = std::max(slow_sync_seen_ms_, slow / kNanosPerMilli);
    slow_disk_until_nanos_ = now + options_.health.slow_disk_clear_ms * kNanosPerMilli;
  } else if (slow_disk_until_nanos_ != 0 && now >= slow_disk_until_nanos_) {
    NOBUS_LOG_INFO("the WAL disk is fast again: no write + fdatasync over {} ms for {} ms",
                   options_.health.slow_sync_ms, options_.health.slow_disk_clear_ms);
    slow_disk_until_nanos_ = 0;
    slow_sync_seen_ms_ = 0;
  }
}

void IngestService::CheckWal(int64_t now) {
  const HealthOptions& h = options_.health;
  absl::Status failure = wal_->error();
  {
    std::lock_guard<std::mutex> l(mu_);
    if (failure.ok() && wal_failure_.ok()) return;
    if (wal_failure_.ok()) {
      wal_failure_ = failure;
      wal_reopen_backoff_ms_ = h.wal_reopen_min_ms;
      wal_reopen_at_nanos_ = now;
      if (wal_failed_gauge_ != nullptr) wal_failed_gauge_->Set(1);
      NOBUS_LOG_ERROR("the write-ahead log failed: {}. Records are refused (UNAVAILABLE) until "
                      "nobusd has reopened it, which it retries by itself",
                      failure.ToString());
      room_cv_.notify_all();  // appends waiting for room are refused now
    }
    if (closing_ || now < wal_reopen_at_nanos_) return;
  }
  absl::Status st = ReopenWal();
  std::lock_guard<std::mutex> l(mu_);
  if (!st.ok()) {
    wal_reopen_at_nanos_ = now + wal_reopen_backoff_ms_ * kNanosPerMilli;
    NOBUS_LOG_WARN_LIMITED("reopening the write-ahead log failed (next attempt in {} ms): {}",
                           wal_reopen_backoff_ms_, st.ToString());
    wal_reopen_backoff_ms_ = std::min(wal_reopen_backoff_ms_ * 2, h.wal_reopen_max_ms);
    return;
  }
  NOBUS_LOG_INFO("the write-ahead log is reopened (it had failed: {}); records are accepted again",
                 wal_failure_.ToString());
  wal_failure_ = absl::OkStatus();
  ++wal_reopens_;
  if (wal_failed_gauge_ != nullptr) wal_failed_gauge_->Set(0);
  if (wal_reopens_counter_ != nullptr) wal_reopens_counter_->Add();
  RetryStuckSoonLocked();
  room_cv_.notify_all();
}

void IngestService::RetryStuckSoonLocked() {
  for (const auto& [name, t] : tables_) {
    if (!t->stuck) continue;
    t->retry_at_nanos = 0;
    ScheduleLocked(t.get());
  }
  wake_ = true;
  flusher_cv_.notify_all();
}

absl::Status IngestService::ReopenWal() {
  {
    // Admit refuses while wal_failure_ is set; the appends already in flight fail fast.
    std::unique_lock<std::mutex> l(mu_);
    inflight_cv_.wait(l, [&] { return inflight_ == 0 || closing_; });
    if (closing_) return absl::CancelledError("the ingest service is closing");
  }
  std::unique_lock<std::shared_mutex> gate(flush_mu_);  // every commit in progress ends first
  (void)wal_->Close();  // reports the failure it already reported
  NOBUS_ASSIGN_OR_RETURN(wal_, OpenWal());
  // As after a restart: the buffers are rebuilt from what the log holds.
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& [name, t] : tables_) {
      AdjustHeldLocked(-t->buffer.bytes());
      t->buffer.Take();
      t->flush_requested = false;
      t->parked_from = t->parked_upto = 0;
      t->parked_records = 0;
      t->needs_refresh = true;
    }
  }
  NOBUS_RETURN_IF_ERROR(CheckWalNotBehind());
  NOBUS_ASSIGN_OR_RETURN(wal::Lsn after, ReplayStart());
  {
    std::lock_guard<std::mutex> l(mu_);
    completed_lsn_ = wal_->durable_lsn();
  }
  return Replay(after);
}

absl::Status IngestService::RefusalLocked(const TableState& t) const {
  if (!wal_failure_.ok()) {
    return absl::UnavailableError(
        Cat("nobusd's write-ahead log failed (", wal_failure_.message(),
            ") and is being reopened; this request was not accepted: retry shortly or against "
            "another node"));
  }
  if (admission_paused_) {
    return absl::ResourceExhaustedError(
        Cat("nobusd is not accepting records: ", DiskLowMessageLocked(),
            ". Rows already acknowledged are still committed. Free space on that disk, or retry "
            "later or against another node"));
  }
  if (t.stuck) {
    return absl::UnavailableError(Cat(
        "table '", t.info().name.ToString(), "' is stuck: its commits keep failing (",
        t.last_error, "). Its acknowledged rows are safe in the write-ahead log and land once the "
        "table is writable again; `nobus table status ", t.info().name.ToString(),
        "` shows more, `nobus table retry` retries now"));
  }
  return absl::OkStatus();
}

NodeHealth IngestService::Health() {
  const int64_t now = clock_->MonotonicNanos();
  std::lock_guard<std::mutex> l(mu_);
  NodeHealth h;
  h.disks = disks_;
  h.admission_paused = admission_paused_;
  h.wal_error = wal_failure_.ok() ? "" : wal_failure_.ToString();
  h.wal_reopens = wal_reopens_;
  h.sync_running_ms = sync_running_ms_;
  h.last_sync_ms = last_sync_ms_;
  if (!wal_failure_.ok())
    h.not_ready.push_back(
        {"wal_failed", Cat("the write-ahead log failed and is being reopened: ", h.wal_error)});
  if (admission_paused_) h.not_ready.push_back({"disk_low", DiskLowMessageLocked()});
  if (slow_disk_until_nanos_ > now)
    h.not_ready.push_back({"slow_disk", Cat("a WAL write + fdatasync took ", slow_sync_seen_ms_,
                                            " ms (slow_sync_ms = ", options_.health.slow_sync_ms,
                                            ")")});
  for (const auto& [name, t] : tables_)
    if (t->stuck) h.stuck_tables.push_back(name.ToString());
  return h;
}

absl::StatusOr<TableHealth> IngestService::TableStatus(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  const int64_t now = clock_->MonotonicNanos();
  std::lock_guard<std::mutex> l(mu_);
  TableHealth h;
  if (t->failing_since_nanos != 0) {
    h.state = t->stuck ? "stuck" : "failing";
    h.failing_for_ms = (now - t->failing_since_nanos) / kNanosPerMilli;
  }
  h.consecutive_failures = t->consecutive_failures;
  h.last_error = t->last_error;
  h.buffered_bytes = t->buffer.bytes();
  h.parked_records = t->parked_records;
  if (t->stuck) h.next_retry_in_ms = std::max<int64_t>(t->retry_at_nanos - now, 0) / kNanosPerMilli;
  return h;
}

absl::Status IngestService::RetryTable(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  TableCommitLock lock = LockTableCommits(t.get());
  bool stuck;
  wal::Lsn upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!wal_failure_.ok()) return RefusalLocked(*t);
    stuck = t->stuck;
    upto = completed_lsn_;
  }
  absl::Status st = stuck ? RetryStuck(t.get()) : FlushTable(t.get(), upto);
  ReleaseWal();
  return st;
}

}  // namespace nobus::table
