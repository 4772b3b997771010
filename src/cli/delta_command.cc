// `nobus delta show PATH`: loads a Delta table's snapshot (latest, or --version) and prints its
// version, protocol, schema, configuration, txn versions, row count and live files. Read-only.
// `nobus delta create PATH --columns DDL | --schema-json JSON [--partition-by COL...]`: creates an
// empty table (commit 0) with nobus's default configuration.
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "delta/log_store.h"
#include "delta/snapshot.h"
#include "delta/table.h"
#include "env/env.h"
#include "schema/ddl.h"
#include "schema/delta_json.h"
#include "schema/types.h"

namespace nobus::cli {
namespace {

void PrintSnapshot(const delta::Snapshot& snap) {
  std::printf("version: %lld\n", static_cast<long long>(snap.version()));
  if (snap.checkpoint_version())
    std::printf("replayed from checkpoint: %lld\n",
                static_cast<long long>(*snap.checkpoint_version()));
  std::printf("protocol: reader %d, writer %d\n", snap.protocol().min_reader_version,
              snap.protocol().min_writer_version);
  std::printf("table id: %s\n", snap.metadata().id.c_str());
  std::printf("schema:\n");
  for (const schema::Field& f : snap.schema().fields)
    std::printf("  %s %s%s\n", f.name.c_str(), schema::TypeName(f.type).c_str(),
                f.nullable ? "" : " NOT NULL");
  std::printf("partition columns:");
  for (const std::string& c : snap.metadata().partition_columns) std::printf(" %s", c.c_str());
  std::printf("\nconfiguration:\n");
  for (const auto& [k, v] : snap.metadata().configuration)
    std::printf("  %s = %s\n", k.c_str(), v.c_str());
  std::printf("txn versions:\n");
  for (const auto& [app, v] : snap.txn_versions())
    std::printf("  %s = %lld\n", app.c_str(), static_cast<long long>(v));
  delta::Snapshot::RecordCount rows = snap.CountRecords();
  std::printf("rows: %lld", static_cast<long long>(rows.records));
  if (rows.files_without_count > 0)
    std::printf(" (plus %lld files without a record count)",
                static_cast<long long>(rows.files_without_count));
  std::printf("\n");
  int64_t total = 0;
  for (const auto& [path, add] : snap.files()) total += add.size_bytes;
  std::printf("live files: %zu (%lld bytes), tombstones: %zu\n", snap.files().size(),
              static_cast<long long>(total), snap.tombstones().size());
  for (const auto& [path, add] : snap.files())
    std::printf("  %s %lld\n", path.c_str(), static_cast<long long>(add.size_bytes));
}

absl::Status RunShow(const std::string& path, std::optional<int64_t> version) {
  delta::FileLogStore store(env::PosixFileSystem(), path);
  NOBUS_ASSIGN_OR_RETURN(delta::Snapshot snap, delta::Snapshot::Load(&store, version));
  PrintSnapshot(snap);
  return absl::OkStatus();
}

absl::Status RunCreate(const std::string& path, const std::string& columns,
                       const std::string& schema_json,
                       const std::vector<std::string>& partition_by) {
  if (columns.empty() == schema_json.empty())
    return absl::InvalidArgumentError(
        "give the schema with exactly one of --columns \"id BIGINT NOT NULL, msg STRING\" or "
        "--schema-json '{\"type\":\"struct\",...}'");
  auto schema = columns.empty() ? schema::ParseSchemaJson(schema_json) : schema::ParseDdl(columns);
  NOBUS_RETURN_IF_ERROR(schema.status());
  delta::CreateTableOptions options;
  options.schema = *std::move(schema);
  options.partition_columns = partition_by;
  NOBUS_ASSIGN_OR_RETURN(
      auto committer,
      delta::Committer::Create(env::PosixFileSystem(), env::SystemClock(), path, options));
  std::printf("created %s (table id %s)\n", path.c_str(),
              committer->snapshot().metadata().id.c_str());
  return absl::OkStatus();
}

void RegisterCreate(CLI::App* delta) {
  auto* create = delta->add_subcommand("create", "Create an empty Delta table (commit 0).");
  static std::string path, columns, schema_json;
  static std::vector<std::string> partition_by;
  create->add_option("path", path, "Table root directory")->required();
  create->add_option(
      "--columns", columns,
      "Columns as SQL, e.g. \"id BIGINT NOT NULL, ts TIMESTAMP, tags ARRAY<STRING>\"");
  create->add_option("--schema-json", schema_json,
                     "Spark struct schema JSON (alternative to --columns)");
  create->add_option("--partition-by", partition_by, "Partition columns (top-level primitives)");
  create->callback([] {
    absl::Status st = RunCreate(path, columns, schema_json, partition_by);
    if (!st.ok()) {
      std::fprintf(stderr, "nobus delta create: %s\n", std::string(st.message()).c_str());
      SetExitCode(1);
    }
  });
}

}  // namespace

void RegisterDeltaCommand(CLI::App& app) {
  auto* delta = app.add_subcommand("delta", "Inspect and create Delta Lake tables.");
  delta->require_subcommand(1);
  RegisterCreate(delta);
  auto* show = delta->add_subcommand("show", "Print a table's snapshot: version, schema, files.");
  static std::string path;
  static int64_t version = -1;
  show->add_option("path", path, "Table root directory")->required();
  show->add_option("--version", version, "Version to load (default: latest)");
  show->callback([] {
    std::optional<int64_t> v;
    if (version >= 0) v = version;
    absl::Status st = RunShow(path, v);
    if (!st.ok()) {
      std::fprintf(stderr, "nobus delta show: %s\n", std::string(st.message()).c_str());
      SetExitCode(1);
    }
  });
}

}  // namespace nobus::cli
