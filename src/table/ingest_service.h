// The ingest service: the node's write path behind every front end (gRPC, REST). It owns the
// node's WAL, the catalog and one in-memory buffer per table, and the flusher that lands buffered
// rows in Delta tables. In the data path:
//
//   front end -> RecordDecoder -> [Append: WAL append (header + row blob), fdatasync]
//     -> done(OK) = the ack -> table buffer -> [flusher, every flush interval or size threshold]
//     -> Parquet files + Delta commit carrying txn{appId = node WAL id, version = last LSN}
//     -> WAL ReleaseUpTo(lowest LSN not yet committed in every table)
//
// Recovery (Open): for every table, read txn[appId]; replay WAL records of that table (matching
// its Delta table id, so a dropped and re-created table never receives the old rows) with a larger
// LSN into its buffer; flush. Every acked record lands exactly once.
//
// Lifecycle: Open -> Append/Flush/table API from any thread -> Close (flushes every table, stops
// the flusher, closes the WAL). Thread-safety: every method is thread-safe. Borrows fs, clock and
// metrics, which must outlive the service.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "common/task_pool.h"
#include "delta/history.h"
#include "delta/vacuum.h"
#include "env/env.h"
#include "parquet/writer.h"
#include "schema/record_decoder.h"
#include "table/catalog.h"
#include "table/health.h"
#include "table/streams.h"
#include "table/wal_record.h"
#include "wal/wal.h"

