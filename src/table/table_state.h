// Per-table state of the ingest service: the buffer of durable, not yet committed row blobs, the
// table's Delta committer and its metrics. In the data path: WAL completion callback ->
// [TableBuffer::Add] -> flusher [Take, decode, commit; PutBack on failure].
//
// Thread-safety: IngestService guards the fields marked "mu_" with its mutex and those marked
// "commit_mu" with the table's commit mutex, held with the service's commit gate
// (IngestService::LockTableCommits; see ingest_service.h). Everything here is in
// memory; the WAL holds the durable copy of every buffered blob until its commit lands.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "delta/table.h"
#include "schema/record_decoder.h"
#include "table/ingest_service.h"
#include "table/streams.h"
#include "wal/format.h"

namespace nobus::table {

// One acknowledged request's rows, as appended to the WAL.
struct BufferedBlob {
  wal::Lsn lsn = 0;  // LSN of the blob payload: the last LSN of its WAL record
  std::string blob;  // schema/row_codec.h encoding
  int64_t num_rows = 0;
  int64_t acked_nanos = 0;  // Clock::MonotonicNanos at the ack (or at recovery)
  StreamMark stream;        // the persistent stream request it holds (empty: none)
};

// Blobs in LSN order, with byte and row totals.
class TableBuffer {
 public:
  void Add(BufferedBlob blob);
  // The oldest blobs, in order, up to `max_bytes` in total but at least one (everything by
  // default), removed from the buffer.
  std::vector<BufferedBlob> Take(int64_t max_bytes = INT64_MAX);
  // Returns blobs taken earlier (all with smaller LSNs than any added since) to the front.
  void PutBack(std::vector<BufferedBlob> blobs);

  bool empty() const { return blobs_.empty(); }
  int64_t bytes() const { return bytes_; }
  wal::Lsn first_lsn() const { return blobs_.empty() ? 0 : blobs_.front().lsn; }
  wal::Lsn last_lsn() const { return blobs_.empty() ? 0 : blobs_.back().lsn; }
  size_t size() const { return blobs_.size(); }
  int64_t oldest_ack_nanos() const { return blobs_.empty() ? 0 : blobs_.front().acked_nanos; }

 private:
  std::deque<BufferedBlob> blobs_;
  int64_t bytes_ = 0;
};

// Metric series of one table (all null without a registry).
struct TableMetrics {
  Histogram* commit_seconds = nullptr;
  Gauge* last_commit_version = nullptr;
  Counter* rows_committed = nullptr;
  Histogram* time_to_table_seconds = nullptr;
  Gauge* buffered_bytes = nullptr;
  Counter* commit_failures = nullptr;
  // Versions another writer (another node sharing the table) took first: each one cost a rebase
  // and another put-if-absent.
  Counter* commit_conflicts = nullptr;
  // Requests left out of a commit because the table already held them (CommittedByTable).
  Counter* requests_committed_elsewhere = nullptr;
  // Table upkeep (maintenance.cc).
  Gauge* live_files = nullptr;
  Gauge* live_bytes = nullptr;
  Gauge* small_files = nullptr;
  Counter* compactions = nullptr;
  Counter* compaction_bytes_rewritten = nullptr;
  Counter* files_vacuumed = nullptr;
  Gauge* seconds_since_compaction = nullptr;
  Gauge* stuck = nullptr;  // 1 while the table is isolated (health.h)

  static TableMetrics Register(MetricsRegistry* registry, const std::string& table);
};

// FailedPrecondition when the table at `snapshot` is not the one `info` describes (replaced, or
// its schema or partitioning changed outside nobus): buffered blobs encoded against `info` must
// not be committed to it.
[[nodiscard]] absl::Status CheckSameTable(const TableInfo& info, const delta::Snapshot& snapshot);

class TableState final : public LiveTable, public std::enable_shared_from_this<TableState> {
 public:
  TableState(TableInfo info, std::unique_ptr<schema::RecordDecoder> decoder,
             std::unique_ptr<delta::Committer> committer, TableMetrics metrics)
      : committer(std::move(committer)),
        metrics(metrics),
        info_(std::move(info)),
        decoder_(std::move(decoder)) {}
  const TableInfo& info() const override { return info_; }
  const schema::RecordDecoder& json_decoder() const override { return *decoder_; }
  int32_t kafka_partitions() const override { return kafka_partitions_.load(); }
  void set_kafka_partitions(int32_t n) { kafka_partitions_.store(n); }

  // Guarded by IngestService::mu_.
  TableBuffer buffer;
  wal::Lsn flushing_first_lsn = 0;  // first LSN of a batch being committed (0: none)
  bool flush_requested = false;     // buffer passed the size threshold
  int64_t retry_at_nanos = 0;       // after a failed commit: no timed retry before this
  bool dropping = false;            // DropTable in progress: appends fail with NotFound
  bool dropped = false;             // gone: completions and flushes discard its rows
  bool commit_queued = false;       // a background commit of it is queued or running
  int64_t last_used_nanos = 0;      // opened, or its last append became durable (idle closing)
  // Commit health (health.h "stuck table").
  int64_t failing_since_nanos = 0;  // first failed commit without a success since (0: healthy)
  int64_t consecutive_failures = 0;
  std::string last_error;
  bool stuck = false;             // isolated: appends refused, rows parked in the WAL
  int64_t stuck_backoff_ms = 0;   // current retry backoff
  // Parked rows: this table's WAL records whose blob LSN lies in [parked_from, parked_upto] are
  // acknowledged, not committed and not in memory (0: none).
  wal::Lsn parked_from = 0;
  wal::Lsn parked_upto = 0;
  int64_t parked_records = 0;
  StreamOffsets streams;  // persistent streams and REST idempotency keys (streams.h)
  std::set<std::string> pending_keys;  // idempotency keys of requests not yet durable
  // The table's nobus.streams.retention / .maxLive (delta/config.h), kept current by the service.
  int64_t stream_retention_ms = 0;
  int64_t stream_max_live = 0;

  // Held (after the service's commit gate) while committing to the table.
  std::mutex commit_mu;
  // Guarded by commit_mu.
  std::unique_ptr<delta::Committer> committer;
  bool needs_refresh = false;  // a commit failed: reload the snapshot before the next one

  // Guarded by IngestService::maintenance_mu_.
  int64_t opened_at_ms = 0;          // wall clock when the node opened the table
  int64_t last_compaction_ms = 0;    // 0: none since it was opened
  int64_t last_vacuum_ms = 0;        // 0: none since it was opened
  std::set<std::string> uncompactable;  // files compaction could not read: planned without

  const TableMetrics metrics;

 private:
  const TableInfo info_;
  const std::unique_ptr<schema::RecordDecoder> decoder_;
  std::atomic<int32_t> kafka_partitions_{1};
};

}  // namespace nobus::table
