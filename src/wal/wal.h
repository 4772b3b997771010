// The write-ahead log, front door of src/wal. One Wal per node is shared by every stream: the
// front end appends each validated request here and acks the client only when the append's
// callback reports success, i.e. after the record is synced (fdatasync returned). Table buffers
// are rebuilt after a crash by ReadFrom(lsn committed in the table); once every table has
// committed up to an LSN the server calls ReleaseUpTo and whole segments below it are deleted.
// On-disk format and recovery rules: doc/wal.md.
//
// Lifecycle: Open (recovers the directory, starts the writer and completion threads and the
// preparation of the next segment file in the background) -> appends, reads, releases
// from any thread -> Close (or the destructor), which syncs what is queued and stops the writer.
// Thread-safety: every method is thread-safe. Ownership: the Wal borrows `fs` and `clock`, which
// must outlive it.
//
// Group commit: producers frame their record into a shared queue; the single writer thread
// (named nobus-wal-sync; the completion thread nobus-wal-done) takes
// everything queued, writes it with one write per segment touched, fdatasyncs once and hands the
// batch's waiters to the completion thread, which calls them in LSN order while the writer already
// writes the next batch. Callbacks run on that one completion thread: they must be quick (post to
// a gRPC completion queue, set a promise) and must not call AppendBatch/Append (which wait on
// callbacks) or Close; AppendAsync is allowed but may block on the byte budget.
//
// Failure: a failed write or fdatasync is sticky. Its batch fails with the original error, every
// later append fails with FailedPrecondition naming it, and nothing is ever retried (after a
// failed fdatasync the kernel may have dropped the dirty pages). Reopen to recover: the ingest
// service does so by itself (table/health.h). Slow syncs show in sync_running_nanos() and
// WalOptions::on_batch_synced.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "wal/format.h"
#include "wal/recovery.h"
#include "wal/segment_writer.h"

namespace nobus::wal {

// Queued bytes at which a batch is written at once, without waiting out group_delay_us.
inline constexpr uint64_t kGroupFullBytes = 1 << 20;

struct WalOptions {
  // A segment is rolled when the next record would not fit; a larger record gets its own segment.
  uint64_t segment_size_bytes = 64ull << 20;
  // Write zeros over each new segment (and sync) before using it, so later fdatasyncs need not
  // convert unwritten extents (see doc/performance.md "## WAL" for when this pays off). Done in
  // the background while the previous segment fills, except for the segment created by Open.
  bool prezero_segments = false;
  // Backpressure budget: bytes queued or written but not yet synced. Appends wait (or TryAppend
  // fails with ResourceExhausted) while a new record would exceed it; one record is always let in.
  uint64_t max_unsynced_bytes = 64ull << 20;
  // Group commit delay: once a batch has its first record, the writer waits up to this long for
  // more before it writes and syncs, unless kGroupFullBytes are queued sooner. 0 (the default)
  // writes at once. Under many small appends a few hundred microseconds make the groups larger:
  // fewer fdatasyncs and thread wake-ups per append (doc/performance.md "Many producers per
  // node": 15-25 % less server CPU per request at 10,000 one-record requests/s with 1,000 us), at
  // up to this much more latency per append.
  int64_t group_delay_us = 0;
  // Largest framed record accepted; larger appends fail with InvalidArgument.
  uint64_t max_record_bytes = 16ull << 20;
  // Called on the writer thread with the nanoseconds each batch took to write and fdatasync
  // (successful batches only); must be quick and thread-safe (a metrics histogram).
  std::function<void(int64_t)> on_batch_synced;
};

// Called once per successful Append*Async: with the LSN of the append's last payload (payload i
// of n has LSN last - n + 1 + i) once synced, or with the error that prevented it.
using AppendCallback = std::function<void(absl::StatusOr<Lsn>)>;
// Sees each payload with its LSN; a non-OK return stops the read and is returned.
using PayloadVisitor = std::function<absl::Status(Lsn, std::string_view)>;

struct WalStats {
  uint64_t appends = 0;           // Append* calls that were synced (one record each)
  uint64_t payloads = 0;          // payloads in those records
  uint64_t bytes_synced = 0;      // framed bytes
  uint64_t syncs = 0;             // fdatasyncs of batches (group commits)
  uint64_t segments_created = 0;  // since Open
  uint64_t segments_deleted = 0;  // since Open
  int64_t sync_nanos = 0;         // total time in write + fdatasync of batches
  int64_t last_sync_nanos = 0;    // the last successful batch's write + fdatasync
};

class Wal {
 public:
  // Recovers `dir` (created if missing) by the rules of doc/wal.md, starts a new segment and the
  // writer. DataLoss if a segment other than the last is corrupt.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(env::FileSystem* fs, env::Clock* clock,
                                                   std::string dir, WalOptions options = {});
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends `payloads` (at least one) as one record: after a crash all of them are recovered or
  // none. Waits for budget (backpressure). OK means `done` will be called exactly once, later,
  // from the writer thread; an error (closed, sticky failure, bad size) means it will not be.
  [[nodiscard]] absl::Status AppendAsync(std::span<const std::string_view> payloads,
                                         AppendCallback done);
  // As AppendAsync, but fails with ResourceExhausted instead of waiting for budget.
  [[nodiscard]] absl::Status TryAppendAsync(std::span<const std::string_view> payloads,
                                            AppendCallback done);
  // Blocking forms: return the last payload's LSN once it is synced.
  [[nodiscard]] absl::StatusOr<Lsn> AppendBatch(std::span<const std::string_view> payloads);
  [[nodiscard]] absl::StatusOr<Lsn> Append(std::string_view payload);

