// Admission: how an append gets into the WAL (IngestService::Append, AppendOrQueue).
//
// An append that fits under max_buffered_bytes, when no earlier append waits, is counted as held
// and handed to the WAL by the caller's thread, without waiting for the WAL's byte budget. Any
// other goes to the back of the admission queue (the WAL budget case to its front: it came before
// everything queued). One thread, nobus-admit, admits the queue's front once it fits (or refuses
// it: table dropped or stuck, WAL failed, disk low, shutdown, or still full after
// buffer_full_timeout_ms), hands it to the WAL (waiting for the WAL's budget there, not on a
// front end's thread) and tells the producer through its AdmittedCallback. Blocking Append waits
// for that callback; gRPC streams pause their reads until it comes (and Kafka connections stop
// after 16 unanswered requests), so a waiting producer holds no thread and no other producer's
// acks wait for it.
#include <pthread.h>

#include <algorithm>
#include <chrono>

#include "common/logging.h"
#include "schema/row_codec.h"
#include "table/ingest_service.h"
#include "table/table_state.h"
#include "table/wal_record.h"

namespace nobus::table {

// One accepted append between its admission and its WAL callback. The WAL copies the payloads
// while AppendAsync runs; the blob is kept here for the table buffer.
struct IngestService::PendingAppend {
  std::shared_ptr<TableState> table;
  std::string header;
  std::string blob;
  int64_t num_rows = 0;
  DurableLsnCallback done;
  StreamMark stream;
};

namespace {

// A mark-only record (AppendMark) holds an empty blob of 0 rows.
absl::Status CheckBlob(std::string_view blob, int64_t num_rows, bool has_mark) {
  if (num_rows < 0 || (num_rows == 0 && !has_mark))
    return absl::InvalidArgumentError("an append needs at least one row");
  absl::StatusOr<int64_t> count = schema::CountRows(blob);
  if (!count.ok()) {
    return absl::InvalidArgumentError(Cat("the row blob is malformed: ", count.status().message()));
  }
  if (*count != num_rows) {
    return absl::InvalidArgumentError(
        Cat("the row blob holds ", *count, " rows but the append claims ", num_rows));
  }
  return absl::OkStatus();
}

// The caller may act on InvalidArgument (too large); anything else means this node's WAL cannot
// take appends now, and another node (or this one after a restart) can.
absl::Status WalAppendError(const absl::Status& st) {
  if (absl::IsInvalidArgument(st)) return st;
  return absl::UnavailableError(Cat("the write-ahead log refused the append: ", st.message()));
}

}  // namespace

absl::Status IngestService::Append(const LiveTable& table, std::string blob, int64_t num_rows,
                                   DurableCallback done, StreamMark stream) {
  return AppendWithLsn(
      table, std::move(blob), num_rows,
      [done = std::move(done)](absl::StatusOr<wal::Lsn> lsn) { done(lsn.status()); },
      std::move(stream));
}

absl::Status IngestService::AppendWithLsn(const LiveTable& table, std::string blob,
                                          int64_t num_rows, DurableLsnCallback done,
                                          StreamMark stream) {
  std::mutex m;
  std::condition_variable cv;
  std::optional<absl::Status> admitted;
  NOBUS_ASSIGN_OR_RETURN(
      Admission a, Submit(table, std::move(blob), num_rows, std::move(done), std::move(stream),
                          [&](absl::Status st) {
                            std::lock_guard<std::mutex> g(m);  // notified under the lock: the
                            admitted = std::move(st);          // waiter's stack stays valid
                            cv.notify_one();
                          }));
  if (a == Admission::kAppended) return absl::OkStatus();
  std::unique_lock<std::mutex> g(m);
  cv.wait(g, [&] { return admitted.has_value(); });
  return *admitted;
}

absl::StatusOr<Admission> IngestService::AppendOrQueue(const LiveTable& table, std::string blob,
                                                       int64_t num_rows, DurableLsnCallback done,
                                                       AdmittedCallback admitted,
                                                       StreamMark stream) {
  return Submit(table, std::move(blob), num_rows, std::move(done), std::move(stream),
                std::move(admitted));
}

absl::StatusOr<Admission> IngestService::Submit(const LiveTable& table, std::string blob,
                                                int64_t num_rows, DurableLsnCallback done,
                                                StreamMark stream, AdmittedCallback admitted) {
  NOBUS_RETURN_IF_ERROR(CheckBlob(blob, num_rows, !stream.empty()));
  auto append = std::make_shared<PendingAppend>();
  append->header =
      EncodeRecordHeader(table.info().name.ToString(), table.info().table_id, num_rows, stream);
  append->stream = std::move(stream);
  append->blob = std::move(blob);
  append->num_rows = num_rows;
  append->done = std::move(done);
  const int64_t bytes = static_cast<int64_t>(append->blob.size());
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> l(mu_);
    NOBUS_ASSIGN_OR_RETURN(append->table, AdmissibleLocked(table.info().name, &table));
    if (FullLocked(bytes) || !admission_queue_.empty()) {
      if (FullLocked(bytes) && now - last_full_warning_ >= std::chrono::seconds(10)) {
        last_full_warning_ = now;
        NOBUS_LOG_WARN(
            "ingest buffers full: {} bytes of acknowledged rows wait for their commits "
            "(max_buffered_bytes = {}); streams wait for room (backpressure)",
            held_bytes_, options_.max_buffered_bytes);
      }
      admission_queue_.push_back(QueuedAppend{std::move(append), bytes, now, std::move(admitted)});
      QueueChangedLocked();
      return Admission::kQueued;
    }
    ++inflight_;
    AdjustHeldLocked(bytes);
  }
  absl::Status st = ToWal(append, /*wait=*/false);
  if (st.ok()) return Admission::kAppended;
  if (!absl::IsResourceExhausted(st)) return st;
  // The WAL's byte budget is spent: the admission thread waits for it instead of this thread.
  std::lock_guard<std::mutex> l(mu_);
  // Refused now if, say, the service closed meanwhile (its admission thread may have ended).
  NOBUS_RETURN_IF_ERROR(AdmissibleLocked(table.info().name, &table).status());
  admission_queue_.push_front(QueuedAppend{std::move(append), bytes, now, std::move(admitted)});
  QueueChangedLocked();
  return Admission::kQueued;
}

