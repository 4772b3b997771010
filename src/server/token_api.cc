// POST /oidc/v1/token: the OAuth client-credentials endpoint the official SDKs call with a
// service principal's client id and secret (auth/authority.h decides; this file is the HTTP
// shape). Answers in the OAuth error shape {"error", "error_description"} (RFC 6749 5.2), not the
// Unity Catalog one, because OAuth clients parse that.
#include "common/logging.h"
#include "server/http_routes.h"

namespace nobus::server {

void AddTokenRoutes(http::Router* router, ServerContext* server) {
  // On the worker pool: checking a client secret is deliberately slow.
  router->Add("POST", "/oidc/v1/token", http::Runs::kWorker,
              http::Handler([server](const http::Request& req, http::Response& res) {
    auth::Authority* authority = server->authority();
    if (authority == nullptr)
      return ReplyError(res, absl::UnimplementedError("this node has no token endpoint"));
    std::string peer = Cat(req.remote_addr, ":", req.remote_port);
    auth::TokenReply reply = authority->IssueToken(Authorization(req), req.body, peer);
    res.status = reply.http_status;
    res.SetHeader("Cache-Control", "no-store");
    res.SetHeader("Pragma", "no-cache");
    if (reply.http_status == 401) res.SetHeader("WWW-Authenticate", "Basic realm=\"nobus\"");
    res.SetContent(reply.body, "application/json");
  }));
}

}  // namespace nobus::server
