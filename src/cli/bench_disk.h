// The raw-disk baseline of `nobus bench --disk-baseline DIR`: what the disk under nobusd's WAL can
// do with no server in the way. One thread writes `chunk_bytes` at a time into 64 MiB files
// preallocated like WAL segments (fallocate, not zero-filled: nobusd's default) and fdatasyncs
// after every chunk, for a fixed time; a full file is replaced by the next. This is the approach of
// bench/wal_bench.cc's BM_RawWriteSync: the ceiling a group-commit WAL that syncs `chunk_bytes`
// per fdatasync is compared against. Run it on the same file system as nobusd's data directory.
//
// Thread-safety: a plain function; the files it creates under `dir` are deleted before it returns.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace nobus::cli::bench {

struct DiskFigures {
  int64_t chunk_bytes = 0;
  int64_t syncs = 0;
  double seconds = 0;
  double mb_per_s = 0;      // chunk bytes made durable per second (1 MB = 10^6 bytes)
  double sync_p50_ms = 0;   // one write + fdatasync
  double sync_p99_ms = 0;
};

[[nodiscard]] absl::StatusOr<DiskFigures> MeasureWriteSync(const std::string& dir,
                                                           int64_t chunk_bytes, double seconds);

}  // namespace nobus::cli::bench