namespace nobus::table {

class TableState;
struct BufferedBlob;

// Table upkeep done by the node itself (maintenance.cc): auto-compaction and auto-vacuum of the
// tables it has open, one job at a time on one low-priority thread.
struct MaintenanceOptions {
  bool enabled = true;  // runs only with background_flush (tests on a ManualClock drive it)
  int64_t check_interval_ms = 10'000;       // how often open tables are checked for work
  int64_t first_vacuum_delay_ms = 600'000;  // a table's first automatic vacuum after it opens
  int nice = 10;                            // the thread's nice value: ingest gets the CPU first
};

// What one OPTIMIZE did: the table's live files and bytes before and after, and the work.
struct CompactionReport {
  int64_t files_before = 0, bytes_before = 0;
  int64_t files_after = 0, bytes_after = 0;
  int64_t files_removed = 0, files_added = 0;  // rewritten inputs and new outputs
  int64_t bytes_rewritten = 0;                 // input bytes read and rewritten
  int commits = 0;                             // OPTIMIZE commits (one per bin)
  int64_t version = -1;                        // the table's version afterwards
};

// Called after each commit that holds requests of persistent streams, once per stream: every
// request of `stream_id` with an offset <= `offset` is in the table at version `version` (or an
// earlier one). Runs on the committing thread; must be quick and must not call the service.
using CommitListener =
    std::function<void(const std::string& stream_id, int64_t offset, int64_t version)>;

struct IngestOptions {
  int64_t flush_interval_ms = 1000;                 // a table's rows are committed this often
  int64_t flush_threshold_bytes = 128 << 20;        // ... or sooner when its buffer is this big;
                                                    // also the most one commit takes
  // Node-wide cap on row bytes accepted but not yet committed (queued in the WAL, buffered or
  // being committed). Append waits while it is reached, so clients feel backpressure when commits
  // fall behind instead of the node's memory growing; it fails with Unavailable after
  // buffer_full_timeout_ms (commits stuck, e.g. a table replaced outside nobus).
  int64_t max_buffered_bytes = 256 << 20;
  int64_t buffer_full_timeout_ms = 30'000;
  wal::WalOptions wal;                              // WAL under <data dir>/wal
  // How the commits write their data files. Snappy, the Parquet default of Spark and delta-rs, is
  // the cheapest: at one stream's full speed zstd took a quarter of nobusd's CPU even at level 1,
  // for files a fifth smaller (doc/performance.md "CPU per record"). Compaction recompresses.
  parquet::WriterOptions data_files{.codec = parquet::Codec::kSnappy};
  MetricsRegistry* metrics = nullptr;               // optional
  // Run the flusher thread. Off only where the owner calls FlushDue/FlushAll itself (tests on an
  // env::ManualClock, which a background flush would race).
  bool background_flush = true;
  // Tables committed at once by the background commit workers (bounded parallelism: each commit
  // holds at most one batch of flush_threshold_bytes). Due tables queue oldest row first, so a
  // slow or flooded table holds one worker and never the others' commits.
  int commit_threads = 8;
  // An open table that nothing holds (no stream, no buffered or parked rows, no live persistent
  // stream, idempotency key, Kafka producer or MQTT session state) and that took no rows for this
  // long is closed: its snapshot, buffers and decoder are freed (its metric series stay), and it
  // is reopened from its Delta log on demand. 0: never. Checked by the flusher thread (background_flush).
  int64_t idle_table_close_ms = 600'000;
  MaintenanceOptions maintenance;
  HealthOptions health;  // fault handling (table/health.h); its thread runs with background_flush
  CommitListener on_commit;  // optional: commit acks of persistent streams
  // Where the Delta tables live: by default under <data_dir>/tables on the service's own
  // FileSystem; with `tables_fs` (borrowed, must outlive the service) under `tables_root` there,
  // e.g. an objstore::ObjectFileSystem for tables on S3 shared by several nodes. The WAL and the
  // node id stay under <data_dir>.
  env::FileSystem* tables_fs = nullptr;
  std::string tables_root;
};

// Every node's commits carry txn{appId = kWalTxnPrefix + node id, version = its WAL's LSN}.
inline constexpr std::string_view kWalTxnPrefix = "nobus-wal-";

// Compaction rewrites data files with zstd at this level, off the ingest path, into the files that
// stay, whatever IngestOptions::data_files chose for the commits' own files.
inline constexpr int kCompactedZstdLevel = 3;

// A table open for writing, shared by the streams writing it. Immutable; cheap to copy around.
class LiveTable {
 public:
  virtual ~LiveTable() = default;
  virtual const TableInfo& info() const = 0;
  // The JSON decoder for this table's schema (shared, thread-safe).
  virtual const schema::RecordDecoder& json_decoder() const = 0;
  // The table's nobus.kafka.partitions (delta/config.h), current: SetTableProperties changes it.
  virtual int32_t kafka_partitions() const = 0;
};

// Called once per accepted Append, on the WAL completion thread: OK once the rows are durable
// (fdatasync returned) — the caller may ack now — or the error that prevented durability.
// Must be quick and must not call back into the service's blocking methods.
using DurableCallback = std::function<void(absl::Status)>;
// The same, with the LSN of the record (its row blob) once durable: a position in the node's WAL
// that only grows (the Kafka endpoint derives its offsets from it).
using DurableLsnCallback = std::function<void(absl::StatusOr<wal::Lsn>)>;
// Called once when a queued append (AppendOrQueue) leaves the node's admission queue, on the
// admission thread: OK = handed to the WAL (its DurableCallback follows); an error = refused
// (Append's errors, or Unavailable after buffer_full_timeout_ms; its DurableCallback is never
// called). Must be quick and must not call back into the service's blocking methods.
using AdmittedCallback = std::function<void(absl::Status)>;
// What AppendOrQueue did with an append it accepted.
enum class Admission {
  kAppended,  // handed to the WAL now: only its DurableCallback follows
  kQueued,    // waits for room: its AdmittedCallback follows (then, if admitted, DurableCallback)
};


class IngestService {
 public:
  // Opens (creating) the tables root (IngestOptions::tables_fs), `<data_dir>/wal` and the node id file
  // `<data_dir>/node_id`, recovers as described above, then starts the flusher (if background_flush).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<IngestService>> Open(
      env::FileSystem* fs, env::Clock* clock, std::string data_dir, IngestOptions options);
  ~IngestService();

  // For creating, reading and listing tables. Drop tables with DropTable, not Catalog::Drop.
  Catalog* catalog();
  // The txn appId of this node's commits (kWalTxnPrefix + its node id).
  const std::string& wal_id() const;

  // NotFound when the table does not exist.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<const LiveTable>> OpenTable(const TableName& name);

