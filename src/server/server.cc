#include "server/server.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>

#include "auth/authority.h"
#include "auth/tls.h"
#include "kafka/broker.h"
#include "kafka/server.h"
#include "mqtt/endpoint.h"
#include "objstore/s3_location.h"
#include "parquet/compression.h"
#include "common/logging.h"
#include "server/context.h"
#include "server/http_api.h"
#include "server/stream_registry.h"
#include "server/zerobus_service.h"
#include "table/ingest_service.h"

namespace nobus::server {

Server::Server(ServerConfig config, env::FileSystem* fs, env::Clock* clock,
               std::unique_ptr<auth::Authority> authority)
    : fs_(fs),
      clock_(clock),
      authority_(std::move(authority)),
      context_(std::make_unique<ServerContext>(std::move(config), &metrics_, authority_.get())),
      streams_(std::make_unique<StreamRegistry>()) {}

Server::~Server() {
  absl::Status s = Shutdown();
  if (!s.ok()) NOBUS_LOG_ERROR("shutdown failed: {}", s.ToString());
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerConfig config, env::FileSystem* fs,
                                                      env::Clock* clock) {
  auth::AuthorityOptions auth_options;
  auth_options.dir = config.auth_directory();
  auth_options.token_ttl_s = config.token_ttl_s;
  auth_options.declared = config.declared;
  absl::StatusOr<std::unique_ptr<auth::Authority>> authority =
      auth::Authority::Open(fs, clock, std::move(auth_options));
  if (!authority.ok())
    return Annotate(authority.status(), Cat("cannot open the auth directory ",
                                            config.auth_directory()));
  auth::TlsFiles tls{config.tls_cert, config.tls_key, config.tls_client_ca};
  std::unique_ptr<auth::HttpTls> http_tls;
  if (tls.enabled()) {
    NOBUS_RETURN_IF_ERROR(auth::CheckTlsFiles(tls));
    NOBUS_ASSIGN_OR_RETURN(http_tls, auth::HttpTls::Load(tls));
  }
  std::unique_ptr<Server> server(new Server(std::move(config), fs, clock, std::move(*authority)));
  server->http_tls_ = std::move(http_tls);
  NOBUS_RETURN_IF_ERROR(server->StartGrpc());
  NOBUS_RETURN_IF_ERROR(server->StartHttp());
  NOBUS_RETURN_IF_ERROR(server->StartKafka());
  NOBUS_RETURN_IF_ERROR(server->StartMqtt());
  server->sweeper_ = std::thread(&Server::SweepStreams, server.get());
  return server;
}

void Server::SweepStreams() {
  std::unique_lock<std::mutex> l(sweep_mu_);
  while (!sweep_cv_.wait_for(l, std::chrono::seconds(1), [this] { return stop_sweep_; })) {
    l.unlock();
    streams_->CloseRefused(
        [this](const auth::Caller& caller) { return context_->auth().StillValid(caller); },
        /*signal_duration_ms=*/1000);
    l.lock();
  }
}

absl::Status Server::Reload() {
  absl::Status status = authority_->Reload();
  if (http_tls_ != nullptr) status.Update(http_tls_->Reload());
  NOBUS_LOG_INFO("reloaded the auth directory {}{} status={}", context_->config().auth_directory(),
                 http_tls_ != nullptr ? " and the TLS certificate" : "", status.ToString());
  return status;
}

absl::Status Server::StartGrpc() {
  const ServerConfig& config = context_->config();
  NOBUS_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(config.grpc_listen));
  service_ = std::make_unique<ZerobusService>(context_.get(), streams_.get());
  grpc::ServerBuilder builder;
  int port = 0;
  auth::TlsFiles tls{config.tls_cert, config.tls_key, config.tls_client_ca};
  builder.AddListeningPort(config.grpc_listen,
                           tls.enabled() ? auth::GrpcServerCredentials(tls)
                                         : grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<int64_t>(config.grpc_hard_limit_bytes(), std::numeric_limits<int>::max())));
  // Clients (Java) ping every 30 s even without calls; gRPC's defaults would GOAWAY them.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // No bandwidth-delay probing: with it gRPC grows each stream's HTTP/2 window to many MB, and
  // when nobusd stops reading streams (the node's buffers are full) the clients' in-flight data
  // piles up in the transport instead (measured: +0.5-1 GB RSS with 16 streams). Without it a
  // stream's window is what one pending read needs; throughput and ack latency measured the same
  // or better (doc/performance.md).
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  grpc_ = builder.BuildAndStart();
  if (grpc_ == nullptr || port == 0)
    return absl::UnavailableError(Cat("cannot listen for gRPC on ", config.grpc_listen,
                                      " (address in use or not local?): choose another "
                                      "--grpc-listen"));
  grpc_address_ = Cat(listen.host, ":", port);
  return absl::OkStatus();
}

