// The Unity-Catalog-shaped table API: create, get, list and drop Delta tables of this node.
#include "common/logging.h"
#include "server/http_routes.h"
#include "server/uc_json.h"

namespace nobus::server {
namespace {

using nlohmann::json;

constexpr const char* kTables = "/api/2.1/unity-catalog/tables";

// The preamble of every table API call: a known token (when tokens are configured), then a
// serving node (Unavailable while recovering or draining).
absl::StatusOr<table::IngestService*> AuthenticatedService(ServerContext* server,
                                                           const http::Request& req) {
  NOBUS_RETURN_IF_ERROR(server->auth().Authenticate(Authorization(req)));
  return server->Serving();
}

void Create(ServerContext* server, const http::Request& req, http::Response& res) {
  absl::StatusOr<table::IngestService*> ingest = AuthenticatedService(server, req);
  if (!ingest.ok()) return ReplyError(res, ingest.status());
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return ReplyError(res, absl::InvalidArgumentError("the request body is not valid JSON"));
  absl::StatusOr<CreateTableRequest> create = ParseCreateTable(body);
  if (!create.ok()) return ReplyError(res, create.status());
  absl::Status auth = server->auth().AuthorizeTableAdmin(Authorization(req), create->name);
  if (!auth.ok()) return ReplyError(res, auth);
  absl::StatusOr<table::TableInfo> info =
      (*ingest)->catalog()->Create(create->name, create->schema, create->partition_columns,
                                   create->properties);
  if (!info.ok()) return ReplyError(res, info.status());
  NOBUS_LOG_INFO("table created table={} location={}", info->name.ToString(),
                 info->storage_location);
  ReplyJson(res, 200, TableInfoToJson(*info));
}

void Get(ServerContext* server, const http::Request& req, http::Response& res) {
  absl::StatusOr<table::IngestService*> ingest = AuthenticatedService(server, req);
  if (!ingest.ok()) return ReplyError(res, ingest.status());
  absl::StatusOr<table::TableName> name = table::ParseTableName(req.params[0]);
  if (!name.ok()) return ReplyError(res, name.status());
  absl::StatusOr<table::TableInfo> info = (*ingest)->catalog()->Get(*name);
  if (!info.ok()) return ReplyError(res, info.status());
  ReplyJson(res, 200, TableInfoToJson(*info));
}

void List(ServerContext* server, const http::Request& req, http::Response& res) {
  absl::StatusOr<table::IngestService*> ingest = AuthenticatedService(server, req);
  if (!ingest.ok()) return ReplyError(res, ingest.status());
  std::string catalog = std::string(req.Query("catalog_name"));
  if (catalog.empty())
    return ReplyError(res, absl::InvalidArgumentError("query parameter catalog_name is required"));
  absl::Status valid = table::ValidateNamePart(catalog, "catalog_name");
  if (!valid.ok()) return ReplyError(res, valid);
  std::optional<std::string> schema_name;
  if (req.HasQuery("schema_name")) {
    schema_name = std::string(req.Query("schema_name"));
    valid = table::ValidateNamePart(*schema_name, "schema_name");
    if (!valid.ok()) return ReplyError(res, valid);
  }
  absl::StatusOr<std::vector<table::TableInfo>> tables = (*ingest)->catalog()->List(
      catalog, schema_name ? std::optional<std::string_view>(*schema_name) : std::nullopt);
  if (!tables.ok()) return ReplyError(res, tables.status());
  json out = {{"tables", json::array()}};
  for (const table::TableInfo& info : *tables) out["tables"].push_back(TableInfoToJson(info));
  ReplyJson(res, 200, out);
}

void Drop(ServerContext* server, const http::Request& req, http::Response& res) {
  absl::StatusOr<table::IngestService*> ingest = AuthenticatedService(server, req);
  if (!ingest.ok()) return ReplyError(res, ingest.status());
  absl::StatusOr<table::TableName> name = table::ParseTableName(req.params[0]);
  if (!name.ok()) return ReplyError(res, name.status());
  absl::Status auth = server->auth().AuthorizeTableAdmin(Authorization(req), *name);
  if (!auth.ok()) return ReplyError(res, auth);
  absl::Status dropped = (*ingest)->DropTable(*name);
  if (!dropped.ok()) return ReplyError(res, dropped);
  NOBUS_LOG_INFO("table dropped table={}", name->ToString());
  ReplyJson(res, 200, json::object());
}

}  // namespace

void AddTableRoutes(http::Router* router, ServerContext* server) {
  const std::string one = Cat(kTables, "/{}");
  // On the worker pool: creating and dropping touch the disk.
  auto route = [&](const char* method, const std::string& pattern, auto* handler) {
    router->Add(method, pattern, http::Runs::kWorker,
                http::Handler([server, handler](const http::Request& req, http::Response& res) {
                  handler(server, req, res);
                }));
  };
  route("POST", kTables, Create);
  route("GET", kTables, List);
  route("GET", one, Get);
  route("DELETE", one, Drop);
}

}  // namespace nobus::server
