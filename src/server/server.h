// Front door of src/server: nobusd, the ingestion server. It wires the front ends — the Zerobus
// gRPC service (EphemeralStream), the HTTP API (table API, REST ingest, /healthz, /metrics, admin)
// — to one table::IngestService (WAL + table buffers + Delta flusher) under a data directory.
// Operations (flags, config file, auth, endpoints, metrics): doc/server.md.
//
// Lifecycle: Start binds both listeners (streams get UNAVAILABLE and /healthz 503 until
// recovery ends) -> Recover opens the IngestService (WAL replay) and starts serving -> Shutdown
// drains: no new streams, close_stream_signal to open streams, their in-flight requests are acked,
// they end with UNAVAILABLE, the listeners stop, and every table is flushed and committed.
// Thread-safety: Start/Recover/Shutdown from one controlling thread; accessors from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/status.h"
#include "env/env.h"
#include "server/config.h"

namespace grpc {
class Server;
}

namespace nobus::table {
class IngestService;
struct IngestOptions;
}

namespace nobus::kafka {
class Broker;
}  // namespace nobus::kafka

namespace nobus::mqtt {
class Endpoint;
}  // namespace nobus::mqtt

namespace nobus::net {
class FramedServer;
}  // namespace nobus::net

namespace nobus::auth {
class Authority;
class HttpTls;
}

namespace nobus::server {

class HttpApi;
class ServerContext;
class StreamRegistry;
class ZerobusService;

class Server {
 public:
  // `config` must have passed ValidateConfig. Borrows fs and clock.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(ServerConfig config,
                                                                     env::FileSystem* fs,
                                                                     env::Clock* clock);
  ~Server();

  // Bound addresses ("127.0.0.1:40123"), with the real port when 0 was asked for.
  const std::string& grpc_address() const { return grpc_address_; }
  const std::string& http_address() const { return http_address_; }
  // Empty without ops_listen.
  const std::string& ops_address() const { return ops_address_; }
  const std::string& kafka_address() const { return kafka_address_; }  // empty: no Kafka endpoint
  const std::string& mqtt_address() const { return mqtt_address_; }    // empty: no MQTT endpoint

  // Opens the data directory (WAL recovery) and starts accepting streams and table requests.
  [[nodiscard]] absl::Status Recover();
  // Points `options` at config().table_root when set (opening the object store for s3://).
  [[nodiscard]] absl::Status OpenTableRoot(table::IngestOptions* options);
  // Graceful stop, as described above. Idempotent.
  [[nodiscard]] absl::Status Shutdown();
  // SIGHUP: re-reads the TLS certificate and key, and the auth directory. Open streams stay.
  [[nodiscard]] absl::Status Reload();

 private:
  Server(ServerConfig config, env::FileSystem* fs, env::Clock* clock,
         std::unique_ptr<auth::Authority> authority);
  absl::Status StartGrpc();
  absl::Status StartHttp();
  absl::Status StartKafka();
  absl::Status StartMqtt();
  // Binds a binary-protocol listener to `listen` (a *_listen value); the caller serves it. A default
  // address that cannot be bound turns the endpoint off with a warning (returns "" and resets
  // `server`); an explicit one is an error. Returns the bound "host:port".
  absl::StatusOr<std::string> BindListener(std::unique_ptr<net::FramedServer>& server,
                                           const std::string& listen, bool is_explicit,
                                           std::string_view key);
  // Once a second: streams whose access token expired or was revoked get close_stream_signal.
  void SweepStreams();

  env::FileSystem* const fs_;
  env::Clock* const clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<auth::Authority> authority_;
  std::unique_ptr<auth::HttpTls> http_tls_;  // null without TLS
  std::unique_ptr<ServerContext> context_;
  std::unique_ptr<StreamRegistry> streams_;
  std::unique_ptr<ZerobusService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<HttpApi> http_;
  std::unique_ptr<HttpApi> ops_;  // null without ops_listen
  std::unique_ptr<kafka::Broker> kafka_broker_;
  std::unique_ptr<net::FramedServer> kafka_;  // null without the Kafka endpoint
  std::unique_ptr<mqtt::Endpoint> mqtt_endpoint_;
  std::unique_ptr<net::FramedServer> mqtt_;  // null without the MQTT endpoint
  // The tables' FileSystem when table_root is on an object store (declared before ingest_, which
  // borrows it).
  std::unique_ptr<env::FileSystem> tables_fs_;
  std::unique_ptr<table::IngestService> ingest_;
  std::string grpc_address_;
  std::string http_address_;
  std::string ops_address_;
  std::string kafka_address_;
  std::string mqtt_address_;
  bool shut_down_ = false;
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stop_sweep_ = false;  // guarded by sweep_mu_
  std::thread sweeper_;
};

// nobusd's main(): flags (CLI11), config file, signals (SIGTERM/SIGINT drain; a second signal
// exits at once). Prints "nobusd listening grpc=HOST:PORT http=HOST:PORT" (and " ops=HOST:PORT"
// with ops_listen, " kafka=HOST:PORT" with the Kafka endpoint, " mqtt=HOST:PORT" with the MQTT
// endpoint) on stdout once bound.
// Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad flags or config.
int RunNobusd(int argc, char** argv);

}  // namespace nobus::server