  // Fault handling (health.cc, table/health.h). Health: the node's state now. TableStatus: one
  // table's commit health (NotFound for an unknown table). RetryTable: commits a failing or stuck
  // table's rows now instead of at its next retry; returns the commit's error if it fails again.
  NodeHealth Health();
  [[nodiscard]] absl::StatusOr<TableHealth> TableStatus(const TableName& name);
  [[nodiscard]] absl::Status RetryTable(const TableName& name);
  // One round of the health thread (disks, WAL, slow disk); public for tests on a ManualClock.
  void CheckHealth();

  // Appends one request's rows (a blob written by RowBlobWriter against `table`'s schema, holding
  // `num_rows` rows) as one WAL record: after a crash all of them are recovered or none. OK means
  // `done` will be called exactly once (with Unavailable if the WAL fails before the sync); an
  // error (NotFound: table dropped; Unavailable: closing, the WAL failed and is being reopened,
  // or the table is stuck; ResourceExhausted: a disk is below the free-space watermark;
  // InvalidArgument: the blob is not a well-formed blob of `num_rows` > 0 rows, or is larger than
  // the WAL's max_record_bytes) means nothing was appended and `done` will not be called. Blocks (backpressure) while the node holds max_buffered_bytes of uncommitted rows
  // (Unavailable after buffer_full_timeout_ms) and while the WAL's byte budget is exhausted.
  // With a `stream` mark (a persistent stream's request, streams.h) the WAL record carries it,
  // the stream's durable offset rises once it is durable, and its commit carries the stream's txn.
  // Appends are admitted in arrival order: while any wait for room, a newcomer waits behind them
  // even if its own bytes would fit (admission.cc).
  [[nodiscard]] absl::Status Append(const LiveTable& table, std::string blob, int64_t num_rows,
                                    DurableCallback done, StreamMark stream = {});
  [[nodiscard]] absl::Status AppendWithLsn(const LiveTable& table, std::string blob,
                                           int64_t num_rows, DurableLsnCallback done,
                                           StreamMark stream = {});
  // As Append, but never blocks the caller (a front end's I/O thread): where Append would wait
  // for room (buffers full, earlier appends waiting, or the WAL's byte budget spent) the append
  // is queued and kQueued returned; the admission thread hands it to the WAL in arrival order
  // once there is room and then calls `admitted`. An error means refused now: neither callback
  // is called. The caller should not send the same producer's next append before `admitted`
  // (the queue holds what producers put in it; a gRPC stream pauses its reads).
  [[nodiscard]] absl::StatusOr<Admission> AppendOrQueue(const LiveTable& table, std::string blob,
                                                        int64_t num_rows, DurableLsnCallback done,
                                                        AdmittedCallback admitted,
                                                        StreamMark stream = {});

