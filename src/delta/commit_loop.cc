// Committer::Commit and its helpers: the put-if-absent retry loop, conflict resolution against
// winning commits, ambiguous outcomes, and the checkpoint that follows a commit.
#include "delta/checkpoint_writer.h"
#include "delta/committer.h"
#include "delta/config.h"

namespace nobus::delta {
namespace {

enum class Verdict { kRetry, kAlreadyLanded };

absl::StatusOr<Verdict> CheckWinner(const CommitActions& winner, int64_t version,
                                    const CommitActions& ours) {
  if (winner.protocol)
    return absl::FailedPreconditionError(
        Cat("concurrent commit ", version, " changed the table protocol"));
  if (winner.metadata)
    return absl::FailedPreconditionError(Cat("MetadataChanged: concurrent commit ", version,
                                             " changed the table metadata; rebuild the batch"));
  // The first txn is the batch's identity (AppendOnce). Later ones name what else the batch holds
  // (persistent streams): a winner that carries one of them may hold some of the same requests
  // (another node wrote them during a failover), so the batch must be rebuilt against it.
  for (size_t i = 0; i < ours.txns.size(); ++i) {
    const Txn& ours_txn = ours.txns[i];
    for (const Txn& t : winner.txns) {
      if (t.app_id != ours_txn.app_id) continue;
      if (i == 0 && t.version >= ours_txn.version) return Verdict::kAlreadyLanded;
      return absl::AbortedError(Cat("ConcurrentTransaction: commit ", version,
                                    " carries txn for appId '", t.app_id, "' at version ",
                                    t.version, " while we commit ", ours_txn.version,
                                    "; rebuild the batch against it"));
    }
  }
  for (const RemoveFile& r : winner.removes)
    for (const RemoveFile& mine : ours.removes)
      if (mine.path == r.path)
        return absl::AbortedError(
            Cat("ConcurrentDeleteDelete: commit ", version, " already removed ", r.path));
  return Verdict::kRetry;
}

}  // namespace

absl::Status CheckWritable(const Snapshot& snap) {
  NOBUS_RETURN_IF_ERROR(CheckProtocolSupported(snap.protocol()));
  if (snap.metadata().schema_string.find("delta.invariants") != std::string::npos)
    return absl::FailedPreconditionError(
        "table has column invariants (delta.invariants), which nobus does not enforce");
  return absl::OkStatus();
}

absl::Status Committer::ApplyNewCommits(
    const std::function<absl::StatusOr<bool>(const CommitActions&, int64_t)>& visit) {
  for (int64_t v = snapshot_.version() + 1;; ++v) {
    std::string name = CommitFileName(v);
    absl::StatusOr<std::string> body = store_.Read(name);
    if (absl::IsNotFound(body.status())) return absl::OkStatus();
    NOBUS_RETURN_IF_ERROR(body.status());
    NOBUS_ASSIGN_OR_RETURN(CommitActions commit, ParseCommit(*body, name));
    NOBUS_ASSIGN_OR_RETURN(bool more, visit(commit, v));
    NOBUS_RETURN_IF_ERROR(snapshot_.Apply(commit, v));
    if (!more) return absl::OkStatus();
  }
}

// Reads every commit after the snapshot, checks each against `ours` and applies it. Returns true
// when one of them shows our batch already landed (its version in `landed_version`).
absl::StatusOr<bool> Committer::CatchUp(const CommitActions& ours, int64_t* landed_version) {
  bool landed = false;
  NOBUS_RETURN_IF_ERROR(
      ApplyNewCommits([&](const CommitActions& winner, int64_t v) -> absl::StatusOr<bool> {
        NOBUS_ASSIGN_OR_RETURN(Verdict verdict, CheckWinner(winner, v, ours));
        if (verdict != Verdict::kAlreadyLanded) return true;
        *landed_version = v;
        landed = true;
        return false;
      }));
  return landed;
}

// After a put whose outcome is unknown: true if `version` holds our commit (same txnId), false
// if another writer holds it; the original error if it is absent or unreadable.
absl::StatusOr<bool> Committer::ResolveAmbiguous(const CommitActions& ours, int64_t version,
                                                 const absl::Status& error) {
  std::string name = CommitFileName(version);
  absl::StatusOr<std::string> body = store_.Read(name);
  if (!body.ok()) return error;
  absl::StatusOr<CommitActions> landed = ParseCommit(*body, name);
  if (!landed.ok()) return error;
  return landed->commit_info && landed->commit_info->txn_id == ours.commit_info->txn_id;
}

absl::StatusOr<CommitResult> Committer::Commit(CommitActions actions) {
  CommitResult result;
  std::string body = SerializeCommit(actions);
  for (result.attempts = 1; result.attempts <= options_.max_attempts; ++result.attempts) {
    NOBUS_RETURN_IF_ERROR(CheckWritable(snapshot_));
    int64_t version = snapshot_.version() + 1;
    int64_t attempt_ms = clock_->NowMillis();
    absl::Status put = store_.PutIfAbsent(CommitFileName(version), body);
    bool ours = put.ok();
    if (!put.ok() && !absl::IsAlreadyExists(put)) {
      NOBUS_ASSIGN_OR_RETURN(ours, ResolveAmbiguous(actions, version, put));
    }
    if (ours) {
      NOBUS_RETURN_IF_ERROR(snapshot_.Apply(actions, version));
      confirmed_at_ms_ = attempt_ms;
      result.version = version;
      AfterCommit(&result);
      return result;
    }
    int64_t landed = -1;
    NOBUS_ASSIGN_OR_RETURN(bool already, CatchUp(actions, &landed));
    if (already) {
      result.version = landed;
      result.already_committed = true;
      return result;
    }
  }
  return absl::AbortedError(Cat("gave up after ", options_.max_attempts,
                                " attempts: other writers kept taking the next version"));
}

void Committer::AfterCommit(CommitResult* result) {
  int64_t interval = CheckpointInterval(snapshot_.metadata());
  if (!options_.write_checkpoints || result->version == 0 || result->version % interval != 0)
    return;
  int64_t now_ms = clock_->NowMillis();
  absl::StatusOr<LastCheckpoint> written = WriteCheckpoint(&store_, snapshot_, now_ms, options_.expire_txns);
  if (!written.ok()) {
    result->checkpoint_status = written.status();
    return;
  }
  result->checkpoint_version = written->version;
  // Once per cutoff (a day): the cleanup lists the whole log, which holds a day of commits per
  // day of retention.
  const int64_t cutoff_ms = LogCleanupCutoffMs(snapshot_.metadata(), now_ms);
  if (!ExpiredLogCleanupEnabled(snapshot_.metadata()) || cleaned_cutoff_ms_ == cutoff_ms) return;
  result->checkpoint_status = CleanupExpiredLogs(&store_, snapshot_.metadata(), now_ms).status();
  if (result->checkpoint_status.ok()) cleaned_cutoff_ms_ = cutoff_ms;
}

}  // namespace nobus::delta
