// `nobus ingest` (ingest_command.cc): the flags and what its two modes share. The default mode
// batches lines and skips bad ones (at-least-once: a reconnect may land a batch twice). The
// exactly-once mode (ingest_exactly_once.cc; --stream-id-file or --stream-id) writes one line per
// request on a persistent stream whose offsets name the file's non-blank lines, so a run that is
// interrupted (killed, server gone) is completed by running the same command again, without
// duplicates.
//
// Thread-safety: plain values and pure functions, except RunExactlyOnceIngest (one per process).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "env/env.h"

namespace nobus::cli {

struct IngestFlags {
  std::string table;
  std::string file = "-";
  std::string server = "http://127.0.0.1:7070";
  std::string token;
  int64_t batch_size = 1000;
  // Exactly-once mode: resume this id (--stream-id), or the id stored in this file, creating a
  // stream and the file when it does not exist (--stream-id-file).
  std::string stream_id;
  std::string stream_id_file;
  bool wait_committed = false;

  bool exactly_once() const { return !stream_id.empty() || !stream_id_file.empty(); }
};

// The SDK's or server's status for the user, with what to do next (unknown table, credentials,
// unreachable server).
std::string ExplainIngestError(const absl::Status& st, const IngestFlags& flags);

// Runs the exactly-once mode; returns the exit code (0 every line landed, 1 stopped at a line
// that cannot land or at a server error (run again to continue), 2 usage error).
int RunExactlyOnceIngest(const IngestFlags& flags);

// The stream id stored in `path`; empty when the file does not exist or holds only whitespace.
[[nodiscard]] absl::StatusOr<std::string> ReadStreamIdFile(env::FileSystem* fs,
                                                           const std::string& path);
// Stores `id` in `path` (a synced temporary file renamed over it: whole and durable on OK).
[[nodiscard]] absl::Status WriteStreamIdFile(env::FileSystem* fs, const std::string& path,
                                             const std::string& id);

}  // namespace nobus::cli
