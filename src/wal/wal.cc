#include "wal/wal.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

#include "common/logging.h"

namespace nobus::wal {

Wal::Wal(env::FileSystem* fs, env::Clock* clock, std::string dir, WalOptions options)
    : fs_(fs),
      clock_(clock),
      dir_(std::move(dir)),
      options_(options),
      writer_(fs, dir_, options.segment_size_bytes, options.prezero_segments),
      preparer_(fs, dir_, options.segment_size_bytes, options.prezero_segments) {}

Wal::~Wal() {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return;  // the owner saw Close's result
  }
  absl::Status st = Close();
  if (!st.ok()) NOBUS_LOG_WARN("wal {} closed with error: {}", dir_, st.ToString());
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(env::FileSystem* fs, env::Clock* clock,
                                               std::string dir, WalOptions options) {
  if (options.segment_size_bytes <= kSegmentHeaderSize)
    return absl::InvalidArgumentError(
        Cat("wal segment size ", options.segment_size_bytes, " is too small"));
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(dir));
  NOBUS_ASSIGN_OR_RETURN(RecoveredLog recovered, CheckLog(fs, dir, /*repair=*/true, {}, {}));
  std::unique_ptr<Wal> wal(new Wal(fs, clock, std::move(dir), options));
  NOBUS_RETURN_IF_ERROR(wal->Start(recovered));
  return wal;
}

absl::Status Wal::Start(const RecoveredLog& recovered) {
  next_lsn_ = recovered.next_lsn;
  durable_lsn_ = recovered.next_lsn - 1;
  for (const SegmentFile& s : recovered.segments) segments_.push_back({s.first_lsn, s.path});
  // A last segment without records carries the next LSN in its name; it is re-created in place.
  if (!segments_.empty() && segments_.back().first_lsn == next_lsn_) segments_.pop_back();
  NOBUS_RETURN_IF_ERROR(writer_.Create(next_lsn_));
  preparer_.Start();
  segments_.push_back({next_lsn_, writer_.path()});
  active_synced_end_ = writer_.offset();
  stats_.segments_created = 1;
  thread_ = std::thread(&Wal::WriterLoop, this);
  completion_thread_ = std::thread(&Wal::CompletionLoop, this);
  return absl::OkStatus();
}

absl::Status Wal::StickyError() const {
  return absl::FailedPreconditionError(Cat(
      "wal ", dir_,
      " refuses appends after an earlier I/O error (reopen to recover): ", failure_.ToString()));
}

absl::Status Wal::Enqueue(std::span<const std::string_view> payloads, Blocker* blocker,
                          AppendCallback done, bool wait_for_budget) {
  if (payloads.empty()) return absl::InvalidArgumentError("wal append of zero payloads");
  const uint64_t size = FramedSize(payloads);
  if (size > options_.max_record_bytes)
    return absl::InvalidArgumentError(
        Cat("wal record of ", size, " bytes exceeds the limit of ", options_.max_record_bytes));
  std::unique_lock<std::mutex> l(mu_);
  auto has_room = [&] {
    return unsynced_bytes_ == 0 || unsynced_bytes_ + size <= options_.max_unsynced_bytes;
  };
  if (wait_for_budget) space_cv_.wait(l, [&] { return closing_ || !failure_.ok() || has_room(); });
  if (!failure_.ok()) return StickyError();
  if (closing_) return absl::FailedPreconditionError(Cat("wal ", dir_, " is closed"));
  if (!has_room())
    return absl::ResourceExhaustedError(Cat("wal ", dir_, ": ", unsynced_bytes_,
                                            " bytes await fdatasync; budget is ",
                                            options_.max_unsynced_bytes, " bytes"));
  const Lsn first = next_lsn_;
  next_lsn_ += payloads.size();
  AppendRecord(first, payloads, &queue_);
  waiters_.push_back({first, next_lsn_ - 1, queue_.size(), blocker, std::move(done)});
  unsynced_bytes_ += size;
  // The writer waits for the first record of a batch, and during a group delay for a full one.
  const bool wake = waiters_.size() == 1 || (options_.group_delay_us > 0 &&
                                             queue_.size() >= kGroupFullBytes &&
                                             queue_.size() - size < kGroupFullBytes);
  l.unlock();
  if (wake) work_cv_.notify_one();
  return absl::OkStatus();
}

