// IngestService's flushing: the flusher thread queues due tables (oldest row first) on the commit
// workers, which commit them concurrently; WAL release.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <latch>
#include <utility>

#include "common/logging.h"
#include "parquet/byte_buffer.h"
#include "schema/row_codec.h"
#include "table/ingest_service.h"
#include "table/rows_sink.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

// Commit order: the table whose oldest row (or retry) waited longest first.
template <typename Due>
void SortOldestFirst(std::vector<Due>* due) {
  std::sort(due->begin(), due->end(),
            [](const Due& a, const Due& b) { return a.since_nanos < b.since_nanos; });
}

}  // namespace

absl::Status IngestService::FlushAll() { return Flush(/*all=*/true); }

absl::Status IngestService::FlushDue() { return Flush(/*all=*/false); }

void IngestService::FlusherLoop() {
  pthread_setname_np(pthread_self(), "nobus-flusher");
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_flusher_) {
    const int64_t wait_ms = NextWakeMs();
    flusher_wakes_at_nanos_ = clock_->MonotonicNanos() + wait_ms * kNanosPerMilli;
    flusher_cv_.wait_for(l, std::chrono::milliseconds(wait_ms),
                         [&] { return stop_flusher_ || wake_; });
    flusher_wakes_at_nanos_ = 0;
    wake_ = false;
    if (stop_flusher_) break;
    std::vector<DueTable> due = TakeDueLocked();
    const wal::Lsn upto = completed_lsn_;  // what arrives later waits for the table's next commit
    const bool release = std::exchange(release_pending_, false);
    l.unlock();
    // Failures are logged per table and retried (retry_at_nanos).
    for (DueTable& d : due)
      committers_->Submit(d.since_nanos, [this, d = std::move(d), upto] { RunTimedCommit(d, upto); });
    if (release) {
      std::shared_lock<std::shared_mutex> gate(flush_mu_);
      ReleaseWal();
      UpdateWalMetrics();
    }
    CloseIdleTables();
    // The column buffers' blocks that no commit reused for a while go back to the system.
    parquet::TrimBlockPool(std::chrono::seconds(10));
    l.lock();
  }
}

void IngestService::RunTimedCommit(const DueTable& due, wal::Lsn upto) {
  (void)CommitDue(due, upto);
  TableState* t = due.table.get();
  std::lock_guard<std::mutex> l(mu_);
  t->commit_queued = false;
  release_pending_ = true;
  // Rows that arrived during the commit, or a retry after a failure.
  ScheduleLocked(t);
}

int64_t IngestService::DueAtNanosLocked(const TableState& t) const {
  if (t.stuck || t.flush_requested) return t.retry_at_nanos;
  return std::max(t.retry_at_nanos,
                  t.buffer.oldest_ack_nanos() + options_.flush_interval_ms * kNanosPerMilli);
}

void IngestService::ScheduleLocked(TableState* t) {
  if (t->commit_queued || t->dropped || (t->buffer.empty() && !t->stuck)) return;
  const int64_t at = DueAtNanosLocked(*t);
  due_queue_.push(DueEntry{at, t->weak_from_this()});
  if (at < flusher_wakes_at_nanos_) {
    wake_ = true;
    flusher_cv_.notify_one();
  }
}

int64_t IngestService::NextWakeMs() {
  const int64_t interval_ms = std::max<int64_t>(options_.flush_interval_ms, 1);
  const int64_t now = clock_->MonotonicNanos();
  // A finished commit's WAL release waits a little, to serve several commits at once.
  int64_t wait_ms = release_pending_ ? std::min<int64_t>(interval_ms, 20) : interval_ms;
  int64_t next = next_sweep_nanos_;
  if (!due_queue_.empty()) next = std::min(next, due_queue_.top().at_nanos);
  wait_ms = std::min(wait_ms, (next - now + kNanosPerMilli - 1) / kNanosPerMilli);
  return std::max<int64_t>(wait_ms, 1);
}