absl::StatusOr<std::shared_ptr<TableState>> IngestService::AdmissibleLocked(
    const TableName& name, const LiveTable* expected) const {
  if (closing_) {
    return absl::UnavailableError(
        "the ingest service is shutting down; retry against another node or after the restart");
  }
  auto it = tables_.find(name);
  if (it == tables_.end() || it->second.get() != expected || it->second->dropping)
    return absl::NotFoundError(Cat("table '", name.ToString(), "' was dropped"));
  NOBUS_RETURN_IF_ERROR(RefusalLocked(*it->second));
  return it->second;
}

void IngestService::QueueChangedLocked() {
  if (admission_waiting_ != nullptr)
    admission_waiting_->Set(static_cast<double>(admission_queue_.size()));
  room_cv_.notify_all();  // wakes the admission thread (its own notify is harmless)
}

bool IngestService::FullLocked(int64_t bytes) const {
  return held_bytes_ > 0 && held_bytes_ + bytes > options_.max_buffered_bytes;
}

absl::Status IngestService::ToWal(const std::shared_ptr<PendingAppend>& append, bool wait) {
  std::string_view payloads[2] = {append->header, append->blob};
  auto durable = [this, append](absl::StatusOr<wal::Lsn> lsn) { OnDurable(*append, lsn); };
  absl::Status st = wait ? wal_->AppendAsync(payloads, std::move(durable))
                         : wal_->TryAppendAsync(payloads, std::move(durable));
  if (st.ok()) return st;
  std::lock_guard<std::mutex> l(mu_);
  AdjustHeldLocked(-static_cast<int64_t>(append->blob.size()));
  if (--inflight_ == 0) inflight_cv_.notify_all();
  return absl::IsResourceExhausted(st) && !wait ? st : WalAppendError(st);
}

void IngestService::AdmissionLoop() {
  pthread_setname_np(pthread_self(), "nobus-admit");
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    if (admission_queue_.empty()) {
      if (closing_) return;
      room_cv_.wait(l);
      continue;
    }
    QueuedAppend& front = admission_queue_.front();
    const TableState* table = front.append->table.get();
    absl::Status refusal = AdmissibleLocked(table->info().name, table).status();
    const auto now = std::chrono::steady_clock::now();
    if (refusal.ok() && FullLocked(front.bytes)) {
      const auto deadline =
          front.queued_at + std::chrono::milliseconds(options_.buffer_full_timeout_ms);
      if (now < deadline) {
        room_cv_.wait_until(l, deadline);
        continue;
      }
      refusal = absl::UnavailableError(Cat(
          "nobusd's ingest buffers stayed full for ", options_.buffer_full_timeout_ms, " ms: ",
          held_bytes_, " bytes of acknowledged rows wait for their Delta commits "
          "(max_buffered_bytes = ", options_.max_buffered_bytes,
          "); commits are failing or slower than ingest. Retry later; the server log names "
          "failing commits"));
    }
    std::optional<QueuedAppend> q(std::move(admission_queue_.front()));
    admission_queue_.pop_front();
    QueueChangedLocked();
    if (backpressure_waits_ != nullptr) {
      backpressure_waits_->Add();
      backpressure_ms_->Add(
          std::chrono::duration_cast<std::chrono::milliseconds>(now - q->queued_at).count());
    }
    if (refusal.ok()) {
      ++inflight_;
      AdjustHeldLocked(q->bytes);
    }
    l.unlock();
    if (refusal.ok()) refusal = ToWal(q->append, /*wait=*/true);
    q->admitted(std::move(refusal));
    q.reset();  // drops its table reference outside the lock
    l.lock();
  }
}

void IngestService::OnDurable(PendingAppend& append, absl::StatusOr<wal::Lsn> lsn) {
  if (lsn.ok()) {
    BufferedBlob blob{*lsn, std::move(append.blob), append.num_rows, clock_->MonotonicNanos(),
                      append.stream};
    const int64_t now_ms = append.stream.empty() ? 0 : clock_->NowMillis();
    std::lock_guard<std::mutex> l(mu_);
    completed_lsn_ = std::max(completed_lsn_, *lsn);
    if (!append.stream.empty()) append.table->streams.Durable(append.stream, now_ms);
    BufferLocked(append.table.get(), std::move(blob));
  } else {
    std::lock_guard<std::mutex> l(mu_);
    AdjustHeldLocked(-static_cast<int64_t>(append.blob.size()));
  }
  if (append.done)
    append.done(lsn.ok() ? absl::StatusOr<wal::Lsn>(*lsn) : WalAppendError(lsn.status()));
  append.done = nullptr;
  append.table = nullptr;
  std::lock_guard<std::mutex> l(mu_);
  if (--inflight_ == 0) inflight_cv_.notify_all();
}

}  // namespace nobus::table
