// Table upkeep over HTTP (admin auth: a static token for the table, or ADMIN on it):
//   POST /admin/v1/tables/{name}/optimize    -> when committed: files and bytes before and after
//   POST /admin/v1/tables/{name}/vacuum      {"retain_hours", "dry_run", "force"} (all optional)
//   GET  /admin/v1/tables/{name}/history?limit=N
//   POST /admin/v1/tables/{name}/properties  {"properties": {"key": "value", ...}}
//   GET  /admin/v1/tables/{name}/status      -> commit health: ok, failing or stuck (health.h)
//   POST /admin/v1/tables/{name}/retry       -> commits a failing or stuck table's rows now
// Shapes: doc/server.md. Each job runs as the node's one maintenance job (see
// table/ingest_service.h); the request waits for it.
#include <cmath>

#include "common/logging.h"
#include "server/http_routes.h"
#include "server/uc_json.h"

namespace nobus::server {
namespace {

using nlohmann::json;

constexpr const char* kPrefix = "/admin/v1/tables/";

// The preamble of every call: the table name from the path, a token that may administer it, and
// a serving node.
absl::StatusOr<std::pair<table::IngestService*, table::TableName>> Admit(
    ServerContext* server, const http::Request& req) {
  NOBUS_ASSIGN_OR_RETURN(table::TableName name, table::ParseTableName(req.params[0]));
  NOBUS_RETURN_IF_ERROR(server->auth().AuthorizeTableAdmin(Authorization(req), name));
  NOBUS_ASSIGN_OR_RETURN(table::IngestService * ingest, server->Serving());
  return std::make_pair(ingest, name);
}

// The JSON object body; an empty body is {}.
absl::StatusOr<json> Body(const http::Request& req) {
  if (req.body.empty()) return json::object();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object())
    return absl::InvalidArgumentError("the request body must be a JSON object");
  return body;
}

absl::StatusOr<bool> OptionalBool(const json& body, const char* key) {
  if (!body.contains(key) || body[key].is_null()) return false;
  if (!body[key].is_boolean()) return absl::InvalidArgumentError(Cat("\"", key, "\" must be true or false"));
  return body[key].get<bool>();
}

void Optimize(table::IngestService* ingest, const table::TableName& name,
              const http::Request& req, http::Response& res) {
  absl::StatusOr<table::CompactionReport> r = ingest->Optimize(name);
  if (!r.ok()) return ReplyError(res, r.status());
  ReplyJson(res, 200,
            {{"table", name.ToString()},
             {"version", r->version},
             {"commits", r->commits},
             {"files_before", r->files_before},
             {"bytes_before", r->bytes_before},
             {"files_after", r->files_after},
             {"bytes_after", r->bytes_after},
             {"files_removed", r->files_removed},
             {"files_added", r->files_added},
             {"bytes_rewritten", r->bytes_rewritten}});
}

absl::StatusOr<delta::VacuumOptions> VacuumOptionsFrom(const json& body) {
  delta::VacuumOptions options;
  if (body.contains("retain_hours") && !body["retain_hours"].is_null()) {
    const json& h = body["retain_hours"];
    if (!h.is_number() || h.get<double>() < 0 || !std::isfinite(h.get<double>()))
      return absl::InvalidArgumentError("\"retain_hours\" must be a number of hours >= 0");
    options.retention_ms = static_cast<int64_t>(h.get<double>() * 3'600'000.0);
  }
  NOBUS_ASSIGN_OR_RETURN(options.dry_run, OptionalBool(body, "dry_run"));
  NOBUS_ASSIGN_OR_RETURN(options.force, OptionalBool(body, "force"));
  return options;
}

void Vacuum(table::IngestService* ingest, const table::TableName& name,
            const http::Request& req, http::Response& res) {
  absl::StatusOr<json> body = Body(req);
  if (!body.ok()) return ReplyError(res, body.status());
  absl::StatusOr<delta::VacuumOptions> options = VacuumOptionsFrom(*body);
  if (!options.ok()) return ReplyError(res, options.status());
  absl::StatusOr<delta::VacuumResult> r = ingest->Vacuum(name, *options);
  if (!r.ok()) return ReplyError(res, r.status());
  json out = {{"table", name.ToString()},
              {"dry_run", options->dry_run},
              {"retain_hours", static_cast<double>(r->retention_ms) / 3'600'000.0},
              {"files_scanned", r->files_scanned},
              {"files", r->files},
              {"bytes", r->bytes},
              {"orphans", r->orphans}};
  if (r->start_version) out["start_version"] = *r->start_version;
  if (r->end_version) out["end_version"] = *r->end_version;
  ReplyJson(res, 200, out);
}

json EntryJson(const delta::HistoryEntry& e) {
  json out = {{"version", e.version},
              {"operation", e.operation},
              {"engine_info", e.engine_info},
              {"operation_parameters", e.operation_parameters},
              {"operation_metrics", e.operation_metrics},
              {"files_added", e.files_added},
              {"files_removed", e.files_removed},
              {"bytes_added", e.bytes_added},
              {"bytes_removed", e.bytes_removed},
              {"rows_added", e.rows_added}};
  out["timestamp"] = e.timestamp_ms ? json(*e.timestamp_ms) : json(nullptr);
  out["rows_removed"] = e.rows_removed ? json(*e.rows_removed) : json(nullptr);
  out["table_rows"] = e.table_rows ? json(*e.table_rows) : json(nullptr);
  return out;
}

void History(table::IngestService* ingest, const table::TableName& name,
             const http::Request& req, http::Response& res) {
  int64_t limit = 0;
  if (req.HasQuery("limit")) {
    const std::string text = std::string(req.Query("limit"));
    char* end = nullptr;
    limit = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || limit < 0)
      return ReplyError(res, absl::InvalidArgumentError(
                                 Cat("limit must be a number >= 0 (0: all), got '", text, "'")));
  }
  absl::StatusOr<std::vector<delta::HistoryEntry>> h = ingest->History(name, limit);
  if (!h.ok()) return ReplyError(res, h.status());
  json entries = json::array();
  for (const delta::HistoryEntry& e : *h) entries.push_back(EntryJson(e));
  ReplyJson(res, 200, {{"table", name.ToString()}, {"history", entries}});
}

