#include "server/http_api.h"

#include "auth/tls.h"

#include "common/logging.h"
#include "server/http_routes.h"

namespace nobus::server {
namespace {

struct HttpError {
  int status;
  const char* code;
};

HttpError ErrorFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return {400, "INVALID_PARAMETER_VALUE"};
    case absl::StatusCode::kFailedPrecondition:
      return {400, "INVALID_STATE"};
    case absl::StatusCode::kAborted:
      return {409, "ABORTED"};
    case absl::StatusCode::kUnauthenticated:
      return {401, "UNAUTHENTICATED"};
    case absl::StatusCode::kPermissionDenied:
      return {403, "PERMISSION_DENIED"};
    case absl::StatusCode::kNotFound:
      return {404, "TABLE_DOES_NOT_EXIST"};
    case absl::StatusCode::kAlreadyExists:
      return {409, "TABLE_ALREADY_EXISTS"};
    case absl::StatusCode::kResourceExhausted:  // nobus uses it for "disk low, come back later"
      return {503, "TEMPORARILY_UNAVAILABLE"};
    case absl::StatusCode::kUnavailable:
      return {503, "TEMPORARILY_UNAVAILABLE"};
    default:
      return {500, "INTERNAL_ERROR"};
  }
}

const char* ApiOf(std::string_view path) {
  if (path.starts_with("/zerobus/")) return "rest";
  if (path.starts_with("/api/2.1/unity-catalog/")) return "table_api";
  if (path.starts_with("/oidc/")) return "token";
  if (path.starts_with("/admin/v1/tables/")) return "table_admin";
  return nullptr;
}

}  // namespace

void ReplyJson(http::Response& res, int http_status, const nlohmann::json& body) {
  res.status = http_status;
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
}

void ReplyError(http::Response& res, const absl::Status& status) {
  HttpError e = ErrorFor(status.code());
  res = http::ErrorResponse(e.status, e.code, std::string(status.message()));
}

namespace {

http::ServerOptions OptionsFor(ServerContext* server, auth::HttpTls* tls, HttpRole role) {
  const ServerConfig& c = server->config();
  http::ServerOptions o;
  if (role == HttpRole::kOps) {
    o.io_threads = 1;
    o.worker_threads = 1;
    o.max_connections = 1024;
    o.max_connections_per_client = 0;
    o.metrics = nullptr;  // the API listener's connection metrics stay its own
    return o;
  }
  o.max_connections = c.http_max_connections;
  o.max_connections_per_client = c.http_max_connections_per_client;
  o.header_timeout_ms = c.http_header_timeout_ms;
  o.body_timeout_ms = c.http_body_timeout_ms;
  o.idle_timeout_ms = c.http_idle_timeout_ms;
  o.max_header_bytes = c.http_max_header_bytes;
  o.max_body_bytes = c.max_message_bytes;
  o.body_limit_name = "max_message_bytes";
  if (tls != nullptr) o.tls_setup = [tls](SSL_CTX& ctx) { return tls->SetUp(ctx); };
  o.on_response = [server](std::string_view path, int status) {
    if (const char* api = ApiOf(path)) server->metrics().CountRequest(api, std::to_string(status));
  };
  o.metrics = server->metrics().registry();
  return o;
}

}  // namespace

HttpApi::HttpApi(ServerContext* server, StreamRegistry* streams, auth::HttpTls* tls,
                 HttpRole role)
    : server_(server), streams_(streams) {
  if (role == HttpRole::kOps) {
    AddHealthRoutes(&router_, server_);
    http_ = std::make_unique<http::Server>(OptionsFor(server_, nullptr, role), &router_);
    return;
  }
  AddOpsRoutes();
  AddTableRoutes(&router_, server_);
  AddIngestRoutes(&router_, server_);
  AddTokenRoutes(&router_, server_);
  AddTableAdminRoutes(&router_, server_);
  http_ = std::make_unique<http::Server>(OptionsFor(server_, tls, role), &router_);
}

HttpApi::~HttpApi() { Stop(); }

void HttpApi::AddOpsRoutes() {
  AddHealthRoutes(&router_, server_);
  router_.Add("POST", "/admin/v1/streams/close-all", http::Runs::kWorker,
              http::Handler([this](const http::Request& req, http::Response& res) {
                absl::Status auth = server_->auth().AuthorizeAdmin(Authorization(req));
                if (!auth.ok()) return ReplyError(res, auth);
                int n = streams_->CloseAll(server_->config().drain_timeout_ms);
                NOBUS_LOG_INFO("admin close-all closed_streams={}", n);
                ReplyJson(res, 200, {{"closed_streams", n}});
              }));
}

absl::StatusOr<int> HttpApi::Bind(const HostPort& listen) {
  return http_->Bind(listen.host, listen.port);
}

void HttpApi::Start() { http_->Start(); }

void HttpApi::Stop() { http_->Stop(); }

}  // namespace nobus::server
