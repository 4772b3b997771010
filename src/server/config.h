// nobusd's configuration: defaults, the JSON config file (--config FILE) and validation. In the
// process lifecycle: nobusd.cc parses flags, LoadConfigFile reads the file, flags override it, then
// ValidateConfig refuses unsafe or malformed settings before anything binds or touches the disk.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorizer.h"
#include "auth/grants.h"
#include "common/status.h"
#include "mqtt/routes.h"

namespace nobus::server {

using auth::TokenGrant;

// The MQTT listener's default address when TLS is configured (config mqtt_listen left unset).
inline constexpr std::string_view kDefaultMqttTlsListen = "127.0.0.1:8883";

struct ServerConfig {
  std::string data_dir = "./data";
  // Where the Delta tables live (doc/operations.md "Tables on object storage"): empty =
  // <data_dir>/tables; a directory (for example a mount several nodes share); or
  // s3://bucket/prefix on an S3-compatible store, with the settings below (empty: from the AWS
  // environment; credentials only from there). The WAL always stays under data_dir.
  std::string table_root;
  std::string s3_endpoint;
  std::string s3_region;
  std::optional<bool> s3_path_style;
  std::string grpc_listen = "127.0.0.1:7070";
  std::string http_listen = "127.0.0.1:7071";
  // Optional second HTTP listener with only /livez, /readyz, /healthz and /metrics, on its own
  // thread: probes and scrapes there never wait behind ingest traffic. Plaintext; empty = none.
  std::string ops_listen;
  // The Kafka produce endpoint (doc/kafka.md); empty = off. When left at this default and the port
  // is taken, nobusd logs a warning and runs without it; an address given explicitly must bind.
  std::string kafka_listen = "127.0.0.1:9092";
  bool kafka_listen_explicit = false;
  // What Metadata tells Kafka clients to connect to (HOST:PORT); empty = the bound address.
  std::string kafka_advertised;
  // The MQTT endpoint (doc/mqtt.md); empty = off. The default is skipped like kafka_listen's;
  // with TLS it is kDefaultMqttTlsListen (MQTT over TLS: port 8883).
  std::string mqtt_listen = "127.0.0.1:1883";
  bool mqtt_listen_explicit = false;
  // Topic routing rules of the MQTT endpoint (mqtt/routes.h), tried in order.
  std::vector<mqtt::Route> mqtt_routes;
  int64_t flush_interval_ms = 1000;
  // Tables committed at once (table::IngestOptions::commit_threads).
  int64_t commit_threads = 8;
  // WAL group commit delay in microseconds (wal::WalOptions::group_delay_us; 0 = off).
  int64_t wal_group_delay_us = 0;
  // How commits compress their Parquet data files (parquet::ParseCompression: snappy, zstd,
  // zstd:LEVEL or none). Compaction rewrites files with zstd either way.
  std::string parquet_compression = "snappy";
  // Largest accepted request message (gRPC message or REST body). Larger gRPC messages fail the
  // call with INVALID_ARGUMENT; beyond grpc_hard_limit_bytes() gRPC itself answers
  // RESOURCE_EXHAUSTED (doc/server.md "Message size").
  int64_t max_message_bytes = 10 << 20;
  // Per stream: request bytes appended but not yet durable; reading pauses above it.
  int64_t max_inflight_bytes_per_stream = 64 << 20;
  // Node-wide: row bytes accepted but not yet committed to Delta tables. Streams wait (clients
  // feel backpressure) while it is reached; this is what bounds nobusd's memory under overload.
  int64_t max_buffered_bytes = 256 << 20;
  // Shutdown and close-all: how long streams get to finish their in-flight acks (also the
  // duration announced in close_stream_signal).
  int64_t drain_timeout_ms = 30000;
  // Table upkeep by the node itself (auto-compaction, auto-vacuum; table/ingest_service.h) and
  // how often it checks the open tables.
  bool maintenance = true;
  int64_t maintenance_interval_ms = 10000;
  // Fault handling (table/health.h): the free-space guard's watermarks on the disks of the WAL and
  // the tables (admission pauses below either pause value, resumes at or above both resume
  // values), the WAL batch duration that makes the node not ready, and how long a table's
  // commits may fail before it is isolated.
  int64_t disk_pause_below_free_bytes = 256ll << 20;
  double disk_pause_below_free_percent = 0;
  int64_t disk_resume_above_free_bytes = 384ll << 20;
  double disk_resume_above_free_percent = 0;
  int64_t slow_sync_ms = 2000;
  int64_t stuck_table_after_ms = 10000;
  // The HTTP listener (src/http/server.h): open connections in total and per client address
  // (0 = no per-client limit; behind a load balancer every connection comes from its address),
  // deadlines for a request's header (from the connection, or from its first byte on a
  // keep-alive connection) and body (from the header), how long a keep-alive connection may
  // wait idle (keep it above the load balancer's idle timeout), and the largest request header.
  int64_t http_max_connections = 16384;
  int64_t http_max_connections_per_client = 1024;
  int64_t http_header_timeout_ms = 10000;
  int64_t http_body_timeout_ms = 30000;
  int64_t http_idle_timeout_ms = 75000;
  int64_t http_max_header_bytes = 16384;
  std::string log_level = "info";
  // Static bearer tokens (the simple mode). With none, and no service principal (below), the
  // server is open: allowed on loopback addresses only, unless `insecure`.
  std::vector<TokenGrant> tokens;
  // TLS on both listeners (src/auth/tls.h): PEM files; empty = plaintext. A client CA turns on
  // mutual TLS. The files are re-read when they change and on SIGHUP.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Allows a non-loopback listener without TLS or without authentication (a trusted network).
  bool insecure = false;
  // OAuth (src/auth/authority.h): the auth directory with principals, grants and signing keys
  // (empty = <data_dir>/auth; nodes may share one), the access token lifetime, and principals
  // and grants declared here besides those `nobus principal create` / `nobus grant` write.
  std::string auth_dir;
  int64_t token_ttl_s = 3600;
  auth::Policy declared;