std::vector<IngestService::DueTable> IngestService::TakeDueLocked() {
  std::vector<DueTable> due;
  // While the WAL is being reopened its buffers are rebuilt (and rescheduled): nothing to commit.
  if (!wal_failure_.ok()) return due;
  const int64_t now = clock_->MonotonicNanos();
  if (now >= next_sweep_nanos_) {
    next_sweep_nanos_ = now + std::max<int64_t>(options_.flush_interval_ms, 1) * kNanosPerMilli;
    for (const auto& [name, t] : tables_) ScheduleLocked(t.get());
  }
  while (!due_queue_.empty() && due_queue_.top().at_nanos <= now) {
    std::shared_ptr<TableState> t = due_queue_.top().table.lock();
    due_queue_.pop();
    if (t == nullptr || t->commit_queued || t->dropped) continue;
    if (t->stuck ? closing_ : t->buffer.empty()) continue;  // stuck at shutdown: rows stay in the WAL
    const int64_t at = DueAtNanosLocked(*t);
    if (at > now) {
      due_queue_.push(DueEntry{at, std::move(t)});
      continue;
    }
    t->commit_queued = true;
    const bool stuck = t->stuck;
    const int64_t since = stuck ? t->retry_at_nanos : t->buffer.oldest_ack_nanos();
    due.push_back(DueTable{std::move(t), stuck, since});
  }
  SortOldestFirst(&due);
  return due;
}

std::vector<IngestService::DueTable> IngestService::DueTablesLocked(bool all) {
  std::vector<DueTable> due;
  // While the WAL is being reopened its buffers are rebuilt: nothing to commit meanwhile.
  if (!wal_failure_.ok()) return due;
  const int64_t now = clock_->MonotonicNanos();
  for (const auto& [name, t] : tables_) {
    if (t->stuck) {  // at shutdown its rows simply stay in the WAL for the next start
      if (!closing_ && (all || now >= t->retry_at_nanos))
        due.push_back(DueTable{t, /*stuck=*/true, t->retry_at_nanos});
      continue;
    }
    // `all` waits for a commit in progress too (its rows left the buffer but are not committed).
    if (t->buffer.empty() && !(all && t->flushing_first_lsn != 0)) continue;
    if (all || now >= DueAtNanosLocked(*t))
      due.push_back(DueTable{t, /*stuck=*/false, t->buffer.oldest_ack_nanos()});
  }
  SortOldestFirst(&due);
  return due;
}

void IngestService::CloseIdleTables() {
  const int64_t idle = options_.idle_table_close_ms * kNanosPerMilli;
  const int64_t now = clock_->MonotonicNanos();
  if (idle <= 0 || now < next_idle_check_nanos_) return;
  next_idle_check_nanos_ = now + std::min<int64_t>(idle / 4, 10'000 * kNanosPerMilli);
  // Not while a table loads or drops (OpenTable would find it absent and load a second copy).
  std::unique_lock<std::mutex> ops(table_ops_mu_, std::try_to_lock);
  if (!ops.owns_lock()) return;
  std::vector<std::shared_ptr<TableState>> closed;
  size_t open = 0;
  {
    const int64_t now_ms = clock_->NowMillis();
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = tables_.begin(); it != tables_.end();) {
      const std::shared_ptr<TableState>& t = it->second;
      // use_count 1: only tables_ holds it (no stream, append, commit or upkeep job), and no new
      // holder can appear while mu_ is held.
      bool unused = t.use_count() == 1 && !t->commit_queued && t->buffer.empty() &&
                    t->flushing_first_lsn == 0 && t->parked_from == 0 && !t->stuck &&
                    !t->dropping && t->pending_keys.empty() && t->failing_since_nanos == 0 &&
                    now - t->last_used_nanos >= idle &&
                    !t->streams.AnyActive(now_ms, t->stream_retention_ms);
      if (!unused) {
        ++it;
        continue;
      }
      closed.push_back(t);
      it = tables_.erase(it);
    }
    open = tables_.size();
  }
  // Their metric series stay (a reopened table continues them; the registry keeps series alive).
  for (const std::shared_ptr<TableState>& t : closed)
    NOBUS_LOG_DEBUG("closed idle table table={}", t->info().name.ToString());
  if (tables_open_gauge_ != nullptr) tables_open_gauge_->Set(static_cast<double>(open));
  if (tables_closed_idle_ != nullptr) tables_closed_idle_->Add(static_cast<int64_t>(closed.size()));
}

IngestService::TableCommitLock IngestService::LockTableCommits(TableState* table) {
  TableCommitLock lock{std::shared_lock<std::shared_mutex>(flush_mu_), {}};
  lock.table = std::unique_lock<std::mutex>(table->commit_mu);
  return lock;
}