  // Persistent streams (persistent_streams.cc, doc/exactly-once.md). The caller (the front end) makes
  // sure no request of the stream is in flight while it resumes or retires one.
  //
  // Mints a new stream id of `table`. FailedPrecondition when the table already holds
  // nobus.streams.maxLive live ids.
  [[nodiscard]] absl::StatusOr<std::string> CreateStream(const LiveTable& table);
  // The highest durable offset of stream `id` (nullopt: nothing durable yet) for a resume.
  // InvalidArgument: not a stream id of this table; FailedPrecondition: retired, or idle for
  // longer than nobus.streams.retention.
  [[nodiscard]] absl::StatusOr<std::optional<int64_t>> ResumeStream(const LiveTable& table,
                                                                   const std::string& id);
  // The durable offset (or Kafka producer mark) of `id` while it is within the table's retention;
  // nullopt when unknown or expired.
  [[nodiscard]] std::optional<int64_t> DurableMark(const LiveTable& table, const std::string& id);
  // A WAL record with no rows, only `mark` (an MQTT QoS 2 release): durable, replayed and
  // committed like any record (its commit carries just the txn). Same errors and `done` contract
  // as Append.
  [[nodiscard]] absl::Status AppendMark(const LiveTable& table, StreamMark mark,
                                        DurableCallback done);
  // In every table: the state ids `id_prefix(table name)` starts, with their durable offset and
  // whether they are older than the table's retention (an MQTT client's QoS 2 slots, wherever it
  // wrote).
  struct FoundMark {
    TableName table;
    std::string id;
    int64_t offset = 0;
    bool expired = false;
  };
  [[nodiscard]] std::vector<FoundMark> FindMarks(
      const std::function<std::string(const std::string& table)>& id_prefix);
  // The stream's highest offset in the Delta table and the table version that shows it (nullopt:
  // none committed yet), for a resumed call's first commit ack. Waits for a commit in progress.
  struct Committed {
    int64_t offset, version;
  };
  [[nodiscard]] std::optional<Committed> CommittedOffset(const LiveTable& table,
                                                         const std::string& id);
  // Whether other nodes may commit to `table` too: the tables root was given to this node
  // (IngestOptions::tables_fs, storage others may share) or the table's log carries another
  // node's WAL txn. Then a stream's acknowledged requests may wait in another node's WAL
  // (doc/exactly-once.md "Several nodes"). Reads the table's latest commits; waits for a commit
  // in progress.
  [[nodiscard]] bool OtherNodesMayWrite(const LiveTable& table);
  // Ends stream `id` for good: commits the table's buffered rows, then a commit holding only
  // txn{id, kRetiredStreamVersion}. Idempotent. NotFound (table), InvalidArgument (id).
  [[nodiscard]] absl::Status RetireStream(const TableName& name, const std::string& id);

  // REST idempotency keys (same state, streams.h). Claim before appending a keyed request:
  // kNew: the caller appends with StreamMark{id, fingerprint} and then calls ReleaseKey;
  // kDone: a request with this key and body is durable (answer as before, write nothing);
  // kConflict: the key is durable with another body; kInFlight: a request with it is in flight.
  enum class KeyClaim { kNew, kDone, kConflict, kInFlight };
  [[nodiscard]] absl::StatusOr<KeyClaim> ClaimKey(const LiveTable& table, const std::string& id,
                                                  int64_t fingerprint);
  void ReleaseKey(const LiveTable& table, const std::string& id);

  // Commits every row that was acknowledged (done(OK) called) before this call, in every table,
  // then releases the WAL; returns when committed. On a commit error (the first is returned) the
  // table's rows stay buffered and are retried by the flusher: nothing acknowledged is dropped.
  [[nodiscard]] absl::Status FlushAll();

  // Drops the table: later Appends to it fail with NotFound, its buffered rows are discarded, its
  // directory is removed (Catalog::Drop) and its metric series too. Waits for a commit to the
  // table in progress. NotFound if it does not exist; on any other error the table stays live
  // with its rows.
  [[nodiscard]] absl::Status DropTable(const TableName& name);

  // Table upkeep (maintenance.cc). Each runs as the node's one maintenance job at a time (waiting
  // for a running one) and never holds up ingest commits for longer than a commit. NotFound for
  // an unknown table.
  //
  // OPTIMIZE: bin-packs every partition's files below delta.targetFileSize (CompactionMode kFull)
  // and commits each bin through the table's committer; returns when committed.
  [[nodiscard]] absl::StatusOr<CompactionReport> Optimize(const TableName& name);
  // VACUUM (delta/vacuum.h), with its own committer for the VACUUM START/END commits.
  [[nodiscard]] absl::StatusOr<delta::VacuumResult> Vacuum(const TableName& name,
                                                           const delta::VacuumOptions& options);
  // The newest `limit` commits (all when <= 0), newest first.
  [[nodiscard]] absl::StatusOr<std::vector<delta::HistoryEntry>> History(const TableName& name,
                                                                        int64_t limit);
  // Sets Delta table properties (a metaData commit through the table's committer, so ingest
  // commits never conflict with it). InvalidArgument names a property nobus refuses.
  [[nodiscard]] absl::Status SetTableProperties(const TableName& name,
                                                const std::map<std::string, std::string>& properties);

