// Test harness for SDK tests against real nobusd processes ($NOBUS_BIN_DIR/nobusd) on loopback:
// start (port 0, or fixed ports to restart "the same" server), SIGKILL, table creation and
// close-all through the HTTP API, and reading what landed in a Delta table (DuckDB through
// test/delta/read_table.mjs, plus per-file row order through test/readers). Test-only.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace nobus::client::testing {

struct NobusdFlags {
  std::string data_dir;                      // required
  std::string grpc_listen = "127.0.0.1:0";
  std::string http_listen = "127.0.0.1:0";
  int64_t flush_interval_ms = 200;
};

class NobusdProcess {
 public:
  // Starts nobusd and waits for its "nobusd listening grpc=... http=..." line and for /healthz.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<NobusdProcess>> Start(NobusdFlags flags);
  ~NobusdProcess();  // SIGKILL if still running

  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }
  std::string endpoint() const { return "http://" + grpc_address_; }
  // SIGKILL and reap (a crash: nothing is flushed or drained).
  void Kill();
  // nobusd's stderr so far (for failure messages).
  std::string Log() const;

  // POST /api/2.1/unity-catalog/tables with `columns` like {{"seq","bigint",false}, ...}.
  struct Column {
    std::string name;
    std::string type_text;
    bool nullable = true;
  };
  [[nodiscard]] absl::Status CreateTable(const std::string& full_name,
                                         const std::vector<Column>& columns) const;
  // POST /admin/v1/streams/close-all: every open stream gets close_stream_signal.
  [[nodiscard]] absl::StatusOr<nlohmann::json> CloseAllStreams() const;

 private:
  pid_t pid_ = -1;
  std::string grpc_address_;
  std::string http_address_;
  std::string log_path_;
};

// The rows of a table under `data_dir` as DuckDB reads its latest snapshot: JSON objects.
[[nodiscard]] absl::StatusOr<std::vector<nlohmann::json>> ReadTableRows(
    const std::string& data_dir, const std::string& full_name);

// The rows of each data file of the table in file order, files in the order their commits
// added them (one inner vector per file).
[[nodiscard]] absl::StatusOr<std::vector<std::vector<nlohmann::json>>> ReadRowsPerFile(
    const std::string& data_dir, const std::string& full_name);

// A fresh temporary directory, removed by the destructor.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace nobus::client::testing