absl::Status Server::StartKafka() {
  const ServerConfig& config = context_->config();
  if (config.kafka_listen.empty()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(config.kafka_listen));
  kafka::BrokerOptions options;
  options.serving = [context = context_.get()] { return context->Serving(); };
  options.max_batch_bytes = config.max_message_bytes;
  options.auth = &context_->auth();
  options.metrics = &metrics_;
  kafka_broker_ = std::make_unique<kafka::Broker>(options);
  net::FramedServerOptions server_options;
  server_options.max_frame_bytes = config.max_message_bytes + (1 << 20);
  if (http_tls_ != nullptr)  // the same certificate, key and client CA as the other listeners
    server_options.tls_setup = [tls = http_tls_.get()](SSL_CTX& ctx) { return tls->SetUp(ctx); };
  kafka_ = kafka::NewKafkaServer(
      server_options, [broker = kafka_broker_.get()](std::string frame,
                                                     kafka::ConnectionContext& connection,
                                                     kafka::Reply reply) {
        broker->Handle(std::move(frame), connection, std::move(reply));
      });
  NOBUS_ASSIGN_OR_RETURN(kafka_address_, BindListener(kafka_, config.kafka_listen,
                                                      config.kafka_listen_explicit, "kafka_listen"));
  if (kafka_ == nullptr) return absl::OkStatus();
  std::string advertised_host = listen.host;
  int advertised_port = std::stoi(kafka_address_.substr(kafka_address_.rfind(':') + 1));
  if (!config.kafka_advertised.empty()) {
    NOBUS_ASSIGN_OR_RETURN(HostPort adv, ParseHostPort(config.kafka_advertised));
    advertised_host = adv.host;
    advertised_port = adv.port;
  }
  kafka_broker_->Advertise(advertised_host, advertised_port);
  kafka_->Serve();
  return absl::OkStatus();
}

absl::Status Server::StartMqtt() {
  const ServerConfig& config = context_->config();
  if (config.mqtt_listen.empty()) return absl::OkStatus();
  mqtt::EndpointOptions options;
  options.serving = [context = context_.get()] { return context->Serving(); };
  options.auth = &context_->auth();
  options.metrics = &metrics_;
  options.routes = config.mqtt_routes;
  mqtt_endpoint_ = std::make_unique<mqtt::Endpoint>(options);
  net::FramedServerOptions server_options;
  if (http_tls_ != nullptr)  // the same certificate, key and client CA as the other listeners
    server_options.tls_setup = [tls = http_tls_.get()](SSL_CTX& ctx) { return tls->SetUp(ctx); };
  mqtt_ = mqtt::NewMqttServer(server_options, mqtt_endpoint_.get());
  // MQTT over TLS is port 8883 by convention: the default follows TLS.
  const std::string listen = http_tls_ != nullptr && !config.mqtt_listen_explicit &&
                                     config.mqtt_listen == ServerConfig().mqtt_listen
                                 ? std::string(kDefaultMqttTlsListen)
                                 : config.mqtt_listen;
  NOBUS_ASSIGN_OR_RETURN(mqtt_address_, BindListener(mqtt_, listen, config.mqtt_listen_explicit,
                                                     "mqtt_listen"));
  if (mqtt_ != nullptr) mqtt_->Serve();
  return absl::OkStatus();
}

absl::StatusOr<std::string> Server::BindListener(std::unique_ptr<net::FramedServer>& server,
                                                 const std::string& listen, bool is_explicit,
                                                 std::string_view key) {
  NOBUS_ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(listen));
  absl::StatusOr<int> port = server->Bind(hp.host, hp.port);
  if (!port.ok()) {
    server.reset();
    if (is_explicit) return port.status();
    std::string flag = Cat("--", key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    NOBUS_LOG_WARN("{} is off: {} (the default {}; set {} to another HOST:PORT, or \"\" to "
                   "silence this)", key, std::string(port.status().message()), key, flag);
    return std::string();
  }
  return Cat(hp.host, ":", *port);
}

absl::Status Server::StartHttp() {
  NOBUS_ASSIGN_OR_RETURN(HostPort listen, ParseHostPort(context_->config().http_listen));
  http_ = std::make_unique<HttpApi>(context_.get(), streams_.get(), http_tls_.get());
  NOBUS_ASSIGN_OR_RETURN(int port, http_->Bind(listen));
  http_->Start();
  http_address_ = Cat(listen.host, ":", port);
  if (context_->config().ops_listen.empty()) return absl::OkStatus();
  NOBUS_ASSIGN_OR_RETURN(HostPort ops, ParseHostPort(context_->config().ops_listen));
  ops_ = std::make_unique<HttpApi>(context_.get(), streams_.get(), nullptr, HttpRole::kOps);
  NOBUS_ASSIGN_OR_RETURN(int ops_port, ops_->Bind(ops));
  ops_->Start();
  ops_address_ = Cat(ops.host, ":", ops_port);
  return absl::OkStatus();
}

