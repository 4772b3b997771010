#include "table/table_state.h"

namespace nobus::table {

void TableBuffer::Add(BufferedBlob blob) {
  bytes_ += static_cast<int64_t>(blob.blob.size());
  blobs_.push_back(std::move(blob));
}

std::vector<BufferedBlob> TableBuffer::Take(int64_t max_bytes) {
  std::vector<BufferedBlob> out;
  int64_t taken = 0;
  while (!blobs_.empty()) {
    const int64_t size = static_cast<int64_t>(blobs_.front().blob.size());
    if (!out.empty() && taken + size > max_bytes) break;
    taken += size;
    out.push_back(std::move(blobs_.front()));
    blobs_.pop_front();
  }
  bytes_ -= taken;
  return out;
}

void TableBuffer::PutBack(std::vector<BufferedBlob> blobs) {
  for (auto it = blobs.rbegin(); it != blobs.rend(); ++it) {
    bytes_ += static_cast<int64_t>(it->blob.size());
    blobs_.push_front(std::move(*it));
  }
}

// The blobs were encoded against `info`; refuse to commit them to a table that changed since.
absl::Status CheckSameTable(const TableInfo& info, const delta::Snapshot& snapshot) {
  if (snapshot.metadata().id != info.table_id || snapshot.schema() != info.schema ||
      snapshot.metadata().partition_columns != info.partition_columns) {
    return absl::FailedPreconditionError(
        Cat("table '", info.name.ToString(),
            "' was replaced or its schema changed outside nobus; its buffered rows stay in the "
            "WAL: restore the table, or drop it through nobus to discard them"));
  }
  return absl::OkStatus();
}

TableMetrics TableMetrics::Register(MetricsRegistry* r, const std::string& table) {
  TableMetrics m;
  if (r == nullptr) return m;
  MetricLabels l{{"table", table}};
  m.commit_seconds = r->GetHistogram("nobus_table_commit_seconds",
                                     "Time to write a table's buffered rows and commit them.",
                                     LatencyBucketsSeconds(), l);
  m.last_commit_version = r->GetGauge("nobus_table_last_commit_version",
                                      "Delta version of the table's latest commit by this node.", l);
  m.rows_committed = r->GetCounter("nobus_table_rows_committed_total",
                                   "Rows committed to the table by this node.", l);
  m.time_to_table_seconds =
      r->GetHistogram("nobus_table_time_to_table_seconds",
                      "Time from a request's durability ack to the commit holding its rows.",
                      LatencyBucketsSeconds(), l);
  m.buffered_bytes = r->GetGauge("nobus_table_buffered_bytes",
                                 "Bytes of acknowledged rows waiting for the table's next commit.", l);
  m.commit_failures = r->GetCounter("nobus_commit_failures_total",
                                    "Failed commits of buffered rows (retried next interval).", l);
  m.commit_conflicts = r->GetCounter(
      "nobus_table_commit_conflicts_total",
      "Commit attempts that found their version taken by another writer and retried.", l);
  m.requests_committed_elsewhere = r->GetCounter(
      "nobus_table_requests_committed_elsewhere_total",
      "Acknowledged requests of persistent streams (or idempotency keys) left out of a commit "
      "because the table already held them, committed by another node during a failover.", l);
  m.live_files = r->GetGauge("nobus_table_live_files", "Data files in the table's latest version.", l);
  m.live_bytes = r->GetGauge("nobus_table_live_bytes", "Bytes of the table's live data files.", l);
  m.small_files = r->GetGauge("nobus_table_small_files",
                              "Live files below half of delta.targetFileSize (compaction input).", l);
  m.compactions = r->GetCounter("nobus_table_compactions_total",
                                "OPTIMIZE commits this node made to the table.", l);
  m.compaction_bytes_rewritten = r->GetCounter(
      "nobus_table_compaction_bytes_rewritten_total", "Data file bytes compaction rewrote.", l);
  m.files_vacuumed = r->GetCounter("nobus_table_files_vacuumed_total",
                                   "Data files VACUUM deleted from the table.", l);
  m.seconds_since_compaction = r->GetGauge(
      "nobus_table_seconds_since_compaction",
      "Seconds since this node last compacted the table (since it opened it, if never).", l);
  m.stuck = r->GetGauge("nobus_table_stuck",
                        "1 while the table is isolated because its commits keep failing.", l);
  return m;
}

}  // namespace nobus::table
