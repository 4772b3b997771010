// Test harness: a real nobusd process (NOBUS_BIN_DIR/nobusd) on loopback with port 0 and a
// temporary data directory, plus small HTTP and gRPC helpers to talk to it. Test-only.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::server::testing {

namespace zb = ::databricks::zerobus;

struct NobusdOptions {
  std::string data_dir;     // required
  std::string config_json;  // written to <data_dir>.config.json and passed as --config
  int64_t flush_interval_ms = 200;
  std::vector<std::string> extra_args;
};

class Nobusd {
 public:
  // Starts nobusd and waits for its listening line and for /healthz to answer 200.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Nobusd>> Start(NobusdOptions options);
  // Runs nobusd with `args` expecting it to exit on its own (bad flags or config); returns its exit
  // code and sets *output to its stdout+stderr.
  static int RunToExit(const std::vector<std::string>& args, std::string* output);
  ~Nobusd();  // SIGKILL if still running

  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit; returns the exit code (128 + signal if killed).
  int SignalAndWait(int sig);
  void Signal(int sig);
  int Wait();
  // Everything nobusd logged so far (stderr).
  std::string Log() const;

  std::unique_ptr<zb::Zerobus::Stub> NewStub() const;
  httplib::Client Http() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string grpc_address_;
  std::string http_address_;
  std::string data_dir_;
  std::string log_path_;
};

// HTTP helpers against the table API: the parsed JSON body (or the raw body under "raw") and the
// status.
struct HttpReply {
  int status = 0;
  nlohmann::json body;
};
HttpReply HttpCall(const Nobusd& server, const std::string& method, const std::string& path,
                   const std::string& body = "", const std::string& token = "");
// POST /api/2.1/unity-catalog/tables from a DDL column list; returns the reply.
HttpReply CreateTable(const Nobusd& server, const std::string& full_name, const std::string& ddl,
                      const std::vector<std::string>& partition_by = {},
                      const std::string& token = "");

// The table's rows read by DuckDB from its latest Delta snapshot: sorted JSON strings.
absl::StatusOr<std::vector<std::string>> ReadRows(const std::string& data_dir,
                                                  const std::string& full_name);
// The table root under a data dir.
std::string TableRoot(const std::string& data_dir, const std::string& full_name);

}  // namespace nobus::server::testing
