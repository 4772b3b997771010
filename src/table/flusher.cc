// IngestService's flushing: the flusher thread, commits of table buffers, WAL release.
#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "schema/row_codec.h"
#include "table/ingest_service.h"
#include "table/rows_sink.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

double Seconds(int64_t nanos) { return static_cast<double>(nanos) / 1e9; }

}  // namespace

absl::Status IngestService::FlushAll() { return Flush(/*all=*/true); }

absl::Status IngestService::FlushDue() { return Flush(/*all=*/false); }

void IngestService::FlusherLoop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_flusher_) {
    auto wait = std::chrono::milliseconds(NextWakeMs());
    flusher_cv_.wait_for(l, wait, [&] { return stop_flusher_ || wake_; });
    wake_ = false;
    if (stop_flusher_) break;
    l.unlock();
    (void)FlushDue();  // failures are logged per table and retried
    l.lock();
  }
}

int64_t IngestService::NextWakeMs() {
  const int64_t interval_ms = std::max<int64_t>(options_.flush_interval_ms, 1);
  const int64_t now = clock_->MonotonicNanos();
  int64_t wait_ms = interval_ms;
  for (const auto& [name, t] : tables_) {
    if (t->buffer.empty()) continue;
    int64_t due = t->retry_at_nanos;
    if (!t->flush_requested)
      due = std::max(due, t->buffer.oldest_ack_nanos() + interval_ms * kNanosPerMilli);
    wait_ms = std::min(wait_ms, (due - now + kNanosPerMilli - 1) / kNanosPerMilli);
  }
  return std::max<int64_t>(wait_ms, 1);
}

absl::Status IngestService::Flush(bool all) {
  std::lock_guard<std::mutex> fl(flush_mu_);
  std::vector<std::shared_ptr<TableState>> due, stuck;
  wal::Lsn upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    const int64_t now = clock_->MonotonicNanos();
    const int64_t interval = options_.flush_interval_ms * kNanosPerMilli;
    for (const auto& [name, t] : tables_) {
      if (t->stuck) {  // at shutdown its rows simply stay in the WAL for the next start
        if (!closing_ && (all || now >= t->retry_at_nanos)) stuck.push_back(t);
        continue;
      }
      if (t->buffer.empty()) continue;
      bool timed = now - t->buffer.oldest_ack_nanos() >= interval;
      if (all || ((t->flush_requested || timed) && now >= t->retry_at_nanos)) due.push_back(t);
    }
    // Everything acknowledged so far; what arrives during the flush waits for the next one.
    upto = completed_lsn_;
    // While the WAL is being reopened its buffers are rebuilt: nothing to commit meanwhile.
    if (!wal_failure_.ok()) due.clear(), stuck.clear();
  }
  absl::Status first;
  for (const auto& t : due) {
    absl::Status st = FlushTable(t.get(), upto);
    if (first.ok()) first = st;
  }
  for (const auto& t : stuck) {
    absl::Status st = RetryStuck(t.get());
    if (first.ok()) first = st;
  }
  ReleaseWal();
  UpdateWalMetrics();
  return first;
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
  }
  if (st.ok()) return st;
  t->needs_refresh = true;
  if (t->metrics.commit_failures != nullptr) t->metrics.commit_failures->Add();
  NOBUS_LOG_WARN_LIMITED("commit failed; the rows stay buffered and are retried table={} error={}",
                 t->info().name.ToString(), st.ToString());
  return Annotate(st, Cat("committing to table '", t->info().name.ToString(), "'"));
}

absl::Status IngestService::CommitBlobs(TableState* t, const std::vector<BufferedBlob>& blobs) {
  delta::Committer* c = t->committer.get();
  if (t->needs_refresh) {
    NOBUS_RETURN_IF_ERROR(c->Refresh());
    t->needs_refresh = false;
  }
  NOBUS_RETURN_IF_ERROR(CheckSameTable(t->info(), c->snapshot()));
  // After an ambiguous failure the batch may have landed: skip what txn[appId] already covers.
  const int64_t landed = c->snapshot().TxnVersion(wal_id_).value_or(0);
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<delta::PartitionedRows> rows, c->NewRows());
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<RowsSink> sink, RowsSink::Create(rows.get()));
  int64_t num_rows = 0;
  std::vector<const StreamMark*> marks;
  for (const BufferedBlob& b : blobs) {
    if (static_cast<int64_t>(b.lsn) <= landed) continue;
    if (!b.stream.empty()) marks.push_back(&b.stream);
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
  if (m.commit_seconds == nullptr) return absl::OkStatus();
  m.commit_seconds->Observe(Seconds(end - start));
  m.last_commit_version->Set(static_cast<double>(result.version));
  m.rows_committed->Add(num_rows);
  for (const BufferedBlob& b : blobs)
    if (static_cast<int64_t>(b.lsn) > landed) m.time_to_table_seconds->Observe(Seconds(end - b.acked_nanos));
  return absl::OkStatus();
}

void IngestService::ReleaseWal() {
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
  wal::WalStats stats = wal_->stats();
  wal_bytes_->Add(static_cast<int64_t>(stats.bytes_synced - wal_bytes_reported_));
  wal_bytes_reported_ = stats.bytes_synced;
  wal_segments_->Set(static_cast<double>(wal_->num_segments()));
}

}  // namespace nobus::table
