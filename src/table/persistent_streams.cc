// IngestService's persistent streams: minting ids, resuming, retiring (doc/exactly-once.md).
#include "common/logging.h"
#include "delta/config.h"
#include "schema/row_codec.h"
#include "table/ingest_service.h"
#include "table/table_state.h"

namespace nobus::table {
namespace {

absl::Status CheckTableOf(const std::string& id, const TableInfo& info) {
  NOBUS_ASSIGN_OR_RETURN(ParsedStreamId parsed, ParseStreamId(id));
  if (parsed.table != info.name.ToString())
    return absl::InvalidArgumentError(Cat("stream '", id, "' belongs to table '", parsed.table,
                                          "', not to '", info.name.ToString(), "'"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> IngestService::CreateStream(const LiveTable& table) {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(table.info().name));
  const int64_t now_ms = clock_->NowMillis();
  const std::string name = table.info().name.ToString();
  std::lock_guard<std::mutex> l(mu_);
  const int64_t live = t->streams.LiveCount(now_ms, t->stream_retention_ms);
  if (live >= t->stream_max_live)
    return absl::FailedPreconditionError(Cat(
        "table '", name, "' already has ", live, " live persistent streams (", delta::kStreamMaxLiveKey,
        " = ", t->stream_max_live, "): retire streams that are done (RetireStream), resume existing "
        "ones instead of creating new ones, or raise the table property"));
  std::string id = NewStreamId(name, now_ms);
  t->streams.Minted(id, now_ms);
  return id;
}

absl::StatusOr<std::optional<int64_t>> IngestService::ResumeStream(const LiveTable& table,
                                                                   const std::string& id) {
  NOBUS_RETURN_IF_ERROR(CheckTableOf(id, table.info()));
  NOBUS_ASSIGN_OR_RETURN(ParsedStreamId parsed, ParseStreamId(id));
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(table.info().name));
  std::optional<delta::Txn> committed = LatestTxn(t.get(), id);
  const int64_t now_ms = clock_->NowMillis();
  std::lock_guard<std::mutex> l(mu_);
  if (committed) t->streams.Merge(*committed, parsed.created_ms);
  const int64_t retention_ms = t->stream_retention_ms;
  std::optional<StreamStatus> s = t->streams.Find(id);
  if (s && s->retired)
    return absl::FailedPreconditionError(
        Cat("stream '", id, "' was retired (RetireStream) and can never be resumed: create a new "
            "persistent stream"));
  const int64_t last_active = s ? s->last_active_ms : parsed.created_ms;
  if (last_active < now_ms - retention_ms)
    return absl::FailedPreconditionError(Cat(
        "stream '", id, "' expired: idle since ", last_active, " ms (unix), longer than the table's ",
        delta::kStreamRetentionKey, " (", retention_ms,
        " ms); its offsets are forgotten, so resuming could write duplicates. Create a new "
        "persistent stream and resend from what the table holds"));
  t->streams.Minted(id, now_ms);  // active again from now on
  return s ? s->durable : std::nullopt;
}

std::optional<delta::Txn> IngestService::LatestTxn(TableState* t, const std::string& id) {
  TableCommitLock lock = LockTableCommits(t);
  absl::Status st = t->committer->CatchUpLatest();
  if (!st.ok()) {  // resume from what this node knows; a stale answer only costs resends
    t->needs_refresh = true;
    NOBUS_LOG_WARN("could not read the table's latest commits table={} error={}",
                   t->info().name.ToString(), st.ToString());
  }
  const auto& txns = t->committer->snapshot().txns();
  auto it = txns.find(id);
  if (it == txns.end()) return std::nullopt;
  return it->second;
}

std::optional<IngestService::Committed> IngestService::CommittedOffset(const LiveTable& table,
                                                                     const std::string& id) {
  absl::StatusOr<std::shared_ptr<TableState>> t = FindOrOpen(table.info().name);
  if (!t.ok()) return std::nullopt;
  TableCommitLock lock = LockTableCommits(t->get());
  const delta::Snapshot& snapshot = (*t)->committer->snapshot();
  std::optional<int64_t> offset = snapshot.TxnVersion(id);
  if (!offset || *offset == kRetiredStreamVersion) return std::nullopt;
  return Committed{*offset, snapshot.version()};
}

bool IngestService::OtherNodesMayWrite(const LiveTable& table) {
  if (options_.tables_fs != nullptr) return true;
  absl::StatusOr<std::shared_ptr<TableState>> t = FindOrOpen(table.info().name);
  if (!t.ok()) return false;
  TableCommitLock lock = LockTableCommits(t->get());
  if (!(*t)->committer->CatchUpLatest().ok()) (*t)->needs_refresh = true;  // then what it knows
  for (const auto& [app_id, txn] : (*t)->committer->snapshot().txns())
    if (app_id.starts_with(kWalTxnPrefix) && app_id != wal_id_) return true;
  return false;
}

std::optional<int64_t> IngestService::DurableMark(const LiveTable& table, const std::string& id) {
  const int64_t now_ms = clock_->NowMillis();
  std::lock_guard<std::mutex> l(mu_);
  auto it = tables_.find(table.info().name);
  if (it == tables_.end()) return std::nullopt;
  std::optional<StreamStatus> s = it->second->streams.Find(id);
  if (!s || s->last_active_ms < now_ms - it->second->stream_retention_ms) return std::nullopt;
  return s->durable;
}

absl::StatusOr<IngestService::KeyClaim> IngestService::ClaimKey(const LiveTable& table,
                                                                const std::string& id,
                                                                int64_t fingerprint) {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(table.info().name));
  const int64_t now_ms = clock_->NowMillis();
  std::lock_guard<std::mutex> l(mu_);
  if (t->pending_keys.contains(id)) return KeyClaim::kInFlight;
  std::optional<StreamStatus> s = t->streams.Find(id);
  if (s && s->durable && s->last_active_ms >= now_ms - t->stream_retention_ms)
    return *s->durable == fingerprint ? KeyClaim::kDone : KeyClaim::kConflict;
  t->pending_keys.insert(id);  // new, or expired: a new request
  return KeyClaim::kNew;
}

void IngestService::ReleaseKey(const LiveTable& table, const std::string& id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = tables_.find(table.info().name);
  if (it != tables_.end()) it->second->pending_keys.erase(id);
}

absl::Status IngestService::RetireStream(const TableName& name, const std::string& id) {
  NOBUS_ASSIGN_OR_RETURN(std::shared_ptr<TableState> t, FindOrOpen(name));
  NOBUS_RETURN_IF_ERROR(CheckTableOf(id, t->info()));
  TableCommitLock lock = LockTableCommits(t.get());
  wal::Lsn upto;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (t->streams.retired(id)) return absl::OkStatus();
    upto = completed_lsn_;
  }
  // The stream's acknowledged rows land first: a txn of theirs after the retirement would hide it.
  NOBUS_RETURN_IF_ERROR(FlushTable(t.get(), upto));
  delta::Committer* c = t->committer.get();
  if (t->needs_refresh) {
    NOBUS_RETURN_IF_ERROR(c->Refresh());
    t->needs_refresh = false;
  }
  const int64_t now_ms = clock_->NowMillis();
  absl::StatusOr<delta::CommitResult> result =
      c->CommitAdds({}, delta::Txn{id, kRetiredStreamVersion, now_ms});
  if (!result.ok()) {
    t->needs_refresh = true;
    return Annotate(result.status(), Cat("retiring stream '", id, "'"));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    t->streams.Retire(id, now_ms);
  }
  NOBUS_LOG_INFO("stream retired table={} stream_id={} version={}", name.ToString(), id,
                 result->version);
  return absl::OkStatus();
}

}  // namespace nobus::table

namespace nobus::table {

absl::Status IngestService::AppendMark(const LiveTable& table, StreamMark mark,
                                       DurableCallback done) {
  if (mark.empty()) return absl::InvalidArgumentError("a mark-only append needs a stream mark");
  std::string blob;
  schema::RowBlobWriter writer(&blob);  // no rows: the blob's header alone
  return Append(table, std::move(blob), 0, std::move(done), std::move(mark));
}

std::vector<IngestService::FoundMark> IngestService::FindMarks(
    const std::function<std::string(const std::string& table)>& id_prefix) {
  const int64_t now_ms = clock_->NowMillis();
  std::vector<FoundMark> out;
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [name, t] : tables_) {
    if (t->dropped) continue;
    for (StreamOffsets::PrefixedMark& m :
         t->streams.WithPrefix(id_prefix(name.ToString()), now_ms, t->stream_retention_ms))
      out.push_back(FoundMark{name, std::move(m.id), m.offset, m.expired});
  }
  return out;
}

}  // namespace nobus::table
