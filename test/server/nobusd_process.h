// Test harness: real nobusd processes ($NOBUS_BIN_DIR/nobusd, default build/bin) on loopback with
// a temporary data directory, shared by the integration (test/server), crash (test/crash), SDK
// (test/client) and CLI (test/cli) tests. Starts nobusd on port 0 (or on given addresses, to
// restart "the same" server), parses its "nobusd listening grpc=HOST:PORT http=HOST:PORT" line,
// waits for /healthz, signals and reaps it; plus HTTP and gRPC helpers to talk to it and readers
// of what landed in its Delta tables (DuckDB through test/delta/read_table.mjs, per-file row order
// through test/readers/read_parquet.mjs; both run from the repo root).
//
// A Nobusd owns its child process: the destructor SIGKILLs and reaps it if still running. Its
// methods are for one thread at a time; the free functions are thread-safe. Test-only.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "databricks/zerobus/zerobus.grpc.pb.h"

namespace nobus::server::testing {

namespace zb = ::databricks::zerobus;

struct NobusdOptions {
  std::string data_dir;     // required; nobusd's stderr is appended to <data_dir>.nobusd.log
  std::string config_json;  // written to <data_dir>.config.json and passed as --config
  // Port 0 picks free ports; a restart may pass the previous addresses to come back on them.
  std::string grpc_listen = "127.0.0.1:0";
  std::string http_listen = "127.0.0.1:0";
  // The Kafka endpoint: a free port by default, so parallel test servers never compete for
  // nobusd's default 9092; "" turns it off.
  std::string kafka_listen = "127.0.0.1:0";
  int64_t flush_interval_ms = 200;
  std::vector<std::string> extra_args;
  // With TLS (pass --tls-cert/--tls-key in extra_args): the CA to trust; the harness then talks
  // https and gRPC over TLS.
  std::string tls_ca_file;
  // With mutual TLS: the client certificate and key the harness presents.
  std::string tls_client_cert_file;
  std::string tls_client_key_file;
};

class Nobusd {
 public:
  // Starts nobusd and waits for its listening line and for /healthz to answer 200 (recovery runs
  // after the listeners are up).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Nobusd>> Start(NobusdOptions options);
  // Only forks and execs nobusd, waiting for nothing (e.g. to kill it while it recovers); the
  // addresses stay empty.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Nobusd>> Spawn(NobusdOptions options);
  // Runs nobusd with `args` expecting it to exit on its own (bad flags or config); returns its exit
  // code and sets *output to its stdout+stderr.
  static int RunToExit(const std::vector<std::string>& args, std::string* output);
  ~Nobusd();  // SIGKILL if still running
  Nobusd(const Nobusd&) = delete;
  Nobusd& operator=(const Nobusd&) = delete;

  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }
  // Empty unless nobusd runs an ops listener (ops_listen).
  const std::string& ops_address() const { return ops_address_; }
  // Empty when nobusd runs no Kafka endpoint.
  const std::string& kafka_address() const { return kafka_address_; }
  // The gRPC address as SDK and CLI endpoints take it.
  std::string endpoint() const { return (tls_ca_file_.empty() ? "http://" : "https://") + grpc_address_; }
  const std::string& tls_ca_file() const { return tls_ca_file_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }
  // Sends `sig` and waits for the exit; returns the exit code (128 + signal if killed).
  // SignalAndWait(SIGKILL) is a crash: nothing is flushed or drained.
  int SignalAndWait(int sig);
  void Signal(int sig);
  int Wait();
  // Everything nobusd logged so far (stderr).
  std::string Log() const;

  std::unique_ptr<zb::Zerobus::Stub> NewStub() const;
  httplib::Client Http() const;

 private:
  Nobusd() = default;

  pid_t pid_ = -1;
  int stdout_fd_ = -1;  // kept open so nobusd never writes into a closed pipe
  std::string grpc_address_;
  std::string http_address_;
  std::string ops_address_;
  std::string kafka_address_;
  std::string data_dir_;
  std::string log_path_;
  std::string tls_ca_file_;
  std::string tls_client_cert_file_;
  std::string tls_client_key_file_;
};

// HTTP helpers against the table and admin APIs: the parsed JSON body (or the raw body under
// "raw") and the status (0 when there was no reply).
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

// The table's rows read by DuckDB from its latest Delta snapshot, as JSON strings.
[[nodiscard]] absl::StatusOr<std::vector<std::string>> ReadRows(const std::string& data_dir,
                                                                const std::string& full_name);
// The same rows parsed into JSON objects.
[[nodiscard]] absl::StatusOr<std::vector<nlohmann::json>> ReadJsonRows(
    const std::string& data_dir, const std::string& full_name);
// The rows of each data file written by ingest (dataChange true: compaction outputs, which merge
// files in size order, are left out) in file order, files in the order their commits added them
// (one inner vector per file).
[[nodiscard]] absl::StatusOr<std::vector<std::vector<nlohmann::json>>> ReadRowsPerFile(
    const std::string& data_dir, const std::string& full_name);
// The table root under a data dir.
std::string TableRoot(const std::string& data_dir, const std::string& full_name);

}  // namespace nobus::server::testing
