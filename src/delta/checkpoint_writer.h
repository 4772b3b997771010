// Writing classic Delta checkpoints (`<N>.checkpoint.parquet` + `_last_checkpoint`) and the
// metadata cleanup that follows them. In the data path: the committer calls WriteCheckpoint after
// the commit that makes version % delta.checkpointInterval == 0, then CleanupExpiredLogs; snapshot
// replay then starts from the checkpoint instead of commit 0. Stateless functions.
//
// The file has Spark's checkpoint schema, column for column (txn, add, remove, metaData, protocol;
// every field OPTIONAL except map keys), one action per row: protocol, metaData, every txn, every
// live add (dataChange false, stats JSON), every remove whose deletionTimestamp +
// delta.deletedFileRetentionDuration is still in the future. Written through parquet/writer.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"
#include "delta/checkpoint.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "schema/types.h"

namespace nobus::delta {

// Spark's checkpoint schema; readerFeatures/writerFeatures lists are added to `protocol` only when
// `with_features` (tables at reader 3 / writer 7).
schema::Schema CheckpointSchema(bool with_features);

struct EncodedCheckpoint {
  std::string bytes;     // the whole Parquet file
  int64_t num_rows = 0;  // actions written
  int64_t num_add_files = 0;
};

// Which txn actions a checkpoint leaves out as expired (the writer's policy, e.g. idle persistent
// stream ids); null keeps every txn. Pure; called once per txn.
using TxnExpiry = std::function<bool(const Txn& txn, const Metadata& metadata, int64_t now_ms)>;

// Encodes the checkpoint of `snapshot` at `now_ms` (tombstones expire relative to it, and txns
// `expired` names), in memory.
[[nodiscard]] absl::StatusOr<EncodedCheckpoint> EncodeCheckpoint(const Snapshot& snapshot,
                                                                 int64_t now_ms,
                                                                 const TxnExpiry& expired = nullptr);

// `{"version":N,"size":rows,"sizeInBytes":B,"numOfAddFiles":K}` (never "parts").
std::string SerializeLastCheckpoint(const LastCheckpoint& info);

// Encodes the checkpoint of `snapshot` (whose version N must be committed), replaces
// `<N>.checkpoint.parquet` atomically (temp + rename: readers never see half a file), then
// `_last_checkpoint`. OK = both are durable. A same-version race with another writer is harmless:
// both write the same state.
[[nodiscard]] absl::StatusOr<LastCheckpoint> WriteCheckpoint(LogStore* store,
                                                             const Snapshot& snapshot,
                                                             int64_t now_ms,
                                                             const TxnExpiry& expired = nullptr);

// Metadata cleanup (delta.enableExpiredLogCleanup, default on): cutoff = midnight UTC of now_ms -
// delta.logRetentionDuration; keeps the newest checkpoint whose file is at or before the cutoff
// and its commit, and deletes older commits, checkpoints and `.crc` files last modified at or
// before the cutoff, oldest first; also `.*.tmp` temporaries of crashed writers older than the
// cutoff. Returns the number of files deleted (0 when the store cannot age files). Lists the log
// once and stats only the expired prefix of it (versions in order).
[[nodiscard]] absl::StatusOr<int> CleanupExpiredLogs(LogStore* store, const Metadata& metadata,
                                                     int64_t now_ms);
// The cutoff CleanupExpiredLogs applies at now_ms. It moves once a day: a second cleanup at the
// same cutoff finds only what a concurrent writer left, so a committer cleans once per cutoff.
int64_t LogCleanupCutoffMs(const Metadata& metadata, int64_t now_ms);

}  // namespace nobus::delta