void SetProperties(table::IngestService* ingest, const table::TableName& name,
                   const http::Request& req, http::Response& res) {
  absl::StatusOr<json> body = Body(req);
  if (!body.ok()) return ReplyError(res, body.status());
  const json& props = body->contains("properties") ? (*body)["properties"] : json(nullptr);
  if (!props.is_object() || props.empty())
    return ReplyError(res, absl::InvalidArgumentError(
                               "the body needs \"properties\": an object of string values"));
  std::map<std::string, std::string> properties;
  for (const auto& [k, v] : props.items()) {
    if (!v.is_string())
      return ReplyError(res, absl::InvalidArgumentError(Cat("property '", k, "' must be a string")));
    properties[k] = v.get<std::string>();
  }
  absl::Status st = ingest->SetTableProperties(name, properties);
  if (!st.ok()) return ReplyError(res, st);
  absl::StatusOr<table::TableInfo> info = ingest->catalog()->Get(name);
  if (!info.ok()) return ReplyError(res, info.status());
  ReplyJson(res, 200, TableInfoToJson(*info));
}

json HealthJson(const table::TableName& name, const table::TableHealth& h) {
  return {{"table", name.ToString()},
          {"state", h.state},
          {"consecutive_failures", h.consecutive_failures},
          {"last_error", h.last_error},
          {"failing_for_ms", h.failing_for_ms},
          {"buffered_bytes", h.buffered_bytes},
          {"parked_records", h.parked_records},
          {"next_retry_in_ms", h.next_retry_in_ms}};
}

void Status(table::IngestService* ingest, const table::TableName& name,
            const http::Request& req, http::Response& res) {
  absl::StatusOr<table::TableHealth> h = ingest->TableStatus(name);
  if (!h.ok()) return ReplyError(res, h.status());
  ReplyJson(res, 200, HealthJson(name, *h));
}

void Retry(table::IngestService* ingest, const table::TableName& name,
           const http::Request& req, http::Response& res) {
  absl::Status st = ingest->RetryTable(name);
  if (!st.ok()) return ReplyError(res, st);
  NOBUS_LOG_INFO("admin retry table={} committed", name.ToString());
  Status(ingest, name, req, res);
}

}  // namespace

void AddTableAdminRoutes(http::Router* router, ServerContext* server) {
  const std::string one = Cat(kPrefix, "{}");
  // Every route first admits the call (Admit), then runs its handler.
  using Handler = void (*)(table::IngestService*, const table::TableName&,
                           const http::Request&, http::Response&);
  // On the worker pool: compaction and VACUUM take a while.
  auto route = [&](const char* method, const char* action, Handler handler) {
    router->Add(method, one + action, http::Runs::kWorker,
                http::Handler([server, handler](const http::Request& req, http::Response& res) {
                  auto admitted = Admit(server, req);
                  if (!admitted.ok()) return ReplyError(res, admitted.status());
                  handler(admitted->first, admitted->second, req, res);
                }));
  };
  route("POST", "/optimize", Optimize);
  route("POST", "/vacuum", Vacuum);
  route("GET", "/history", History);
  route("POST", "/properties", SetProperties);
  route("GET", "/status", Status);
  route("POST", "/retry", Retry);
}

}  // namespace nobus::server