  // What the flusher thread does when it wakes: commits every table whose oldest buffered row has
  // waited flush_interval_ms by the clock, or whose buffer passed flush_threshold_bytes, then
  // releases the WAL. Public so tests driving an env::ManualClock can run it deterministically.
  [[nodiscard]] absl::Status FlushDue();

  // Stops accepting appends (Unavailable), waits for the WAL callbacks of accepted appends,
  // stops the flusher, commits everything durable and closes the WAL. Idempotent (returns the
  // first call's result). A failed final commit loses nothing: the rows are replayed from the WAL
  // by the next Open.
  [[nodiscard]] absl::Status Close();

 private:
  struct PendingAppend;

  IngestService(env::FileSystem* fs, env::Clock* clock, std::string data_dir,
                IngestOptions options);
  [[nodiscard]] absl::Status Start();
  void Abandon();  // after a failed Start: closes the WAL without committing anything

  // Tables (ingest_service.cc).
  [[nodiscard]] absl::StatusOr<std::shared_ptr<TableState>> LoadTable(const TableInfo& info);
  // Admission (admission.cc). An accepted append is handed to the WAL at once when it fits and
  // nothing waits, else queued for the admission thread (AdmissionLoop).
  struct QueuedAppend {  // an append waiting in the admission queue
    std::shared_ptr<PendingAppend> append;  // its table: the one it was accepted for
    int64_t bytes = 0;
    std::chrono::steady_clock::time_point queued_at;
    AdmittedCallback admitted;
  };
  [[nodiscard]] absl::StatusOr<Admission> Submit(const LiveTable& table, std::string blob,
                                                 int64_t num_rows, DurableLsnCallback done,
                                                 StreamMark stream, AdmittedCallback admitted);
  // Requires mu_: the table's live state when appends to it may be admitted now, else why not.
  [[nodiscard]] absl::StatusOr<std::shared_ptr<TableState>> AdmissibleLocked(
      const TableName& name, const LiveTable* expected) const;
  bool FullLocked(int64_t bytes) const;  // requires mu_: `bytes` more would pass the cap
  void QueueChangedLocked();  // requires mu_: the gauge, and wakes the admission thread
  // Hands an admitted append (held bytes and in-flight already counted) to the WAL, waiting for
  // its byte budget or not; on failure undoes the counts. `wait` false: ResourceExhausted when
  // the budget is spent.
  [[nodiscard]] absl::Status ToWal(const std::shared_ptr<PendingAppend>& append, bool wait);
  void AdmissionLoop();
  void OnDurable(PendingAppend& append, absl::StatusOr<wal::Lsn> lsn);
  void BufferLocked(TableState* table, BufferedBlob blob);  // requires mu_
  // Requires mu_: `delta` row bytes were admitted (> 0) or committed or discarded (< 0); keeps
  // the gauge current and wakes appends waiting for room.
  void AdjustHeldLocked(int64_t delta);

  // Health (health.cc).
  void HealthLoop();
  void CheckDisks();
  void CheckSlowDisk(int64_t now);
  void CheckWal(int64_t now);
  // Replaces the failed WAL by a freshly opened one and replays it into emptied table buffers;
  // requires no lock (takes flush_mu_ exclusively).
  [[nodiscard]] absl::Status ReopenWal();
  // Why Admit refuses now (OK: it admits); requires mu_.
  absl::Status RefusalLocked(const TableState& table) const;
  std::string DiskLowMessageLocked() const;  // which disk is below its watermark; requires mu_
  // After the node recovered from a disk fault: stuck tables are retried at the next flush.
  void RetryStuckSoonLocked();  // requires mu_
  void RegisterHealthMetrics();  // before the WAL opens (OpenWal observes its histogram)
  // The WAL directory and the tables directory: the disks the free-space guard watches.
  std::array<std::string, 2> WatchedDirs() const;
  // Opens (recovering) the node's WAL under <data dir>/wal, its syncs observed in the metrics.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<wal::Wal>> OpenWal();

