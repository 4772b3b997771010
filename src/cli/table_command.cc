// `nobus table create|get|list|drop`: the table API of a running nobusd (HTTP, Unity Catalog
// REST shapes; doc/server.md). The schema is typed as SQL (--columns "id BIGINT NOT NULL, ...")
// and sent as UC columns with type_text and the exact type_json.
// `nobus table optimize|vacuum|history|set-properties|status|retry`: table upkeep and commit
// health through nobusd's /admin/v1/tables/{name}/... endpoints.
#include <httplib.h>

#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "schema/civil_time.h"
#include "schema/ddl.h"
#include "schema/delta_json.h"

namespace nobus::cli {
namespace {

using nlohmann::json;

constexpr const char* kTablesPath = "/api/2.1/unity-catalog/tables";

struct Remote {
  std::string server = "http://127.0.0.1:7071";
  std::string token;
};

Remote& remote() {
  static Remote r;
  return r;
}

// Sends one request; returns the parsed JSON body of a 2xx answer, else an error with the
// server's error_code and message (or how to start the server when it is unreachable).
absl::StatusOr<json> Call(const std::string& method, const std::string& path,
                          const std::string& body = "", int read_timeout_s = 60) {
  httplib::Client client = HttpClient(remote().server);
  client.set_connection_timeout(5);
  client.set_read_timeout(read_timeout_s);
  httplib::Headers headers;
  if (!remote().token.empty()) headers.emplace("Authorization", Cat("Bearer ", remote().token));
  httplib::Result res = method == "POST"     ? client.Post(path, headers, body, "application/json")
                        : method == "DELETE" ? client.Delete(path, headers)
                                             : client.Get(path, headers);
  if (!res)
    return absl::UnavailableError(Cat("cannot reach nobusd at ", remote().server, " (",
                                      httplib::to_string(res.error()), "): ",
                                      ReachHint(remote().server, httplib::to_string(res.error()))));
  json doc = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status / 100 == 2) return doc.is_discarded() ? json::object() : doc;
  std::string code = doc.is_object() ? doc.value("error_code", "") : "";
  std::string message = doc.is_object() ? doc.value("message", res->body) : res->body;
  return absl::UnknownError(
      Cat("HTTP ", res->status, code.empty() ? "" : " ", code, ": ", message));
}

// KEY=VALUE arguments as a properties object.
absl::StatusOr<json> ParseProperties(const std::vector<std::string>& pairs) {
  json out = json::object();
  for (const std::string& p : pairs) {
    size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return absl::InvalidArgumentError(Cat("property '", p, "' must be KEY=VALUE"));
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

absl::Status RunCreate(const std::string& name, const std::string& columns,
                       const std::vector<std::string>& partition_by,
                       const std::vector<std::string>& properties) {
  std::vector<std::string> parts;
  for (size_t start = 0, dot;; start = dot + 1) {
    dot = name.find('.', start);
    parts.push_back(name.substr(start, dot == std::string::npos ? dot : dot - start));
    if (dot == std::string::npos) break;
  }
  if (parts.size() != 3)
    return absl::InvalidArgumentError(
        Cat("table name '", name, "' must have three parts: catalog.schema.table"));
  NOBUS_ASSIGN_OR_RETURN(schema::Schema schema, schema::ParseDdl(columns));
  json fields = json::parse(schema::SchemaToJson(schema))["fields"];
  json cols = json::array();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const schema::Field& f = schema.fields[i];
    json col = {{"name", f.name},
                {"type_text", schema::FormatDdlType(f.type)},
                {"type_json", fields[i].dump()},
                {"nullable", f.nullable},
                {"position", i}};
    for (size_t p = 0; p < partition_by.size(); ++p)
      if (partition_by[p] == f.name) col["partition_index"] = p;
    cols.push_back(std::move(col));
  }
  for (const std::string& p : partition_by) {
    bool found = false;
    for (const schema::Field& f : schema.fields) found = found || f.name == p;
    if (!found)
      return absl::InvalidArgumentError(Cat("--partition-by column '", p, "' is not in --columns"));
  }
  json body = {{"catalog_name", parts[0]}, {"schema_name", parts[1]},       {"name", parts[2]},
               {"table_type", "MANAGED"},  {"data_source_format", "DELTA"}, {"columns", cols}};
  NOBUS_ASSIGN_OR_RETURN(json props, ParseProperties(properties));
  if (!props.empty()) body["properties"] = props;
  NOBUS_ASSIGN_OR_RETURN(json info, Call("POST", kTablesPath, body.dump()));
  std::printf("created %s at %s\n", info.value("full_name", name).c_str(),
              info.value("storage_location", "?").c_str());
  return absl::OkStatus();
}

void PrintTable(const json& info) {
  std::printf("%s\n", info.value("full_name", "?").c_str());
  std::printf("  location: %s\n", info.value("storage_location", "?").c_str());
  std::printf("  table id: %s\n", info.value("table_id", "?").c_str());
  std::printf("  columns:\n");
  std::vector<std::string> partitions;
  for (const json& c : info.value("columns", json::array())) {
    std::printf("    %s %s%s\n", c.value("name", "?").c_str(), c.value("type_text", "?").c_str(),
                c.value("nullable", true) ? "" : " NOT NULL");
    if (c.contains("partition_index")) partitions.push_back(c.value("name", "?"));
  }
  if (!partitions.empty()) {
    std::printf("  partitioned by:");
    for (const std::string& p : partitions) std::printf(" %s", p.c_str());
    std::printf("\n");
  }
  std::printf("  properties:\n");
  const json properties = info.value("properties", json::object());
  for (const auto& [k, v] : properties.items())
    std::printf("    %s = %s\n", k.c_str(), v.is_string() ? v.get<std::string>().c_str() : v.dump().c_str());
}

std::string AdminPath(const std::string& name, const char* what) {
  return Cat("/admin/v1/tables/", name, "/", what);
}

absl::Status RunOptimize(const std::string& name) {
  std::fprintf(stderr, "optimizing %s (waits for the node's maintenance job to finish)...\n",
               name.c_str());
  NOBUS_ASSIGN_OR_RETURN(json r, Call("POST", AdminPath(name, "optimize"), "", 24 * 3600));
  int64_t commits = r.value("commits", 0);
  if (commits == 0) {
    std::printf("%s: nothing to compact (%lld files, %s)\n", name.c_str(),
                static_cast<long long>(r.value("files_before", 0LL)),
                HumanBytes(r.value("bytes_before", 0LL)).c_str());
    return absl::OkStatus();
  }
  std::printf("%s: %lld files (%s) -> %lld files (%s); rewrote %lld files in %lld commits, now "
              "at version %lld\n",
              name.c_str(), static_cast<long long>(r.value("files_before", 0LL)),
              HumanBytes(r.value("bytes_before", 0LL)).c_str(),
              static_cast<long long>(r.value("files_after", 0LL)),
              HumanBytes(r.value("bytes_after", 0LL)).c_str(),
              static_cast<long long>(r.value("files_removed", 0LL)),
              static_cast<long long>(commits), static_cast<long long>(r.value("version", 0LL)));
  return absl::OkStatus();
}

absl::Status RunVacuum(const std::string& name, std::optional<double> retain_hours, bool dry_run,
                       bool force) {
  json body = {{"dry_run", dry_run}, {"force", force}};
  if (retain_hours) body["retain_hours"] = *retain_hours;
  NOBUS_ASSIGN_OR_RETURN(json r, Call("POST", AdminPath(name, "vacuum"), body.dump(), 24 * 3600));
  const json files = r.value("files", json::array());
  if (dry_run)
    for (const json& f : files) std::printf("%s\n", f.get<std::string>().c_str());
  std::fprintf(dry_run ? stderr : stdout,
               "%s: %s %zu of %lld files (%s, %lld never committed), retention %.1f hours\n",
               name.c_str(), dry_run ? "would delete" : "deleted", files.size(),
               static_cast<long long>(r.value("files_scanned", 0LL)),
               HumanBytes(r.value("bytes", 0LL)).c_str(), static_cast<long long>(r.value("orphans", 0LL)),
               r.value("retain_hours", 0.0));
  return absl::OkStatus();
}

// A commit's time (ms since the epoch) to the second, UTC.
std::string When(const json& ts) {
  if (!ts.is_number_integer()) return "?";
  return schema::FormatTimestampMicros(ts.get<int64_t>() / 1000 * 1'000'000);
}

std::string OrDash(const json& v) { return v.is_number_integer() ? std::to_string(v.get<int64_t>()) : "-"; }

absl::Status RunHistory(const std::string& name, int64_t limit) {
  NOBUS_ASSIGN_OR_RETURN(json r, Call("GET", Cat(AdminPath(name, "history"), "?limit=", limit)));
  std::printf("%-8s %-20s %-18s %9s %9s %10s %10s %11s  %s\n", "VERSION", "TIME (UTC)",
              "OPERATION", "+FILES", "-FILES", "+ROWS", "-ROWS", "TABLE ROWS", "WRITER");
  for (const json& e : r.value("history", json::array())) {
    std::printf("%-8lld %-20s %-18s %9lld %9lld %10lld %10s %11s  %s\n",
                static_cast<long long>(e.value("version", 0LL)), When(e["timestamp"]).c_str(),
                e.value("operation", "").c_str(), static_cast<long long>(e.value("files_added", 0LL)),
                static_cast<long long>(e.value("files_removed", 0LL)),
                static_cast<long long>(e.value("rows_added", 0LL)), OrDash(e["rows_removed"]).c_str(),
                OrDash(e["table_rows"]).c_str(), e.value("engine_info", "").c_str());
  }
  return absl::OkStatus();
}

absl::Status RunSetProperties(const std::string& name, const std::vector<std::string>& pairs) {
  NOBUS_ASSIGN_OR_RETURN(json props, ParseProperties(pairs));
  NOBUS_ASSIGN_OR_RETURN(json info, Call("POST", AdminPath(name, "properties"),
                                         json{{"properties", props}}.dump()));
  PrintTable(info);
  return absl::OkStatus();
}

// Prints a table's commit health (GET or POST answer of .../status and .../retry).
void PrintHealth(const json& h) {
  const std::string state = h.value("state", "?");
  std::printf("%s: %s\n", h.value("table", "?").c_str(), state.c_str());
  std::printf("  buffered: %s of acknowledged rows waiting for the next commit\n",
              HumanBytes(h.value("buffered_bytes", 0LL)).c_str());
  if (state == "ok") return;
  std::printf("  failing for: %.1f s, %lld commits failed in a row\n",
              static_cast<double>(h.value("failing_for_ms", 0LL)) / 1000.0,
              static_cast<long long>(h.value("consecutive_failures", 0LL)));
  std::printf("  last error: %s\n", h.value("last_error", "").c_str());
  if (state != "stuck") return;
  std::printf("  parked: %lld acknowledged WAL records, safe in the WAL, not in memory\n",
              static_cast<long long>(h.value("parked_records", 0LL)));
  std::printf("  next retry in %.1f s; new records to it are refused until a commit succeeds.\n"
              "  Fix the table's storage, then `nobus table retry %s` (or drop the table to "
              "discard its rows)\n",
              static_cast<double>(h.value("next_retry_in_ms", 0LL)) / 1000.0,
              h.value("table", "?").c_str());
}

absl::Status RunList(const std::string& scope) {
  size_t dot = scope.find('.');
  std::string query = Cat("?catalog_name=", scope.substr(0, dot));
  if (dot != std::string::npos) query += Cat("&schema_name=", scope.substr(dot + 1));
  NOBUS_ASSIGN_OR_RETURN(json doc, Call("GET", Cat(kTablesPath, query)));
  for (const json& t : doc.value("tables", json::array()))
    std::printf("%s\n", t.value("full_name", "?").c_str());
  return absl::OkStatus();
}

// Runs `fn` as the callback of subcommand `name`, reporting its error.
template <typename Fn>
void OnRun(CLI::App* cmd, const char* name, Fn fn) {
  cmd->fallthrough();  // --server and --token may follow the subcommand
  cmd->callback([name, fn] {
    absl::Status st = fn();
    if (!st.ok()) {
      std::fprintf(stderr, "nobus table %s: %s\n", name, std::string(st.message()).c_str());
      SetExitCode(1);
    }
  });
}

}  // namespace

void RegisterTableCommand(CLI::App& app) {
  auto* table = app.add_subcommand(
      "table",
      "Create, show, list, drop and maintain (optimize, vacuum, history, set-properties, status, "
      "retry) tables of a running nobusd (its HTTP API).");
  table->require_subcommand(1);
  table->add_option("--server", remote().server, "nobusd HTTP address")
      ->capture_default_str()
      ->envname("NOBUS_SERVER");
  AddCaCertOption(table);
  table->add_option("--token", remote().token, "Bearer token (when the server requires one)")
      ->envname("NOBUS_TOKEN");

  static std::string name, columns, scope;
  static std::vector<std::string> partition_by, properties;
  static int64_t limit = 20;
  static std::optional<double> retain_hours;
  static bool dry_run = false, force = false;
  auto* create = table->add_subcommand("create", "Create a Delta table.");
  create->add_option("name", name, "catalog.schema.table")->required();
  create
      ->add_option("--columns", columns,
                   "Columns as SQL, e.g. \"id BIGINT NOT NULL, msg STRING, ts TIMESTAMP\"")
      ->required();
  create->add_option("--partition-by", partition_by, "Partition columns (top-level primitives)");
  create->add_option("--property", properties,
                     "Table property KEY=VALUE (repeatable), e.g. delta.targetFileSize=64mb");
  OnRun(create, "create", [] { return RunCreate(name, columns, partition_by, properties); });

  auto* get = table->add_subcommand("get", "Show a table: columns, partitioning, location.");
  get->add_option("name", name, "catalog.schema.table")->required();
  OnRun(get, "get", []() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(json info, Call("GET", Cat(kTablesPath, "/", name)));
    PrintTable(info);
    return absl::OkStatus();
  });

