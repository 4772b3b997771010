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

const char* ApiOf(const std::string& path) {
  if (path.starts_with("/zerobus/")) return "rest";
  if (path.starts_with("/api/2.1/unity-catalog/")) return "table_api";
  if (path.starts_with("/oidc/")) return "token";
  if (path.starts_with("/admin/v1/tables/")) return "table_admin";
  return nullptr;
}

}  // namespace

void ReplyJson(httplib::Response& res, int http_status, const nlohmann::json& body) {
  res.status = http_status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const absl::Status& status) {
  HttpError e = ErrorFor(status.code());
  ReplyJson(res, e.status, {{"error_code", e.code}, {"message", std::string(status.message())}});
}

std::unique_ptr<httplib::Server> NewHttpServer(auth::HttpTls* tls) {
  if (tls == nullptr) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(
      [tls](SSL_CTX& ctx) { return tls->SetUp(ctx); });
}

HttpApi::HttpApi(ServerContext* server, StreamRegistry* streams, auth::HttpTls* tls)
    : server_(server), streams_(streams), http_(NewHttpServer(tls)) {
  http_->set_payload_max_length(static_cast<size_t>(server_->config().max_message_bytes));
  http_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        ReplyError(res, absl::InternalError("unexpected exception in the HTTP handler"));
      });
  // Errors cpp-httplib answers itself (no route, body too large, ...) get the same JSON shape.
  http_->set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                       httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    if (res.status == 413) {
      ReplyJson(res, 413,
                {{"error_code", "REQUEST_LIMIT_EXCEEDED"},
                 {"message", Cat("request body larger than max_message_bytes (",
                                 server_->config().max_message_bytes, "): send fewer rows")}});
    } else if (res.status == 404) {
      ReplyJson(res, 404,
                {{"error_code", "ENDPOINT_NOT_FOUND"},
                 {"message",
                  Cat("no such endpoint: ", req.method, " ", req.path, " (see doc/server.md)")}});
    } else {
      ReplyJson(res, res.status,
                {{"error_code", "INVALID_PARAMETER_VALUE"},
                 {"message", Cat("HTTP ", res.status, " for ", req.method, " ", req.path)}});
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (const char* api = ApiOf(req.path))
      server_->metrics().CountRequest(api, std::to_string(res.status));
  });
  AddOpsRoutes();
  AddTableRoutes(http_.get(), server_);
  AddIngestRoutes(http_.get(), server_);
  AddTokenRoutes(http_.get(), server_);
  AddTableAdminRoutes(http_.get(), server_);
}

HttpApi::~HttpApi() { Stop(); }

void HttpApi::AddOpsRoutes() {
  AddHealthRoutes(http_.get(), server_);
  http_->Post("/admin/v1/streams/close-all",
              [this](const httplib::Request& req, httplib::Response& res) {
                absl::Status auth = server_->auth().AuthorizeAdmin(Authorization(req));
                if (!auth.ok()) return ReplyError(res, auth);
                int n = streams_->CloseAll(server_->config().drain_timeout_ms);
                NOBUS_LOG_INFO("admin close-all closed_streams={}", n);
                ReplyJson(res, 200, {{"closed_streams", n}});
              });
}

absl::StatusOr<int> HttpApi::Bind(const HostPort& listen) {
  std::string host = listen.host;
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  int port = listen.port;
  if (port == 0) {
    port = http_->bind_to_any_port(host);
    if (port <= 0) port = -1;
  } else if (!http_->bind_to_port(host, port)) {
    port = -1;
  }
  if (port < 0)
    return absl::UnavailableError(Cat("cannot listen for HTTP on ", listen.host, ":", listen.port,
                                      " (address in use or not local?): choose another "
                                      "--http-listen"));
  return port;
}

void HttpApi::Start() {
  thread_ = std::thread([this] { http_->listen_after_bind(); });
}

void HttpApi::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace nobus::server