absl::Status Wal::AppendAsync(std::span<const std::string_view> payloads, AppendCallback done) {
  return Enqueue(payloads, nullptr, std::move(done), /*wait_for_budget=*/true);
}

absl::Status Wal::TryAppendAsync(std::span<const std::string_view> payloads, AppendCallback done) {
  return Enqueue(payloads, nullptr, std::move(done), /*wait_for_budget=*/false);
}

namespace {

void FutexWait(std::atomic<uint32_t>* word, uint32_t expected) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
            nullptr, 0);
}

// Safe on an address whose object is gone: the kernel only looks the address up among waiters.
void FutexWakeOne(std::atomic<uint32_t>* word) {
  ::syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr,
            0);
}

}  // namespace

void Wal::Blocker::Finish(absl::StatusOr<Lsn> r) {
  result = std::move(r);
  std::atomic<uint32_t>* word = &state;
  // After this exchange the waiter may return and destroy *this; only `word` is used below.
  if (word->exchange(kDone, std::memory_order_acq_rel) == kSleeping) FutexWakeOne(word);
}

absl::StatusOr<Lsn> Wal::Blocker::Wait() {
  uint32_t s = state.load(std::memory_order_acquire);
  while (s != kDone) {
    if (s == kSleeping || state.compare_exchange_strong(s, kSleeping, std::memory_order_acquire)) {
      FutexWait(&state, kSleeping);
    }
    s = state.load(std::memory_order_acquire);
  }
  return std::move(result);
}

absl::StatusOr<Lsn> Wal::AppendBatch(std::span<const std::string_view> payloads) {
  Blocker blocker;
  NOBUS_RETURN_IF_ERROR(Enqueue(payloads, &blocker, nullptr, /*wait_for_budget=*/true));
  return blocker.Wait();
}

absl::StatusOr<Lsn> Wal::Append(std::string_view payload) {
  return AppendBatch(std::span<const std::string_view>(&payload, 1));
}

void Wal::WriterLoop() {
  pthread_setname_np(pthread_self(), "nobus-wal-sync");
  std::string batch;
  std::vector<Waiter> waiters;
  for (;;) {
    absl::Status status;
    {
      std::unique_lock<std::mutex> l(mu_);
      work_cv_.wait(l, [&] { return !waiters_.empty() || closing_; });
      if (waiters_.empty()) return;
      if (options_.group_delay_us > 0) {
        work_cv_.wait_for(l, std::chrono::microseconds(options_.group_delay_us),
                          [&] { return closing_ || queue_.size() >= kGroupFullBytes; });
      }
      batch.swap(queue_);
      waiters.swap(waiters_);
      if (!failure_.ok()) status = StickyError();
    }
    if (status.ok()) {
      batch_started_nanos_.store(clock_->MonotonicNanos(), std::memory_order_relaxed);
      status = WriteBatch(batch, waiters);
      batch_started_nanos_.store(0, std::memory_order_relaxed);
    }
    FinishBatch(batch.size(), waiters, status);
    batch.clear();
    waiters.clear();
  }
}

absl::Status Wal::WriteBatch(const std::string& batch, const std::vector<Waiter>& waiters) {
  const int64_t start = clock_->MonotonicNanos();
  uint64_t chunk_begin = 0;
  uint64_t record_begin = 0;
  for (const Waiter& w : waiters) {
    if (!writer_.Fits(record_begin - chunk_begin, w.end - record_begin)) {
      std::string_view chunk(batch.data() + chunk_begin, record_begin - chunk_begin);
      if (!chunk.empty()) NOBUS_RETURN_IF_ERROR(writer_.Write(chunk));
      NOBUS_RETURN_IF_ERROR(Roll(w.first_lsn));
      chunk_begin = record_begin;
    }
    record_begin = w.end;
  }
  NOBUS_RETURN_IF_ERROR(
      writer_.Write(std::string_view(batch.data() + chunk_begin, batch.size() - chunk_begin)));
  NOBUS_RETURN_IF_ERROR(writer_.Sync());
  {
    std::lock_guard<std::mutex> l(segments_mu_);
    active_synced_end_ = writer_.offset();
  }
  const int64_t took = clock_->MonotonicNanos() - start;
  if (options_.on_batch_synced) options_.on_batch_synced(took);
  std::lock_guard<std::mutex> l(mu_);
  stats_.sync_nanos += took;
  stats_.last_sync_nanos = took;
  return absl::OkStatus();
}