  // Recovery (recovery.cc).
  [[nodiscard]] absl::Status Recover();
  // Visits each WAL record after `after` as its header and row blob (blob LSN); requires flush_mu_
  // (shared will do: the WAL reads concurrently with appends).
  [[nodiscard]] absl::Status ForEachWalBlob(
      wal::Lsn after,
      const std::function<absl::Status(const RecordHeader&, wal::Lsn, std::string_view)>& visit);
  [[nodiscard]] absl::Status CheckWalNotBehind();
  [[nodiscard]] absl::StatusOr<wal::Lsn> ReplayStart();
  [[nodiscard]] absl::Status Replay(wal::Lsn after);  // requires flush_mu_ exclusively
  // Counts in *missing the records of tables that are gone without having been dropped.
  [[nodiscard]] absl::Status ReplayBlob(const RecordHeader& header, wal::Lsn lsn,
                                        std::string_view blob,
                                        std::map<std::string, int64_t>* missing);  // flush_mu_ excl.

  // Maintenance (maintenance.cc).
  void MaintenanceLoop();
  // One auto-compaction round and, when due, an auto-vacuum of every open table; metrics.
  void MaintainTables();
  [[nodiscard]] absl::StatusOr<std::shared_ptr<TableState>> FindOrOpen(const TableName& name);
  // Plans (kAuto or kFull) and rewrites the table's bins, committing each; requires
  // maintenance_mu_.
  [[nodiscard]] absl::StatusOr<CompactionReport> CompactLocked(TableState* table, bool automatic);
  [[nodiscard]] absl::StatusOr<delta::VacuumResult> VacuumLocked(
      TableState* table, const delta::VacuumOptions& options);  // requires maintenance_mu_
  // Between input files of a compaction: waits while ingest needs the node (buffers half full);
  // false when the service is closing.
  bool YieldToIngest();
  // Publishes the table's live files and bytes (as counted by the caller), small files and time
  // since compaction; requires LockTableCommits(table) and maintenance_mu_.
  void UpdateUpkeepMetrics(TableState* table, int64_t live_files, int64_t live_bytes,
                           int64_t now_ms);

  // Flushing (flusher.cc).
  void FlusherLoop();
  int64_t NextWakeMs();  // requires mu_
  // When a table with buffered rows is due for a commit (Clock nanos): its oldest row waited
  // flush_interval_ms, or at once past the size threshold; never before retry_at. A stuck table:
  // its retry time. Requires mu_.
  int64_t DueAtNanosLocked(const TableState& table) const;
  // Queues `table` for the flusher to look at when it comes due, and wakes the flusher when that
  // is sooner than it planned. Call after any change that can bring a table's due time forward
  // (first buffered row, size threshold, a commit or retry ending, retry time cleared); a no-op
  // for a table that is empty and not stuck, or whose commit is queued. Requires mu_.
  void ScheduleLocked(TableState* table);
  [[nodiscard]] absl::Status Flush(bool all);
  // A table due for a commit (or a stuck table due for a retry), oldest row first.
  struct DueTable {
    std::shared_ptr<TableState> table;
    bool stuck = false;
    int64_t since_nanos = 0;  // its oldest buffered row's ack (stuck: its retry time)
  };
  // Requires mu_. `all`: every table with rows (FlushAll, Close); else the timed ones. Scans every
  // table: for explicit flushes, not for the flusher's rounds.
  std::vector<DueTable> DueTablesLocked(bool all);
  // The flusher's round: the due tables from due_queue_ (and, once per flush interval, a sweep of
  // every table), marked queued. Requires mu_.
  std::vector<DueTable> TakeDueLocked();
  // Takes the shared commit gate and the table's commit mutex, then commits its rows up to `upto`
  // (or retries it, when stuck).
  [[nodiscard]] absl::Status CommitDue(const DueTable& due, wal::Lsn upto);
  // A background worker's timed commit; clears the table's queued mark and wakes the flusher when
  // the table is due again.
  void RunTimedCommit(const DueTable& due, wal::Lsn upto);
  // Closes the tables idle for idle_table_close_ms (see IngestOptions); flusher thread, no lock
  // held. Skips the round when a table is being opened or dropped.
  void CloseIdleTables();
  // The shared commit gate and one table's commit mutex: what touching its committer requires.
  struct TableCommitLock {
    std::shared_lock<std::shared_mutex> gate;
    std::unique_lock<std::mutex> table;
  };
  [[nodiscard]] TableCommitLock LockTableCommits(TableState* table);
  // Commits the table's buffered rows in batches of at most flush_threshold_bytes, up to and
  // including LSN `upto` (0: only the first batch).
  // Both require LockTableCommits(table).
  [[nodiscard]] absl::Status FlushTable(TableState* table, wal::Lsn upto);
  [[nodiscard]] absl::Status FlushBatch(TableState* table);
  // Commits `blobs` (those not yet in the table); rebuilds the batch when a concurrent commit
  // holds some of its stream requests (CommitBlobsOnce: one build and commit).
  [[nodiscard]] absl::Status CommitBlobs(TableState* table, const std::vector<BufferedBlob>& blobs);
  [[nodiscard]] absl::Status CommitBlobsOnce(TableState* table,
                                             const std::vector<BufferedBlob>& blobs);
  void ReleaseWal();  // requires flush_mu_ (shared)
  // Stream `id`'s txn in the table's latest commit (another node may have committed the stream
  // since this node read the table); takes LockTableCommits(table).
  std::optional<delta::Txn> LatestTxn(TableState* table, const std::string& id);
  // Stuck tables (stuck_tables.cc). After a failed commit: counts it and isolates the table once
  // it has failed long enough; requires mu_.
  void OnCommitFailureLocked(TableState* table, const absl::Status& error);
  void OnCommitSuccessLocked(TableState* table);
  // Moves the table's buffered rows out of memory (they stay in the WAL); requires mu_.
  void ParkLocked(TableState* table);
  // Re-reads a stuck table's parked rows from the WAL and commits them (and its buffer), then
  // lifts the isolation; requires LockTableCommits(table).
  [[nodiscard]] absl::Status RetryStuck(TableState* table);
  // RetryStuck's outcome `st` applied to the table (parked rows up to `upto` retried); requires mu_.
  [[nodiscard]] absl::Status RetryEndedLocked(TableState* table, wal::Lsn upto,
                                              const absl::Status& st);
  void UpdateWalMetrics();  // requires flush_mu_ (shared)

