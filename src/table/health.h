// What the ingest service tells about its own health, and the knobs of its fault handling
// (health.cc: the health thread; flusher.cc: stuck tables). In the data path it sits beside the
// write path and decides whether Append admits a record at all:
//
//   - free-space guard: below a watermark on the disk of the WAL or of the tables directory,
//     appends fail with ResourceExhausted until space is back above a higher watermark; commits
//     and WAL release go on (they free WAL space);
//   - WAL failure (a failed write or fdatasync is sticky in wal::Wal): appends fail with
//     Unavailable while the health thread reopens the WAL the way a restart would (recovery of the
//     directory, replay into the table buffers), with backoff;
//   - slow disk: a WAL batch whose write + fdatasync runs longer than slow_sync_ms makes the node
//     not ready for a while;
//   - stuck table: a table whose commits keep failing is isolated: its rows leave memory (they stay
//     in the WAL), its appends fail with Unavailable, and it is retried with backoff or on demand.
//
// Plain structs; no thread-safety of their own (copies handed out by IngestService).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "env/env.h"

namespace nobus::table {

struct HealthOptions {
  // Free-space guard, on the disk holding the WAL and on the one holding the tables directory.
  // Admission pauses while a disk has less free than either pause watermark, or than the node's
  // uncommitted rows plus a WAL segment, and resumes once every disk has at least both resume
  // watermarks and that much. Both pause values 0 turn the guard off.
  uint64_t pause_below_free_bytes = 256ull << 20;
  double pause_below_free_percent = 0;  // 0: bytes only (a percentage of a big disk is a lot)
  uint64_t resume_above_free_bytes = 384ull << 20;
  double resume_above_free_percent = 0;
  // A WAL batch (write + fdatasync) running longer than this makes the node not ready; it stays
  // not ready until slow_disk_clear_ms passed without another slow batch.
  int64_t slow_sync_ms = 2000;
  int64_t slow_disk_clear_ms = 10'000;
  // A table whose commits have failed without a success for this long (or whose failing buffer
  // holds half of max_buffered_bytes) is stuck: isolated as described above.
  int64_t stuck_table_after_ms = 10'000;
  // Retry backoff of stuck tables and of WAL reopening (doubling from min to max).
  int64_t stuck_retry_min_ms = 5'000;
  int64_t stuck_retry_max_ms = 300'000;
  int64_t wal_reopen_min_ms = 1'000;
  int64_t wal_reopen_max_ms = 30'000;
  // How often the health thread looks at the disks and the WAL.
  int64_t check_interval_ms = 250;
};

// One disk the guard watches.
struct DiskReport {
  std::string path;  // the WAL directory or the tables directory
  env::DiskSpace space;
  uint64_t pause_below_bytes = 0;   // effective pause watermark on this disk
  uint64_t resume_above_bytes = 0;  // effective resume watermark
  std::string error;                // statvfs failed (the disk is then not judged)
};

// Why the node cannot take records and make them durable now.
struct NotReadyReason {
  std::string code;  // "wal_failed", "disk_low", "slow_disk" (the server adds "recovering",
                     // "draining")
  std::string message;
};

struct NodeHealth {
  std::vector<NotReadyReason> not_ready;  // empty: ready
  std::vector<DiskReport> disks;
  bool admission_paused = false;  // the free-space guard
  std::string wal_error;          // the WAL's failure being recovered from (empty: healthy)
  int64_t wal_reopens = 0;        // successful reopens since Open
  int64_t sync_running_ms = 0;    // the WAL batch being synced now (0: idle)
  int64_t last_sync_ms = 0;       // the last completed batch
  std::vector<std::string> stuck_tables;
};

// One table's commit health, for `nobus table status`.
struct TableHealth {
  std::string state = "ok";  // "ok", "failing" (commits fail, retried), "stuck" (isolated)
  int64_t consecutive_failures = 0;
  std::string last_error;
  int64_t failing_for_ms = 0;    // since the first failure without a success since
  int64_t buffered_bytes = 0;    // acknowledged rows in memory, waiting for a commit
  int64_t parked_records = 0;    // acknowledged WAL records out of memory (stuck tables)
  int64_t next_retry_in_ms = 0;  // stuck: when the next automatic retry runs
  int64_t version = -1;          // the latest version this node knows
};

}  // namespace nobus::table
