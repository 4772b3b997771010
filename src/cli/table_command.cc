// `nobus table create|get|list|drop`: the table API of a running nobusd (HTTP, Unity Catalog
// REST shapes; doc/server.md). The schema is typed as SQL (--columns "id BIGINT NOT NULL, ...")
// and sent as UC columns with type_text and the exact type_json.
#include <httplib.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/remote.h"
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
                          const std::string& body = "") {
  httplib::Client client = HttpClient(remote().server);
  client.set_connection_timeout(5);
  client.set_read_timeout(60);
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

absl::Status RunCreate(const std::string& name, const std::string& columns,
                       const std::vector<std::string>& partition_by) {
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
      "table", "Create, show, list and drop tables of a running nobusd (its HTTP table API).");
  table->require_subcommand(1);
  table->add_option("--server", remote().server, "nobusd HTTP address")
      ->capture_default_str()
      ->envname("NOBUS_SERVER");
  AddCaCertOption(table);
  table->add_option("--token", remote().token, "Bearer token (when the server requires one)")
      ->envname("NOBUS_TOKEN");

  static std::string name, columns, scope;
  static std::vector<std::string> partition_by;
  auto* create = table->add_subcommand("create", "Create a Delta table.");
  create->add_option("name", name, "catalog.schema.table")->required();
  create
      ->add_option("--columns", columns,
                   "Columns as SQL, e.g. \"id BIGINT NOT NULL, msg STRING, ts TIMESTAMP\"")
      ->required();
  create->add_option("--partition-by", partition_by, "Partition columns (top-level primitives)");
  OnRun(create, "create", [] { return RunCreate(name, columns, partition_by); });

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

  auto* drop = table->add_subcommand("drop", "Drop a table and delete its data.");
  drop->add_option("name", name, "catalog.schema.table")->required();
  OnRun(drop, "drop", []() -> absl::Status {
    NOBUS_RETURN_IF_ERROR(Call("DELETE", Cat(kTablesPath, "/", name)).status());
    std::printf("dropped %s\n", name.c_str());
    return absl::OkStatus();
  });
}

}  // namespace nobus::cli