  env::FileSystem* const fs_;
  env::Clock* const clock_;
  const std::string data_dir_;
  const IngestOptions options_;
  env::FileSystem* const tables_fs_;  // options_.tables_fs, or fs_
  const std::string tables_root_;     // options_.tables_root, or <data_dir>/tables
  std::string wal_id_;
  std::unique_ptr<Catalog> catalog_;
  std::unique_ptr<wal::Wal> wal_;

  // Lock order: close_mu_ -> maintenance_mu_ -> table_ops_mu_ -> flush_mu_ -> a table's
  // commit_mu -> release_mu_ -> mu_.
  std::mutex close_mu_;      // serializes Close
  std::mutex maintenance_mu_;  // one maintenance job (compaction, vacuum) at a time
  std::mutex table_ops_mu_;  // serializes loading tables in OpenTable and DropTable
  // The commit gate: held shared by whatever commits to a table (with that table's commit_mu),
  // exclusively by what replaces the WAL under every table (recovery's replay, ReopenWal).
  std::shared_mutex flush_mu_;
  std::mutex release_mu_;    // one WAL release (and WAL metrics update) at a time
  std::mutex mu_;            // tables_, their buffers and flags, and the fields below
  std::condition_variable inflight_cv_;  // inflight_ reached zero
  std::condition_variable flusher_cv_;   // wake_ or stop_flusher_ set
  std::condition_variable room_cv_;      // held_bytes_ dropped, an append queued, a refusal
                                         // state changed, or closing_ set (the admission thread)
  std::map<TableName, std::shared_ptr<TableState>> tables_;
  int64_t inflight_ = 0;       // accepted appends whose WAL callback has not finished
  wal::Lsn completed_lsn_ = 0;  // highest LSN whose WAL callback reported success
  int64_t held_bytes_ = 0;      // row bytes admitted and not yet committed or discarded
  std::chrono::steady_clock::time_point last_full_warning_;  // rate-limits the "full" warning
  // Appends waiting for room, by arrival: admitted in this order, none passes another.
  std::deque<QueuedAppend> admission_queue_;
  std::thread admitter_;  // AdmissionLoop; ends once closing_ is set and the queue is empty
  bool closing_ = false;
  bool stop_flusher_ = false;
  bool wake_ = false;  // something the flusher must see before its planned wake
  bool release_pending_ = false;  // a background commit finished since the last WAL release
  int64_t next_idle_check_nanos_ = 0;  // flusher thread only
  // Tables that may come due, soonest first, so a flusher round costs what is due, not the number
  // of tables. Lazy: an entry may be early (the table is queued again for its real due time) or
  // stale (the table committed, is queued or closed: dropped). ScheduleLocked pushes entries; a
  // sweep every flush interval pushes one for every table with rows or stuck, so a missed push
  // costs one interval at most.
  struct DueEntry {
    int64_t at_nanos = 0;
    std::weak_ptr<TableState> table;  // weak: an entry never keeps a closed table open
  };
  struct LaterFirst {
    bool operator()(const DueEntry& a, const DueEntry& b) const { return a.at_nanos > b.at_nanos; }
  };
  std::priority_queue<DueEntry, std::vector<DueEntry>, LaterFirst> due_queue_;
  int64_t next_sweep_nanos_ = 0;
  int64_t flusher_wakes_at_nanos_ = 0;  // when the sleeping flusher wakes by itself (0: awake)
  bool closed_ = false;  // guarded by close_mu_
  // Health (guarded by mu_).
  bool admission_paused_ = false;  // the free-space guard
  absl::Status wal_failure_;       // not OK: the WAL failed and is being reopened
  int64_t wal_reopens_ = 0;
  int64_t wal_reopen_at_nanos_ = 0;   // next attempt
  int64_t wal_reopen_backoff_ms_ = 0;
  int64_t slow_disk_until_nanos_ = 0;  // not ready until then
  int64_t slow_sync_seen_ms_ = 0;      // the slowest batch that made it so
  int64_t sync_running_ms_ = 0;        // as the health thread last saw the WAL
  int64_t last_sync_ms_ = 0;
  uint64_t syncs_seen_ = 0;            // WAL batches seen by CheckSlowDisk
  std::vector<DiskReport> disks_;
  std::thread health_;
  std::condition_variable health_cv_;  // stop_health_ set (with mu_)
  bool stop_health_ = false;
  absl::Status close_status_;
  std::thread flusher_;
  // The commit workers (options_.commit_threads; with background_flush only). Declared after
  // everything their tasks touch; Close stops them.
  std::unique_ptr<TaskPool> committers_;
  std::thread maintainer_;
  std::condition_variable maintenance_cv_;  // stop_maintenance_ set (with mu_)
  bool stop_maintenance_ = false;           // guarded by mu_
  std::string node_id_;

  // Node buffer metrics (null without a registry); thread-safe.
  Gauge* held_bytes_gauge_ = nullptr;
  Gauge* tables_open_gauge_ = nullptr;       // as of the last idle check
  Counter* tables_closed_idle_ = nullptr;
  Gauge* admission_waiting_ = nullptr;  // admission_queue_.size(), set under mu_
  Counter* backpressure_waits_ = nullptr;
  Counter* backpressure_ms_ = nullptr;

  // Health metrics (null without a registry); thread-safe.
  Gauge* admission_paused_gauge_ = nullptr;
  Gauge* wal_failed_gauge_ = nullptr;
  Counter* wal_reopens_counter_ = nullptr;
  Histogram* wal_sync_seconds_ = nullptr;
  Gauge* wal_sync_running_seconds_ = nullptr;
  Gauge* tables_stuck_gauge_ = nullptr;
  std::vector<Gauge*> disk_free_gauges_;  // one per disks_ entry

  // WAL metrics (null without a registry); guarded by release_mu_.
  Counter* wal_bytes_ = nullptr;
  Gauge* wal_segments_ = nullptr;
  uint64_t wal_bytes_reported_ = 0;

};

}  // namespace nobus::table