  // auth_dir, or its default under data_dir.
  std::string auth_directory() const;

  // gRPC's own receive limit: generous headroom over max_message_bytes so nobus, not the runtime,
  // rejects merely over-size messages with a clear INVALID_ARGUMENT.
  int64_t grpc_hard_limit_bytes() const;
};

// Reads a JSON config file. Keys: data_dir, grpc_listen, http_listen, ops_listen, kafka_listen,
// kafka_advertised, mqtt_listen, flush_interval_ms, commit_threads, wal_group_delay_us,
// parquet_compression,
// max_message_bytes, max_inflight_bytes_per_stream, max_buffered_bytes, drain_timeout_ms,
// maintenance, maintenance_interval_ms, disk_pause_below_free_bytes, disk_pause_below_free_percent,
// disk_resume_above_free_bytes, disk_resume_above_free_percent, slow_sync_ms,
// stuck_table_after_ms, http_max_connections, http_max_connections_per_client,
// http_header_timeout_ms, http_body_timeout_ms, http_idle_timeout_ms, http_max_header_bytes,
// log_level, tokens, tls_cert, tls_key, tls_client_ca, insecure, auth_dir,
// token_ttl_s, principals, grants. Unknown
// keys and wrong types are InvalidArgument naming the key ("config file x.json: key
// 'flush_interval_ms' must be a positive integer"); a missing file is NotFound.
[[nodiscard]] absl::StatusOr<ServerConfig> LoadConfigFile(std::string_view path);
// Same as LoadConfigFile on text (for tests); `origin` names the source in messages.
[[nodiscard]] absl::StatusOr<ServerConfig> ParseConfigJson(std::string_view text,
                                                           std::string_view origin);

// InvalidArgument for malformed listen addresses, bad limits or token patterns, half a TLS
// configuration, and (unless insecure) for listening on a non-loopback address without TLS or
// without authentication (static tokens, declared principals, or `principals_exist` in the auth
// directory); the message says how to configure them.
[[nodiscard]] absl::Status ValidateConfig(const ServerConfig& config,
                                          bool principals_exist = false);

// "host:port" or "[v6]:port" -> host (brackets kept for v6) and port (0-65535).
struct HostPort {
  std::string host;
  int port = 0;
};
[[nodiscard]] absl::StatusOr<HostPort> ParseHostPort(std::string_view text);
// 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackHost(std::string_view host);

}  // namespace nobus::server