absl::Status IngestService::CommitDue(const DueTable& due, wal::Lsn upto) {
  TableCommitLock lock = LockTableCommits(due.table.get());
  return due.stuck ? RetryStuck(due.table.get()) : FlushTable(due.table.get(), upto);
}

absl::Status IngestService::Flush(bool all) {
  std::vector<DueTable> due;
  wal::Lsn upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    due = DueTablesLocked(all);
    upto = completed_lsn_;  // everything acknowledged so far
  }
  std::vector<absl::Status> results(due.size());
  if (committers_ == nullptr) {
    for (size_t i = 0; i < due.size(); ++i) results[i] = CommitDue(due[i], upto);
  } else {
    // On the workers, in parallel; a table a timed commit holds is committed again after it.
    std::latch done(static_cast<std::ptrdiff_t>(due.size()));
    for (size_t i = 0; i < due.size(); ++i)
      committers_->Submit(due[i].since_nanos, [&, i] {
        results[i] = CommitDue(due[i], upto);
        done.count_down();
      });
    done.wait();
  }
  {
    std::shared_lock<std::shared_mutex> gate(flush_mu_);
    ReleaseWal();
    UpdateWalMetrics();
  }
  for (absl::Status& st : results)
    if (!st.ok()) return st;
  return absl::OkStatus();
}

absl::Status IngestService::FlushTable(TableState* t, wal::Lsn upto) {
  while (true) {
    NOBUS_RETURN_IF_ERROR(FlushBatch(t));
    std::lock_guard<std::mutex> l(mu_);
    if (t->dropped || t->buffer.empty() || t->buffer.first_lsn() > upto) return absl::OkStatus();
  }
}

absl::Status IngestService::FlushBatch(TableState* t) {
  std::vector<BufferedBlob> blobs;
  int64_t bytes = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (t->dropped || t->buffer.empty()) return absl::OkStatus();
    bytes = t->buffer.bytes();
    blobs = t->buffer.Take(options_.flush_threshold_bytes);
    bytes -= t->buffer.bytes();
    t->flushing_first_lsn = blobs.front().lsn;
    t->flush_requested = t->buffer.bytes() >= options_.flush_threshold_bytes;
    if (t->metrics.buffered_bytes != nullptr)
      t->metrics.buffered_bytes->Set(static_cast<double>(t->buffer.bytes()));
  }
  absl::Status st = CommitBlobs(t, blobs);
  {
    std::lock_guard<std::mutex> l(mu_);
    t->flushing_first_lsn = 0;
    if (!st.ok() && !t->dropped) t->buffer.PutBack(std::move(blobs));
    if (st.ok() || t->dropped) AdjustHeldLocked(-bytes);
    if (t->metrics.buffered_bytes != nullptr)
      t->metrics.buffered_bytes->Set(static_cast<double>(t->buffer.bytes()));
    if (st.ok()) OnCommitSuccessLocked(t);
    else if (!t->dropped) OnCommitFailureLocked(t, st);
    ScheduleLocked(t);  // what is left, or the retry (a queued commit schedules when it ends)
  }
  if (st.ok()) return st;
  t->needs_refresh = true;
  if (t->metrics.commit_failures != nullptr) t->metrics.commit_failures->Add();
  NOBUS_LOG_WARN_LIMITED("commit failed; the rows stay buffered and are retried table={} error={}",
                 t->info().name.ToString(), st.ToString());
  return Annotate(st, Cat("committing to table '", t->info().name.ToString(), "'"));
}

absl::Status IngestService::CommitBlobs(TableState* t, const std::vector<BufferedBlob>& blobs) {
  // Aborted: a concurrent commit (another node's) carries a txn of one of the batch's streams and
  // may hold some of its requests; the next attempt builds the batch against it.
  constexpr int kBuilds = 3;
  for (int build = 1;; ++build) {
    absl::Status st = CommitBlobsOnce(t, blobs);
    if (!absl::IsAborted(st) || build == kBuilds) return st;
    NOBUS_LOG_INFO("rebuilding a batch after a concurrent commit table={} reason={}",
                   t->info().name.ToString(), std::string(st.message()));
    t->needs_refresh = true;
  }
}

