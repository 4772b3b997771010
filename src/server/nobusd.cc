// nobusd's command line, config loading and signal handling (RunNobusd in server.h).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <future>
#include <memory>
#include <thread>

#include "CLI/CLI.hpp"
#include "common/logging.h"
#include "server/server.h"

namespace nobus::server {
namespace {

struct Flags {
  std::string config_file;
  std::string data_dir;
  std::string grpc_listen;
  std::string http_listen;
  int64_t flush_interval_ms = 0;
  std::string log_level;
};

void AddFlags(CLI::App& app, Flags* f) {
  app.add_option("--config", f->config_file,
                 "JSON config file (data_dir, grpc_listen, http_listen, flush_interval_ms, "
                 "max_message_bytes, max_buffered_bytes (memory bound, default 256 MiB), tokens, "
                 "...; see doc/server.md). Flags override it.");
  app.add_option("--data-dir", f->data_dir,
                 "Directory holding the WAL and the Delta tables (default ./data)");
  app.add_option(
      "--grpc-listen", f->grpc_listen,
      "HOST:PORT of the Zerobus gRPC endpoint (default 127.0.0.1:7070; port 0 picks one)");
  app.add_option("--http-listen", f->http_listen,
                 "HOST:PORT of the HTTP API: table API, REST ingest, /healthz, /metrics "
                 "(default 127.0.0.1:7071; port 0 picks one)");
  app.add_option("--flush-interval-ms", f->flush_interval_ms,
                 "How often buffered rows are committed to their Delta tables (default 1000)")
      ->check(CLI::PositiveNumber);
  app.add_option("--log-level", f->log_level, "debug, info, warn or error (default info)");
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
  if (app.count("--grpc-listen")) config->grpc_listen = f.grpc_listen;
  if (app.count("--http-listen")) config->http_listen = f.http_listen;
  if (app.count("--flush-interval-ms")) config->flush_interval_ms = f.flush_interval_ms;
  if (app.count("--log-level")) config->log_level = f.log_level;
  absl::Status valid = ValidateConfig(*config);
  logging::Level level;
  if (valid.ok() && !logging::ParseLevel(config->log_level, &level))
    valid = absl::InvalidArgumentError(
        Cat("log_level '", config->log_level, "' must be debug, info, warn or error"));
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

int Serve(ServerConfig config, const sigset_t& signals) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(config), env::PosixFileSystem(), env::SystemClock());
  if (!server.ok()) {
    std::fprintf(stderr, "nobusd: %s\n", std::string(server.status().message()).c_str());
    return 1;
  }
  std::printf("nobusd listening grpc=%s http=%s\n", (*server)->grpc_address().c_str(),
              (*server)->http_address().c_str());
  std::fflush(stdout);
  NOBUS_LOG_INFO("nobusd listening grpc={} http={}", (*server)->grpc_address(),
                 (*server)->http_address());
  // Signals are handled on this dedicated thread; recovery may take a while and must not block
  // a shutdown request. A first signal drains; a second exits at once.
  auto stop = std::make_shared<std::promise<void>>();
  std::future<void> stop_requested = stop->get_future();
  std::thread watcher([stop, signals] {
    int sig = WaitForSignal(signals);
    NOBUS_LOG_INFO("signal={} received: draining (send it again to exit immediately)", sig);
    stop->set_value();
    sig = WaitForSignal(signals);
    std::fprintf(stderr, "nobusd: second signal %d: exiting immediately\n", sig);
    _exit(128 + sig);
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
      "them and commits them to Delta Lake tables under --data-dir.\n"
      "On start it prints 'nobusd listening grpc=HOST:PORT http=HOST:PORT'. SIGTERM/SIGINT drain "
      "gracefully; a second signal exits at once."};
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
  // Block the signals in every thread (threads inherit the mask); the watcher takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return Serve(std::move(config), signals);
}

}  // namespace nobus::server