absl::Status Wal::Roll(Lsn first_lsn) {
  NOBUS_RETURN_IF_ERROR(writer_.Sync());
  NOBUS_RETURN_IF_ERROR(writer_.Close());
  absl::StatusOr<std::unique_ptr<env::File>> prepared = preparer_.Take();
  if (prepared.ok()) {
    NOBUS_RETURN_IF_ERROR(writer_.Adopt(std::move(*prepared), preparer_.path(), first_lsn));
  } else {
    NOBUS_LOG_WARN("wal {}: preparing the next segment failed ({}); creating it inline", dir_,
                   prepared.status().ToString());
    NOBUS_RETURN_IF_ERROR(writer_.Create(first_lsn));
  }
  preparer_.Start();
  {
    std::lock_guard<std::mutex> l(segments_mu_);
    segments_.push_back({first_lsn, writer_.path()});
    active_synced_end_ = writer_.offset();
  }
  std::lock_guard<std::mutex> l(mu_);
  ++stats_.segments_created;
  return absl::OkStatus();
}

void Wal::FinishBatch(uint64_t bytes, std::vector<Waiter>& waiters, const absl::Status& status) {
  absl::Status result = status;
  {
    std::lock_guard<std::mutex> l(mu_);
    unsynced_bytes_ -= bytes;
    if (status.ok()) {
      durable_lsn_ = waiters.back().last_lsn;
      stats_.appends += waiters.size();
      stats_.payloads += waiters.back().last_lsn - waiters.front().first_lsn + 1;
      stats_.bytes_synced += bytes;
      ++stats_.syncs;
    } else if (failure_.ok()) {
      failure_ = status;
      NOBUS_LOG_ERROR("wal {} failed, refusing further appends: {}", dir_, status.ToString());
    }
  }
  space_cv_.notify_all();
  {
    std::lock_guard<std::mutex> l(done_mu_);
    done_queue_.push_back({std::move(waiters), status});
  }
  done_cv_.notify_one();
  waiters.clear();
}

void Wal::CompletionLoop() {
  pthread_setname_np(pthread_self(), "nobus-wal-done");
  std::vector<Completion> batches;
  for (;;) {
    {
      std::unique_lock<std::mutex> l(done_mu_);
      done_cv_.wait(l, [&] { return !done_queue_.empty() || writer_exited_; });
      if (done_queue_.empty()) return;
      batches.swap(done_queue_);
    }
    for (Completion& batch : batches) {
      for (Waiter& w : batch.waiters) {
        absl::StatusOr<Lsn> result = w.last_lsn;
        if (!batch.status.ok()) result = batch.status;
        if (w.blocker != nullptr) {
          w.blocker->Finish(std::move(result));
        } else {
          w.done(std::move(result));
        }
      }
    }
    batches.clear();
  }
}