absl::Status Server::OpenTableRoot(table::IngestOptions* options) {
  const ServerConfig& config = context_->config();
  if (config.table_root.empty()) return absl::OkStatus();
  if (objstore::IsS3Url(config.table_root)) {
    objstore::S3Settings settings{config.s3_endpoint, config.s3_region, config.s3_path_style};
    absl::StatusOr<std::unique_ptr<objstore::ObjectFileSystem>> s3 =
        objstore::OpenS3(config.table_root, settings);
    if (!s3.ok()) return Annotate(s3.status(), Cat("table_root ", config.table_root));
    NOBUS_LOG_INFO("tables on {} (endpoint {}, region {})", config.table_root,
                   (*s3)->client()->options().endpoint, (*s3)->client()->options().region);
    tables_fs_ = std::move(*s3);
    options->tables_fs = tables_fs_.get();
    options->tables_root = "/";
    return absl::OkStatus();
  }
  std::error_code ec;
  std::string root = std::filesystem::absolute(config.table_root, ec).lexically_normal().string();
  options->tables_fs = fs_;
  options->tables_root = ec ? config.table_root : root;
  return absl::OkStatus();
}

absl::Status Server::Recover() {
  const ServerConfig& config = context_->config();
  std::error_code ec;
  std::string data_dir = std::filesystem::absolute(config.data_dir, ec).lexically_normal().string();
  if (ec) data_dir = config.data_dir;
  while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  table::IngestOptions options;
  options.flush_interval_ms = config.flush_interval_ms;
  options.commit_threads = static_cast<int>(config.commit_threads);
  options.wal.group_delay_us = config.wal_group_delay_us;
  // ValidateConfig accepted the setting.
  NOBUS_RETURN_IF_ERROR(parquet::ParseCompression(config.parquet_compression, &options.data_files));
  options.max_buffered_bytes = config.max_buffered_bytes;
  options.maintenance.enabled = config.maintenance;
  options.maintenance.check_interval_ms = config.maintenance_interval_ms;
  options.health.pause_below_free_bytes = static_cast<uint64_t>(config.disk_pause_below_free_bytes);
  options.health.pause_below_free_percent = config.disk_pause_below_free_percent;
  options.health.resume_above_free_bytes = static_cast<uint64_t>(config.disk_resume_above_free_bytes);
  options.health.resume_above_free_percent = config.disk_resume_above_free_percent;
  options.health.slow_sync_ms = config.slow_sync_ms;
  options.health.stuck_table_after_ms = config.stuck_table_after_ms;
  options.metrics = &metrics_;
  options.on_commit = [streams = streams_.get()](const std::string& id, int64_t offset,
                                                 int64_t version) {
    streams->Committed(id, offset, version);
  };
  // A request's row blob may be larger than its message (e.g. varints widened): leave room.
  options.wal.max_record_bytes =
      std::max<uint64_t>(options.wal.max_record_bytes, 8 * config.max_message_bytes);
  NOBUS_RETURN_IF_ERROR(OpenTableRoot(&options));
  auto started = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<table::IngestService>> ingest =
      table::IngestService::Open(fs_, clock_, data_dir, options);
  if (!ingest.ok()) return Annotate(ingest.status(), Cat("cannot open data directory ", data_dir));
  ingest_ = std::move(*ingest);
  context_->AttachIngest(ingest_.get());
  context_->SetState(ServingState::kServing);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  NOBUS_LOG_INFO("serving data_dir={} wal_id={} recovery_ms={}", data_dir, ingest_->wal_id(), ms);
  return absl::OkStatus();
}

absl::Status Server::Shutdown() {
  if (shut_down_) return absl::OkStatus();
  shut_down_ = true;
  {
    std::lock_guard<std::mutex> l(sweep_mu_);
    stop_sweep_ = true;
  }
  sweep_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
  const int64_t drain_ms = context_->config().drain_timeout_ms;
  context_->SetState(ServingState::kDraining);
  int closing = streams_->CloseAll(drain_ms);
  NOBUS_LOG_INFO("draining open_streams={} timeout_ms={}", closing, drain_ms);
  int left = streams_->WaitUntilEmpty(drain_ms);
  if (left > 0) NOBUS_LOG_WARN("drain timed out; cancelling streams={}", left);
  if (grpc_) grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  if (http_) http_->Stop();
  if (ops_) ops_->Stop();
  if (kafka_) kafka_->Stop();
  if (mqtt_) mqtt_->Stop();
  absl::Status status = absl::OkStatus();
  if (ingest_) status = ingest_->Close();
  grpc_.reset();
  NOBUS_LOG_INFO("stopped status={}", status.ToString());
  return status;
}

}  // namespace nobus::server