  auto* list = table->add_subcommand("list", "List the tables of a catalog or schema.");
  list->add_option("scope", scope, "CATALOG or CATALOG.SCHEMA")->required();
  OnRun(list, "list", [] { return RunList(scope); });

  auto* optimize = table->add_subcommand(
      "optimize", "Compact the table's small files into files near delta.targetFileSize now.");
  optimize->add_option("name", name, "catalog.schema.table")->required();
  OnRun(optimize, "optimize", [] { return RunOptimize(name); });

  auto* vacuum = table->add_subcommand(
      "vacuum", "Delete data files no version inside the retention needs (and crash orphans).");
  vacuum->add_option("name", name, "catalog.schema.table")->required();
  vacuum->add_option("--retain-hours", retain_hours,
                     "Keep files needed by versions this recent (default: the table's "
                     "delta.deletedFileRetentionDuration, 7 days)");
  vacuum->add_flag("--dry-run", dry_run, "List what would be deleted; delete nothing");
  vacuum->add_flag("--force", force,
                   "Allow --retain-hours below delta.deletedFileRetentionDuration (readers of "
                   "older versions may then fail)");
  OnRun(vacuum, "vacuum", [] { return RunVacuum(name, retain_hours, dry_run, force); });

  auto* history = table->add_subcommand(
      "history", "Show the table's commits, newest first: operation, files and rows, writer.");
  history->add_option("name", name, "catalog.schema.table")->required();
  history->add_option("--limit", limit, "How many commits (0: all still in the log)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  OnRun(history, "history", [] { return RunHistory(name, limit); });

  auto* set_props = table->add_subcommand(
      "set-properties", "Set Delta table properties, e.g. delta.targetFileSize=64mb.");
  set_props->add_option("name", name, "catalog.schema.table")->required();
  set_props->add_option("properties", properties, "KEY=VALUE ...")->required();
  OnRun(set_props, "set-properties", [] { return RunSetProperties(name, properties); });

  auto* status = table->add_subcommand(
      "status", "Show whether the table's commits succeed: ok, failing (retried) or stuck "
                "(isolated: its rows wait in the WAL and new records are refused).");
  status->add_option("name", name, "catalog.schema.table")->required();
  OnRun(status, "status", []() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(json h, Call("GET", AdminPath(name, "status")));
    PrintHealth(h);
    return absl::OkStatus();
  });

  auto* retry = table->add_subcommand(
      "retry", "Commit a failing or stuck table's rows now instead of at its next retry.");
  retry->add_option("name", name, "catalog.schema.table")->required();
  OnRun(retry, "retry", []() -> absl::Status {
    NOBUS_ASSIGN_OR_RETURN(json h, Call("POST", AdminPath(name, "retry"), "", 3600));
    PrintHealth(h);
    return absl::OkStatus();
  });

  auto* drop = table->add_subcommand("drop", "Drop a table and delete its data.");
  drop->add_option("name", name, "catalog.schema.table")->required();
  OnRun(drop, "drop", []() -> absl::Status {
    NOBUS_RETURN_IF_ERROR(Call("DELETE", Cat(kTablesPath, "/", name)).status());
    std::printf("dropped %s\n", name.c_str());
    return absl::OkStatus();
  });
}

}  // namespace nobus::cli