  // Visits every synced payload with LSN > `after`, in LSN order. NotFound if some of those
  // payloads were released already.
  [[nodiscard]] absl::Status ReadFrom(Lsn after, const PayloadVisitor& visitor);

  // Declares every payload with LSN <= `lsn` no longer needed (committed in every table) and
  // deletes each segment whose records all lie at or below it, oldest first. The active segment is
  // never deleted.
  [[nodiscard]] absl::Status ReleaseUpTo(Lsn lsn);

  // Syncs whatever is queued, completes its callbacks, stops the writer and closes the segment.
  // Returns the sticky error if the log had failed. Idempotent.
  [[nodiscard]] absl::Status Close();

  // OK, or the first write/sync error (sticky).
  absl::Status error() const;
  // How long the batch being written and synced now has taken so far (0 when the writer is
  // idle): a disk that stalls shows here before any client times out.
  int64_t sync_running_nanos() const;
  // Highest LSN known synced (0 if none since Open and before).
  Lsn durable_lsn() const;
  // The LSN the next payload will get.
  Lsn next_lsn() const;
  // The first LSN of the oldest segment still on disk: payloads below it were released.
  Lsn oldest_lsn() const;
  // Segment files on disk (the active one included).
  size_t num_segments() const;
  WalStats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  // The caller of a blocking append waits on this object on its own stack: no heap allocation,
  // no mutex, at most one futex wake. Finish is called once, by the completion thread, and
  // touches the object only until its atomic store (the wake-up syscall needs just the address).
  struct Blocker {
    static constexpr uint32_t kWaiting = 0;   // no result yet, waiter awake
    static constexpr uint32_t kSleeping = 1;  // no result yet, waiter in (or entering) FUTEX_WAIT
    static constexpr uint32_t kDone = 2;      // result set
    std::atomic<uint32_t> state{kWaiting};
    absl::StatusOr<Lsn> result;
    void Finish(absl::StatusOr<Lsn> r);
    absl::StatusOr<Lsn> Wait();
  };
  struct Waiter {
    Lsn first_lsn;
    Lsn last_lsn;
    uint64_t end;      // offset just past this record in the batch buffer
    Blocker* blocker;  // set for blocking appends; `done` for asynchronous ones
    AppendCallback done;
  };
  struct Segment {
    Lsn first_lsn;
    std::string path;
  };
  struct Completion {
    std::vector<Waiter> waiters;
    absl::Status status;
  };

  Wal(env::FileSystem* fs, env::Clock* clock, std::string dir, WalOptions options);
  absl::Status Start(const RecoveredLog& recovered);
  absl::Status Enqueue(std::span<const std::string_view> payloads, Blocker* blocker,
                       AppendCallback done, bool wait_for_budget);
  void WriterLoop();
  absl::Status WriteBatch(const std::string& batch, const std::vector<Waiter>& waiters);
  absl::Status Roll(Lsn first_lsn);
  void FinishBatch(uint64_t bytes, std::vector<Waiter>& waiters, const absl::Status& status);
  void CompletionLoop();
  absl::Status StickyError() const;  // requires mu_

  env::FileSystem* const fs_;
  env::Clock* const clock_;
  const std::string dir_;
  const WalOptions options_;

  std::mutex close_mu_;  // serializes Close
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // writer waits for work or close
  std::condition_variable space_cv_;  // producers wait for budget
  std::string queue_;                 // framed records not yet taken by the writer
  std::vector<Waiter> waiters_;       // their callbacks, in LSN order
  uint64_t unsynced_bytes_ = 0;       // queued + taken but not yet synced
  Lsn next_lsn_ = 1;
  Lsn durable_lsn_ = 0;
  absl::Status failure_;  // first write/sync error; sticky
  bool closing_ = false;
  bool closed_ = false;
  WalStats stats_;
  std::atomic<int64_t> batch_started_nanos_{0};  // writer thread sets; 0 while idle

  // Serializes ReleaseUpTo, which deletes files without holding segments_mu_ (the writer takes
  // segments_mu_ after every sync and must not wait for an unlink and a directory fsync).
  std::mutex release_mu_;
  // Segments on disk (LSN order; the last is active) and how far the active one is synced.
  mutable std::mutex segments_mu_;
  std::vector<Segment> segments_;
  uint64_t active_synced_end_ = 0;

  // Batches whose fate is known, waiting for their callbacks to run.
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::vector<Completion> done_queue_;
  bool writer_exited_ = false;

  SegmentWriter writer_;      // writer thread only (and Start/Close before/after it runs)
  SegmentPreparer preparer_;  // likewise
  std::thread thread_;
  std::thread completion_thread_;
};

// Offline inspection for `nobus wal dump/verify`: applies the recovery rules to `dir` without
// changing anything (see CheckLog in wal/recovery.h); the log must not be open for writing.
absl::StatusOr<RecoveredLog> InspectLog(env::FileSystem* fs, std::string_view dir,
                                        const SegmentReporter& reporter,
                                        const RecordVisitor& visitor);

}  // namespace nobus::wal
