// IngestService's stuck tables (table/health.h): a table whose commits keep failing is isolated so
// the rest of the node keeps flowing. Its acknowledged rows leave memory ("parked": they stay in
// the WAL, which keeps every segment from the first of them), its appends are refused, and it is
// retried with backoff or by RetryTable: the parked rows are read back from the WAL and committed.
#include <algorithm>

#include "common/logging.h"
#include "table/ingest_service.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

constexpr int64_t kNanosPerMilli = 1'000'000;

}  // namespace

void IngestService::OnCommitFailureLocked(TableState* t, const absl::Status& error) {
  const HealthOptions& h = options_.health;
  const int64_t now = clock_->MonotonicNanos();
  if (t->failing_since_nanos == 0) t->failing_since_nanos = now;
  ++t->consecutive_failures;
  t->last_error = std::string(error.message());
  t->retry_at_nanos = now + options_.flush_interval_ms * kNanosPerMilli;
  if (t->stuck) {  // a retry failed: back off further
    t->stuck_backoff_ms = std::min(t->stuck_backoff_ms * 2, h.stuck_retry_max_ms);
    t->retry_at_nanos = now + t->stuck_backoff_ms * kNanosPerMilli;
    ParkLocked(t);
    return;
  }
  const bool long_enough = now - t->failing_since_nanos >= h.stuck_table_after_ms * kNanosPerMilli;
  const bool holds_half = t->buffer.bytes() * 2 >= options_.max_buffered_bytes;
  // A full disk fails every table's commits: that is the node's state (admission is paused), not
  // this table's, and the table commits again as soon as space is back.
  if (admission_paused_ || (!long_enough && !holds_half)) return;
  t->stuck = true;
  t->stuck_backoff_ms = h.stuck_retry_min_ms;
  t->retry_at_nanos = now + t->stuck_backoff_ms * kNanosPerMilli;
  ParkLocked(t);
  if (t->metrics.stuck != nullptr) t->metrics.stuck->Set(1);
  if (tables_stuck_gauge_ != nullptr) tables_stuck_gauge_->Add(1);
  NOBUS_LOG_WARN("table {} is stuck: {} commits failed over {} ms (last: {}). Its {} acknowledged "
                 "WAL records stay in the WAL and its new records are refused until a commit "
                 "succeeds; retried every {} ms or more, or now with `nobus table retry {}`",
                 t->info().name.ToString(), t->consecutive_failures,
                 (now - t->failing_since_nanos) / kNanosPerMilli, t->last_error,
                 t->parked_records, t->stuck_backoff_ms, t->info().name.ToString());
}

void IngestService::OnCommitSuccessLocked(TableState* t) {
  if (t->failing_since_nanos == 0) return;
  NOBUS_LOG_INFO("table {} commits again after {} failed attempts over {} ms{}",
                 t->info().name.ToString(), t->consecutive_failures,
                 (clock_->MonotonicNanos() - t->failing_since_nanos) / kNanosPerMilli,
                 t->stuck ? "; it is no longer isolated" : "");
  if (t->stuck) {
    if (t->metrics.stuck != nullptr) t->metrics.stuck->Set(0);
    if (tables_stuck_gauge_ != nullptr) tables_stuck_gauge_->Add(-1);
  }
  t->failing_since_nanos = 0;
  t->consecutive_failures = 0;
  t->last_error.clear();
  t->stuck = false;
  t->retry_at_nanos = 0;
}

void IngestService::ParkLocked(TableState* t) {
  if (t->buffer.empty()) return;
  if (t->parked_from == 0) t->parked_from = t->buffer.first_lsn();
  t->parked_upto = std::max(t->parked_upto, t->buffer.last_lsn());
  t->parked_records += static_cast<int64_t>(t->buffer.size());
  AdjustHeldLocked(-t->buffer.bytes());
  t->buffer.Take();
  if (t->metrics.buffered_bytes != nullptr) t->metrics.buffered_bytes->Set(0);
}

absl::Status IngestService::RetryStuck(TableState* t) {
  wal::Lsn from, upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    from = t->parked_from;
    upto = t->parked_upto;
  }
  // A cheap look first: the WAL is read only once the table is there and still the same table.
  absl::Status st = t->committer->Refresh();
  if (st.ok()) {
    t->needs_refresh = false;
    st = CheckSameTable(t->info(), t->committer->snapshot());
  }
  if (st.ok() && from != 0) {
    std::vector<BufferedBlob> batch;
    int64_t batch_bytes = 0;
    bool past = false;
    const int64_t now = clock_->MonotonicNanos();
    st = ForEachWalBlob(from - 2, [&](const RecordHeader& h, wal::Lsn lsn,
                                      std::string_view blob) -> absl::Status {
      if (lsn > upto) {
        past = true;
        return absl::CancelledError("past the parked rows");
      }
      if (h.table_id != t->info().table_id || h.table_name != t->info().name.ToString())
        return absl::OkStatus();
      batch.push_back(BufferedBlob{lsn, std::string(blob), h.num_rows, now, h.stream});
      batch_bytes += static_cast<int64_t>(blob.size());
      if (batch_bytes < options_.flush_threshold_bytes) return absl::OkStatus();
      NOBUS_RETURN_IF_ERROR(CommitBlobs(t, batch));
      batch.clear();
      batch_bytes = 0;
      std::lock_guard<std::mutex> l(mu_);
      t->parked_from = lsn + 2;  // the next record's blob, at the earliest
      return absl::OkStatus();
    });
    if (past) st = absl::OkStatus();
    if (st.ok() && !batch.empty()) st = CommitBlobs(t, batch);
  }
  std::lock_guard<std::mutex> l(mu_);
  absl::Status result = RetryEndedLocked(t, upto, st);
  ScheduleLocked(t);  // the next retry, or rows that arrived (a queued retry schedules when it ends)
  return result;
}

absl::Status IngestService::RetryEndedLocked(TableState* t, wal::Lsn upto, const absl::Status& st) {
  if (!st.ok()) {
    t->needs_refresh = true;
    if (t->metrics.commit_failures != nullptr) t->metrics.commit_failures->Add();
    OnCommitFailureLocked(t, st);
    return Annotate(st, Cat("retrying stuck table '", t->info().name.ToString(), "'"));
  }
  if (t->parked_upto > upto) {
    // Appends admitted before the table was isolated completed during the retry and were
    // parked too: they go next, at once.
    t->parked_from = upto + 2;
    t->retry_at_nanos = 0;
    return absl::OkStatus();
  }
  t->parked_from = t->parked_upto = 0;
  t->parked_records = 0;
  OnCommitSuccessLocked(t);
  return absl::OkStatus();
}

}  // namespace nobus::table