absl::Status IngestService::CommitBlobsOnce(TableState* t, const std::vector<BufferedBlob>& blobs) {
  delta::Committer* c = t->committer.get();
  if (t->needs_refresh) {
    NOBUS_RETURN_IF_ERROR(c->Refresh());
    t->needs_refresh = false;
  }
  const delta::Snapshot& snapshot = c->snapshot();
  NOBUS_RETURN_IF_ERROR(CheckSameTable(t->info(), snapshot));
  // After an ambiguous failure the batch may have landed: skip what txn[appId] already covers.
  const int64_t landed = snapshot.TxnVersion(wal_id_).value_or(0);
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<delta::PartitionedRows> rows, c->NewRows());
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<RowsSink> sink, RowsSink::Create(rows.get()));
  int64_t num_rows = 0, elsewhere = 0;
  std::vector<const StreamMark*> marks;
  for (const BufferedBlob& b : blobs) {
    if (static_cast<int64_t>(b.lsn) <= landed) continue;
    if (CommittedByTable(b.stream, snapshot)) {  // another node committed it (failover)
      ++elsewhere;
      continue;
    }
    // A stream retired in the table (maybe through another node) gets no txn: it would hide that.
    if (!b.stream.empty() && snapshot.TxnVersion(b.stream.stream_id) != kRetiredStreamVersion)
      marks.push_back(&b.stream);
    absl::Status st = schema::ReplayRows(t->info().schema, t->info().partition_columns, b.blob,
                                         sink.get());
    if (!st.ok()) return Annotate(st, Cat("rows of the WAL record ending at LSN ", b.lsn));
    num_rows += b.num_rows;
  }
  std::vector<delta::Txn> stream_txns;
  if (!marks.empty()) {
    const int64_t now_ms = clock_->NowMillis();
    std::lock_guard<std::mutex> l(mu_);
    stream_txns = StreamTxns(marks, t->streams, now_ms);
  }
  const int64_t start = clock_->MonotonicNanos();
  NOBUS_ASSIGN_OR_RETURN(delta::CommitResult result,
                         c->AppendOnce(wal_id_, static_cast<int64_t>(blobs.back().lsn), *rows,
                                       stream_txns));
  const int64_t end = clock_->MonotonicNanos();
  if (options_.on_commit)
    for (const delta::Txn& txn : stream_txns) options_.on_commit(txn.app_id, txn.version, result.version);
  const TableMetrics& m = t->metrics;
  if (elsewhere > 0)
    NOBUS_LOG_INFO("left out requests another node committed table={} requests={}",
                   t->info().name.ToString(), elsewhere);
  if (m.commit_seconds == nullptr) return absl::OkStatus();
  m.commit_seconds->Observe(Seconds(end - start));
  m.last_commit_version->Set(static_cast<double>(result.version));
  m.rows_committed->Add(num_rows);
  m.requests_committed_elsewhere->Add(elsewhere);
  if (result.attempts > 1) m.commit_conflicts->Add(result.attempts - 1);
  for (const BufferedBlob& b : blobs)
    if (static_cast<int64_t>(b.lsn) > landed) m.time_to_table_seconds->Observe(Seconds(end - b.acked_nanos));
  return absl::OkStatus();
}

void IngestService::ReleaseWal() {
  std::lock_guard<std::mutex> release(release_mu_);
  wal::Lsn upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!wal_failure_.ok()) return;  // the log is being replaced
    upto = completed_lsn_;
    for (const auto& [name, t] : tables_) {
      wal::Lsn first = t->flushing_first_lsn != 0 ? t->flushing_first_lsn : t->buffer.first_lsn();
      if (t->parked_from != 0) first = t->parked_from;  // parked rows precede any in memory
      // `first` is a blob's LSN; its record starts one LSN earlier, at the header.
      if (first != 0) upto = std::min(upto, first - 2);
    }
  }
  if (upto == 0) return;
  absl::Status st = wal_->ReleaseUpTo(upto);
  if (!st.ok()) NOBUS_LOG_WARN("wal release failed upto_lsn={} error={}", upto, st.ToString());
}

void IngestService::UpdateWalMetrics() {
  if (wal_bytes_ == nullptr) return;
  std::lock_guard<std::mutex> release(release_mu_);
  wal::WalStats stats = wal_->stats();
  wal_bytes_->Add(static_cast<int64_t>(stats.bytes_synced - wal_bytes_reported_));
  wal_bytes_reported_ = stats.bytes_synced;
  wal_segments_->Set(static_cast<double>(wal_->num_segments()));
}

}  // namespace nobus::table
