// nobusd's command line, config loading and signal handling (RunNobusd in server.h).
#include <pthread.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <memory>
#include <thread>

#include "CLI/CLI.hpp"
#include "auth/auth_dir.h"
#include "auth/tls.h"
#include "common/logging.h"
#include "server/server.h"

namespace nobus::server {
namespace {

struct Flags {
  std::string config_file;
  std::string data_dir;
  std::string table_root;
  std::string s3_endpoint;
  std::string s3_region;
  bool s3_path_style = false;
  std::string grpc_listen;
  std::string http_listen;
  std::string ops_listen;
  std::string kafka_listen;
  std::string mqtt_listen;
  int64_t flush_interval_ms = 0;
  int64_t commit_threads = 0;
  int64_t wal_group_delay_us = 0;
  std::string parquet_compression;
  std::string log_level;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  bool insecure = false;
  std::string auth_dir;
  int64_t token_ttl_s = 0;
  bool no_maintenance = false;
  int64_t maintenance_interval_ms = 0;
};

void AddFlags(CLI::App& app, Flags* f) {
  app.add_option("--config", f->config_file,
                 "JSON config file (data_dir, grpc_listen, http_listen, flush_interval_ms, "
                 "max_message_bytes, max_buffered_bytes (memory bound, default 256 MiB), tokens, "
                 "...; see doc/server.md). Flags override it.");
  app.add_option("--data-dir", f->data_dir,
                 "Directory holding the WAL (and the Delta tables, unless --table-root) "
                 "(default ./data)");
  app.add_option("--table-root", f->table_root,
                 "Where the Delta tables live: a directory (e.g. a mount nodes share) or "
                 "s3://BUCKET/PREFIX on an S3-compatible store (credentials from "
                 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials; "
                 "doc/operations.md). Default <data-dir>/tables");
  app.add_option("--s3-endpoint", f->s3_endpoint,
                 "S3 endpoint URL for an s3:// --table-root, e.g. http://127.0.0.1:7480 (default "
                 "AWS_ENDPOINT_URL, else AWS S3 in the region)");
  app.add_option("--s3-region", f->s3_region,
                 "Region signed into S3 requests (default AWS_REGION, else us-east-1)");
  app.add_option("--s3-path-style", f->s3_path_style,
                 "true: ENDPOINT/BUCKET/KEY URLs (RGW, MinIO); false: BUCKET.ENDPOINT/KEY (default: "
                 "true with an explicit endpoint, false for AWS)");
  app.add_option(
      "--grpc-listen", f->grpc_listen,
      "HOST:PORT of the Zerobus gRPC endpoint (default 127.0.0.1:7070; port 0 picks one)");
  app.add_option("--http-listen", f->http_listen,
                 "HOST:PORT of the HTTP API: table API, REST ingest, /healthz, /metrics "
                 "(default 127.0.0.1:7071; port 0 picks one)");
  app.add_option("--ops-listen", f->ops_listen,
                 "HOST:PORT of an extra plaintext listener with only /livez, /readyz, /healthz and "
                 "/metrics on its own thread, for probes and scrapes that must not wait behind "
                 "ingest (default: none)");
  app.add_option("--kafka-listen", f->kafka_listen,
                 "HOST:PORT of the Kafka produce endpoint (topic = table name, value = a JSON row; "
                 "doc/kafka.md). Default 127.0.0.1:9092 (skipped with a warning if that port is "
                 "taken); \"\" turns it off; port 0 picks one");
  app.add_option("--mqtt-listen", f->mqtt_listen,
                 "HOST:PORT of the MQTT endpoint (5.0 and 3.1.1; topic = table name, payload = a "
                 "JSON row; doc/mqtt.md). Default 127.0.0.1:1883, with --tls-cert 127.0.0.1:8883 "
                 "(skipped with a warning if that port is taken); \"\" turns it off; port 0 "
                 "picks one");
  app.add_option("--flush-interval-ms", f->flush_interval_ms,
                 "How often buffered rows are committed to their Delta tables (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--commit-threads", f->commit_threads,
                 "Tables committed at once, oldest buffered row first (default 8; at most 256)")
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  app.add_option("--wal-group-delay-us", f->wal_group_delay_us,
                 "WAL group commit delay: wait up to this long for more requests before each "
                 "fdatasync (default 0). Many small requests: fewer syncs and less CPU per "
                 "request, at up to this much more ack latency (doc/server.md)")
      ->check(CLI::Range(int64_t{0}, int64_t{100'000}));
  app.add_option("--parquet-compression", f->parquet_compression,
                 "How commits compress their Parquet files: snappy (default; the cheapest), zstd, "
                 "zstd:LEVEL (-7 to 22) or none. Compaction rewrites files with zstd "
                 "(doc/server.md)");
  app.add_option("--log-level", f->log_level, "debug, info, warn or error (default info)");
  app.add_option("--tls-cert", f->tls_cert,
                 "PEM certificate chain: serve TLS on both listeners (https://; try `nobus "
                 "dev-certs DIR`). Re-read when the file changes and on SIGHUP");
  app.add_option("--tls-key", f->tls_key, "PEM private key of --tls-cert");
  app.add_option("--tls-client-ca", f->tls_client_ca,
                 "PEM CA bundle: require client certificates signed by it (mutual TLS)");
  app.add_flag("--insecure", f->insecure,
               "Allow a non-loopback listener without TLS or without authentication (only on a "
               "trusted network)");
  app.add_option("--auth-dir", f->auth_dir,
                 "Service principals, grants and token signing keys (default <data-dir>/auth; "
                 "nodes of one deployment may share it). Managed with `nobus principal`, `nobus "
                 "grant`, `nobus key`");
  app.add_option("--token-ttl-s", f->token_ttl_s,
                 "Lifetime of the access tokens POST /oidc/v1/token issues (default 3600)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}));
  app.add_flag("--no-maintenance", f->no_maintenance,
               "Do not compact or vacuum tables in the background (`nobus table optimize` and "
               "`vacuum` still work)");
  app.add_option("--maintenance-interval-ms", f->maintenance_interval_ms,
                 "How often open tables are checked for small files to compact and a due vacuum "
                 "(default 10000)")
      ->check(CLI::PositiveNumber);
}

// Loads the file, applies flags over it, validates. Prints the error and returns false on failure.
bool BuildConfig(const CLI::App& app, const Flags& f, ServerConfig* config) {
  if (!f.config_file.empty()) {
    absl::StatusOr<ServerConfig> loaded = LoadConfigFile(f.config_file);
    if (!loaded.ok()) {
      std::fprintf(stderr, "nobusd: %s\n", std::string(loaded.status().message()).c_str());
      return false;
    }
    *config = std::move(*loaded);
  }
  if (app.count("--data-dir")) config->data_dir = f.data_dir;
  if (app.count("--table-root")) config->table_root = f.table_root;
  if (app.count("--s3-endpoint")) config->s3_endpoint = f.s3_endpoint;
  if (app.count("--s3-region")) config->s3_region = f.s3_region;
  if (app.count("--s3-path-style")) config->s3_path_style = f.s3_path_style;
  if (app.count("--grpc-listen")) config->grpc_listen = f.grpc_listen;
  if (app.count("--http-listen")) config->http_listen = f.http_listen;
  if (app.count("--ops-listen")) config->ops_listen = f.ops_listen;
  if (app.count("--kafka-listen")) {
    config->kafka_listen = f.kafka_listen;
    config->kafka_listen_explicit = true;
  }
  if (app.count("--mqtt-listen")) {
    config->mqtt_listen = f.mqtt_listen;
    config->mqtt_listen_explicit = true;
  }
  if (app.count("--flush-interval-ms")) config->flush_interval_ms = f.flush_interval_ms;
  if (app.count("--commit-threads")) config->commit_threads = f.commit_threads;
  if (app.count("--wal-group-delay-us")) config->wal_group_delay_us = f.wal_group_delay_us;
  if (app.count("--parquet-compression")) config->parquet_compression = f.parquet_compression;
  if (app.count("--log-level")) config->log_level = f.log_level;
  if (app.count("--tls-cert")) config->tls_cert = f.tls_cert;
  if (app.count("--tls-key")) config->tls_key = f.tls_key;
  if (app.count("--tls-client-ca")) config->tls_client_ca = f.tls_client_ca;
  if (f.insecure) config->insecure = true;
  if (app.count("--auth-dir")) config->auth_dir = f.auth_dir;
  if (app.count("--token-ttl-s")) config->token_ttl_s = f.token_ttl_s;
  if (f.no_maintenance) config->maintenance = false;
  if (app.count("--maintenance-interval-ms"))
    config->maintenance_interval_ms = f.maintenance_interval_ms;
  absl::StatusOr<auth::Policy> existing =
      auth::LoadPolicyFile(env::PosixFileSystem(), config->auth_directory());
  absl::Status valid =
      ValidateConfig(*config, existing.ok() && !existing->principals.empty());
  logging::Level level;
  if (valid.ok() && !logging::ParseLevel(config->log_level, &level))
    valid = absl::InvalidArgumentError(
        Cat("log_level '", config->log_level, "' must be debug, info, warn or error"));
  if (valid.ok() && !config->tls_cert.empty())
    valid = auth::CheckTlsFiles({config->tls_cert, config->tls_key, config->tls_client_ca});
  if (!valid.ok()) {
    std::fprintf(stderr, "nobusd: %s\n", std::string(valid.message()).c_str());
    return false;
  }
  logging::Init(level);
  return true;
}

int WaitForSignal(const sigset_t& set) {
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

// Every HTTP connection is a file descriptor: take the hard limit, and say so when even that is
// short of http_max_connections plus room for the WAL, tables and gRPC.
void RaiseOpenFilesLimit(const ServerConfig& config) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  const rlim_t wanted = static_cast<rlim_t>(config.http_max_connections) + 1024;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted)
    NOBUS_LOG_WARN(
        "open-files limit {} is below http_max_connections ({}) + 1024: connections beyond it "
        "fail to be accepted; raise it (ulimit -n, systemd LimitNOFILE=) or lower "
        "http_max_connections",
        limit.rlim_cur, config.http_max_connections);
}

int Serve(ServerConfig config, const sigset_t& signals) {
  RaiseOpenFilesLimit(config);
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(config), env::PosixFileSystem(), env::SystemClock());
  if (!server.ok()) {
    std::fprintf(stderr, "nobusd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::string ops =
      (*server)->ops_address().empty() ? "" : Cat(" ops=", (*server)->ops_address());
  if (!(*server)->kafka_address().empty()) ops += Cat(" kafka=", (*server)->kafka_address());
  if (!(*server)->mqtt_address().empty()) ops += Cat(" mqtt=", (*server)->mqtt_address());
  std::printf("nobusd listening grpc=%s http=%s%s\n", (*server)->grpc_address().c_str(),
              (*server)->http_address().c_str(), ops.c_str());
  std::fflush(stdout);
  NOBUS_LOG_INFO("nobusd listening grpc={} http={}{}", (*server)->grpc_address(),
                 (*server)->http_address(), ops);
  // Signals are handled on this dedicated thread; recovery may take a while and must not block
  // a shutdown request. A first signal drains; a second exits at once.
  auto stop = std::make_shared<std::promise<void>>();
  std::future<void> stop_requested = stop->get_future();
  std::thread watcher([stop, signals, srv = server->get()] {
    bool stopping = false;
    for (;;) {
      int sig = WaitForSignal(signals);
      if (sig == SIGHUP) {
        if (stopping) continue;
        absl::Status reloaded = srv->Reload();
        if (!reloaded.ok()) NOBUS_LOG_ERROR("SIGHUP reload failed: {}", reloaded.ToString());
        continue;
      }
      if (stopping) {
        std::fprintf(stderr, "nobusd: second signal %d: exiting immediately\n", sig);
        _exit(128 + sig);
      }
      NOBUS_LOG_INFO("signal={} received: draining (send it again to exit immediately)", sig);
      stopping = true;
      stop->set_value();
    }
  });
  watcher.detach();
  absl::Status recovered = (*server)->Recover();
  if (!recovered.ok()) {
    NOBUS_LOG_ERROR("recovery failed: {}", recovered.ToString());
    std::fprintf(stderr, "nobusd: %s\n", std::string(recovered.message()).c_str());
    _exit(1);  // the listeners' threads are running; do not attempt a graceful stop
  }
  stop_requested.wait();
  absl::Status stopped = (*server)->Shutdown();
  if (!stopped.ok()) {
    std::fprintf(stderr, "nobusd: shutdown: %s\n", std::string(stopped.message()).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int RunNobusd(int argc, char** argv) {
  CLI::App app{
      "nobusd: the nobus ingestion server. Speaks the Databricks Zerobus Ingest gRPC protocol "
      "(official SDKs work unchanged), makes records durable in a write-ahead log before acking "
      "them and commits them to Delta Lake tables under --data-dir (or --table-root: a directory or s3://BUCKET/PREFIX).\n"
      "On start it prints 'nobusd listening grpc=HOST:PORT http=HOST:PORT'. SIGTERM/SIGINT drain "
      "gracefully; a second signal exits at once; SIGHUP re-reads TLS files and the auth "
      "directory.\n"
      "Security: listening beyond loopback needs TLS (--tls-cert/--tls-key) and authentication "
      "(service principals or static tokens), or --insecure. doc/security.md."};
  Flags flags;
  AddFlags(app, &flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  ServerConfig config;
  if (!BuildConfig(app, flags, &config)) return 2;
  // A peer that hangs up while we write must not kill the server: OpenSSL writes to sockets with
  // write(2), which raises SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  // Block the signals in every thread (threads inherit the mask); the watcher takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Serve(std::move(config), signals);
}

}  // namespace nobus::server
