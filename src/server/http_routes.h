// Internal to src/server: the HTTP route groups and their shared reply helpers. Errors use the
// Unity Catalog / Databricks REST error shape {"error_code": ..., "message": ...}:
//   InvalidArgument 400 INVALID_PARAMETER_VALUE, FailedPrecondition 400 INVALID_STATE,
//   Aborted 409 ABORTED, Unauthenticated 401 UNAUTHENTICATED,
//   PermissionDenied 403 PERMISSION_DENIED, NotFound 404 TABLE_DOES_NOT_EXIST,
//   AlreadyExists 409 TABLE_ALREADY_EXISTS, ResourceExhausted 503 TEMPORARILY_UNAVAILABLE,
//   Unavailable 503 TEMPORARILY_UNAVAILABLE, anything else 500 INTERNAL_ERROR.
// Each group says where its handlers run (http::Runs); every helper is thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "http/router.h"
#include "schema/record_decoder.h"
#include "server/context.h"
#include "server/stream_registry.h"

namespace nobus::server {

// GET /api/2.1/unity-catalog/tables[/{name}], POST, DELETE (table_api.cc).
void AddTableRoutes(http::Router* router, ServerContext* server);
// POST /zerobus/v1/tables/{name}/insert (rest_ingest.cc).
void AddIngestRoutes(http::Router* router, ServerContext* server);
// POST /oidc/v1/token (token_api.cc).
void AddTokenRoutes(http::Router* router, ServerContext* server);
// POST /admin/v1/tables/{name}/optimize|vacuum|properties|retry, GET .../history|status
// (table_admin_api.cc).
void AddTableAdminRoutes(http::Router* router, ServerContext* server);
// GET /livez, /readyz, /healthz, /metrics (health_api.cc).
void AddHealthRoutes(http::Router* router, ServerContext* server);

// The REST insert body (a JSON array of row objects) decoded with `decoder` into `blob`; returns
// the number of rows. InvalidArgument naming the row index and column; then `blob` may hold part.
[[nodiscard]] absl::StatusOr<int64_t> DecodeJsonRows(std::string_view body,
                                                     const schema::RecordDecoder& decoder,
                                                     std::string* blob);

void ReplyJson(http::Response& res, int http_status, const nlohmann::json& body);
void ReplyError(http::Response& res, const absl::Status& status);
inline std::string Authorization(const http::Request& req) {
  return std::string(req.Header("Authorization"));
}

}  // namespace nobus::server