absl::Status Wal::ReadFrom(Lsn after, const PayloadVisitor& visitor) {
  const Lsn durable = durable_lsn();
  std::vector<Segment> segments;
  uint64_t active_end;
  {
    std::lock_guard<std::mutex> l(segments_mu_);
    segments = segments_;
    active_end = active_synced_end_;
  }
  if (after >= durable) return absl::OkStatus();
  if (segments.empty() || segments.front().first_lsn > after + 1)
    return absl::NotFoundError(Cat("wal ", dir_, ": records after LSN ", after,
                                   " were released; the oldest retained LSN is ",
                                   segments.empty() ? durable + 1 : segments.front().first_lsn));
  auto on_record = [&](const RecordView& record) -> absl::Status {
    if (record.first_lsn + record.count - 1 <= after) return absl::OkStatus();
    return ForEachPayload(record, [&](Lsn lsn, std::string_view payload) -> absl::Status {
      if (lsn <= after || lsn > durable) return absl::OkStatus();
      return visitor(lsn, payload);
    });
  };
  for (size_t i = 0; i < segments.size(); ++i) {
    const bool active = i + 1 == segments.size();
    if (!active && segments[i + 1].first_lsn <= after + 1) continue;
    if (segments[i].first_lsn > durable) break;
    SegmentFile file{segments[i].path, segments[i].first_lsn};
    NOBUS_ASSIGN_OR_RETURN(SegmentScan scan,
                           ScanSegment(fs_, file, active ? active_end : UINT64_MAX, on_record));
    if (!scan.clean)
      return absl::DataLossError(Cat("wal segment ", file.path, " is corrupt at offset ",
                                     scan.bad_offset, ": ", scan.reason));
  }
  return absl::OkStatus();
}

absl::Status Wal::ReleaseUpTo(Lsn lsn) {
  lsn = std::min(lsn, durable_lsn());
  std::lock_guard<std::mutex> rl(release_mu_);
  for (;;) {
    Segment oldest;
    {
      std::lock_guard<std::mutex> l(segments_mu_);
      if (segments_.size() <= 1 || segments_[1].first_lsn - 1 > lsn) return absl::OkStatus();
      oldest = segments_.front();
      segments_.erase(segments_.begin());
    }
    if (absl::Status st = fs_->Delete(oldest.path); !st.ok()) {
      std::lock_guard<std::mutex> l(segments_mu_);  // still on disk: still ours, still first
      segments_.insert(segments_.begin(), std::move(oldest));
      return st;
    }
    {
      std::lock_guard<std::mutex> sl(mu_);
      ++stats_.segments_deleted;
    }
    // One deletion durable at a time keeps the surviving segments contiguous after a crash.
    NOBUS_RETURN_IF_ERROR(fs_->SyncDir(dir_));
  }
}

absl::Status Wal::Close() {
  std::lock_guard<std::mutex> cl(close_mu_);
  {
    std::lock_guard<std::mutex> l(mu_);
    if (closed_) return failure_.ok() ? absl::OkStatus() : StickyError();
    closing_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> l(done_mu_);
    writer_exited_ = true;
  }
  done_cv_.notify_all();
  if (completion_thread_.joinable()) completion_thread_.join();
  absl::Status st = writer_.Close();
  absl::Status discarded = preparer_.Discard();
  if (st.ok()) st = discarded;
  std::lock_guard<std::mutex> l(mu_);
  closed_ = true;
  if (!failure_.ok()) return StickyError();
  return st;
}

absl::Status Wal::error() const {
  std::lock_guard<std::mutex> l(mu_);
  return failure_;
}

int64_t Wal::sync_running_nanos() const {
  const int64_t start = batch_started_nanos_.load(std::memory_order_relaxed);
  return start == 0 ? 0 : std::max<int64_t>(clock_->MonotonicNanos() - start, 1);
}

Lsn Wal::durable_lsn() const {
  std::lock_guard<std::mutex> l(mu_);
  return durable_lsn_;
}

Lsn Wal::next_lsn() const {
  std::lock_guard<std::mutex> l(mu_);
  return next_lsn_;
}

Lsn Wal::oldest_lsn() const {
  {
    std::lock_guard<std::mutex> l(segments_mu_);
    if (!segments_.empty()) return segments_.front().first_lsn;
  }
  return next_lsn();
}

size_t Wal::num_segments() const {
  std::lock_guard<std::mutex> l(segments_mu_);
  return segments_.size();
}

WalStats Wal::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

absl::StatusOr<RecoveredLog> InspectLog(env::FileSystem* fs, std::string_view dir,
                                        const SegmentReporter& reporter,
                                        const RecordVisitor& visitor) {
  return CheckLog(fs, dir, /*repair=*/false, reporter, visitor);
}

}  // namespace nobus::wal
