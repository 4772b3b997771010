// IngestService's recovery at Open: rebuild every table's buffer from the WAL records it has not
// committed yet (doc/ingest.md "Recovery").
#include <algorithm>

#include "common/logging.h"
#include "table/ingest_service.h"
#include "table/table_state.h"

namespace nobus::table {

absl::Status IngestService::Recover() {
  NOBUS_ASSIGN_OR_RETURN(std::vector<TableInfo> infos, catalog_->ListAll());
  for (const TableInfo& info : infos) {
    NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> table, LoadTable(info));
    std::lock_guard<std::mutex> l(mu_);
    tables_[info.name] = std::move(table);
  }
  NOBUS_RETURN_IF_ERROR(CheckWalNotBehind());
  NOBUS_ASSIGN_OR_RETURN(wal::Lsn after, ReplayStart());
  {
    std::lock_guard<std::mutex> l(mu_);
    completed_lsn_ = wal_->durable_lsn();
  }
  {
    std::unique_lock<std::shared_mutex> gate(flush_mu_);
    NOBUS_RETURN_IF_ERROR(Replay(after));
  }
  // A table whose commit fails keeps its rows buffered; the flusher retries them.
  absl::Status st = Flush(/*all=*/true);
  if (!st.ok()) NOBUS_LOG_WARN("recovery could not commit every table yet: {}", st.ToString());
  return absl::OkStatus();
}

// A table that committed LSNs of this WAL beyond its end means the WAL was lost or replaced:
// new records would reuse those LSNs and be skipped as already committed.
absl::Status IngestService::CheckWalNotBehind() {
  const wal::Lsn end = wal_->durable_lsn();
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, t] : tables_) {
    std::optional<int64_t> txn = t->committer->snapshot().TxnVersion(wal_id_);
    if (!txn || static_cast<wal::Lsn>(*txn) <= end) continue;
    return absl::FailedPreconditionError(Cat(
        "table '", name.ToString(), "' has committed LSN ", *txn, " of this node's WAL (", wal_id_,
        ") but the WAL at ", wal_->dir(), " ends at LSN ", end,
        ": the WAL directory was lost or replaced. Restore it, or move ", data_dir_,
        "/node_id away to start this node with a new WAL identity (rows acknowledged but not "
        "committed before the loss are gone)"));
  }
  return absl::OkStatus();
}

// The lowest txn version among the tables, but not below the oldest record the WAL still holds:
// records before it were released, which happens only once they are committed everywhere.
absl::StatusOr<wal::Lsn> IngestService::ReplayStart() {
  const wal::Lsn floor = wal_->oldest_lsn() - 1;
  wal::Lsn start = wal_->durable_lsn();
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, t] : tables_) {
    std::optional<int64_t> txn = t->committer->snapshot().TxnVersion(wal_id_);
    start = std::min(start, static_cast<wal::Lsn>(txn.value_or(0)));
  }
  return std::max(start, floor);
}

absl::Status IngestService::ForEachWalBlob(
    wal::Lsn after,
    const std::function<absl::Status(const RecordHeader&, wal::Lsn, std::string_view)>& visit) {
  std::optional<RecordHeader> header;
  wal::Lsn header_lsn = 0;
  absl::Status st = wal_->ReadFrom(after, [&](wal::Lsn lsn, std::string_view payload) {
    if (!header) {
      absl::StatusOr<RecordHeader> h = DecodeRecordHeader(payload);
      if (!h.ok()) return Annotate(h.status(), Cat("WAL record at LSN ", lsn));
      header = std::move(*h);
      header_lsn = lsn;
      return absl::OkStatus();
    }
    RecordHeader h = std::move(*header);
    header.reset();
    if (lsn != header_lsn + 1)
      return absl::DataLossError(Cat("WAL record at LSN ", header_lsn, " has no row payload"));
    return visit(h, lsn, payload);
  });
  NOBUS_RETURN_IF_ERROR(st);
  if (header) return absl::DataLossError(Cat("WAL record at LSN ", header_lsn, " is incomplete"));
  return absl::OkStatus();
}

absl::Status IngestService::Replay(wal::Lsn after) {
  std::map<std::string, int64_t> missing;  // "name (table id)" -> records
  NOBUS_RETURN_IF_ERROR(
      ForEachWalBlob(after, [&](const RecordHeader& h, wal::Lsn lsn, std::string_view blob) {
        return ReplayBlob(h, lsn, blob, &missing);
      }));
  if (missing.empty()) return absl::OkStatus();
  std::string tables;
  for (const auto& [table, records] : missing)
    tables += Cat(tables.empty() ? "" : ", ", table, ": ", records, " records");
  return absl::FailedPreconditionError(Cat(
      "the write-ahead log holds acknowledged rows of tables whose directories are missing but "
      "that were not dropped through nobus (", tables, "). Restore each table's directory under ",
      catalog_->root(), " and start again; to discard those rows instead, add the table id to ",
      catalog_->DroppedIdsPath(), " (one per line)"));
}

absl::Status IngestService::ReplayBlob(const RecordHeader& header, wal::Lsn lsn,
                                       std::string_view blob,
                                       std::map<std::string, int64_t>* missing) {
  absl::StatusOr<TableName> name = ParseTableName(header.table_name);
  if (!name.ok()) return absl::DataLossError(Cat("WAL record ending at LSN ", lsn, ": ", name.status().message()));
  std::shared_ptr<TableState> t;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = tables_.find(*name);
    if (it != tables_.end() && it->second->info().table_id == header.table_id) t = it->second;
  }
  if (t == nullptr) {  // dropped (and maybe re-created), or its directory is missing
    if (!catalog_->WasDropped(header.table_id))
      ++(*missing)[Cat("'", header.table_name, "' (table id ", header.table_id, ")")];
    return absl::OkStatus();
  }
  std::optional<int64_t> txn = t->committer->snapshot().TxnVersion(wal_id_);
  if (txn && static_cast<wal::Lsn>(*txn) >= lsn) return absl::OkStatus();  // committed already
  const int64_t now = clock_->MonotonicNanos();
  const int64_t now_ms = header.stream.empty() ? 0 : clock_->NowMillis();
  bool flush;
  {
    std::lock_guard<std::mutex> l(mu_);
    AdjustHeldLocked(static_cast<int64_t>(blob.size()));
    if (!header.stream.empty()) t->streams.Durable(header.stream, now_ms);
    BufferLocked(t.get(), BufferedBlob{lsn, std::string(blob), header.num_rows, now, header.stream});
    flush = t->buffer.bytes() >= options_.flush_threshold_bytes && now >= t->retry_at_nanos;
  }
  // Bounds memory while replaying a long log. A failure keeps the rows buffered and holds off
  // further attempts for a flush interval (then the flusher retries).
  if (flush) (void)FlushTable(t.get(), /*upto=*/0);
  return absl::OkStatus();
}

}  // namespace nobus::table
