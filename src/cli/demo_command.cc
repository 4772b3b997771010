// `nobus demo`: writes sample device events to a Parquet file with the in-house writer and prints
// what it wrote (rows, size, row groups, the Delta statistics JSON). scripts/run.sh then reads the
// file back with DuckDB, an independent reader.
#include <cstdio>
#include <string>

#include "cli/cli.h"
#include "env/env.h"
#include "parquet/writer.h"
#include "schema/types.h"

namespace nobus::cli {
namespace {

using schema::TypeKind;

schema::Schema DemoSchema() {
  using schema::Primitive;
  return schema::Schema{{
      {"event_id", Primitive(TypeKind::kLong), false},
      {"device", Primitive(TypeKind::kString)},
      {"ts", Primitive(TypeKind::kTimestamp)},
      {"temperature", Primitive(TypeKind::kDouble)},
      {"tags", schema::Array(Primitive(TypeKind::kString))},
      {"attrs", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kString))},
  }};
}

absl::Status AppendDemoRow(parquet::RowBuilder& b, int64_t i) {
  static const char* kDevices[] = {"sensor-a", "sensor-b", "sensor-c"};
  b.BeginRow();
  b.Int64(i);
  b.String(kDevices[i % 3]);
  b.Int64(1'767'225'600'000'000 + i * 250'000);  // 2026-01-01T00:00:00Z + i * 250 ms
  if (i % 7 == 3) {
    b.Null();
  } else {
    b.Double(20.0 + static_cast<double>(i % 50) / 10.0);
  }
  b.BeginList();
  if (i % 2 == 0) b.String("even");
  if (i % 5 == 0) b.String("fifth");
  b.EndList();
  b.BeginMap();
  b.String("firmware");
  b.String(i % 4 == 0 ? "1.2.0" : "1.1.9");
  b.EndMap();
  return b.EndRow();
}

absl::Status RunDemo(const std::string& out, int64_t rows) {
  NOBUS_ASSIGN_OR_RETURN(auto batch, parquet::RowBatch::Create(DemoSchema()));
  parquet::RowBuilder builder(batch.get());
  for (int64_t i = 0; i < rows; ++i) NOBUS_RETURN_IF_ERROR(AppendDemoRow(builder, i));
  env::FileSystem* fs = env::PosixFileSystem();
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(env::Dirname(out)));
  if (fs->Exists(out)) NOBUS_RETURN_IF_ERROR(fs->Delete(out));  // the demo's own output: replace it
  NOBUS_ASSIGN_OR_RETURN(parquet::FileResult result, parquet::WriteFileAt(fs, out, *batch));
  std::printf("wrote %s: %lld rows, %llu bytes, %d row group(s)\n", out.c_str(),
              static_cast<long long>(result.num_rows),
              static_cast<unsigned long long>(result.size_bytes), result.num_row_groups);
  std::printf("delta stats: %s\n", parquet::DeltaStatsJson(*batch, result).c_str());
  return absl::OkStatus();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "demo", "Write sample device events to a Parquet file with nobus's writer and describe it.");
  static std::string out = "data/demo/events.parquet";
  static int64_t rows = 1000;
  cmd->add_option("--out", out, "Parquet file to write (parent directories are created)")
      ->capture_default_str();
  cmd->add_option("--rows", rows, "Number of sample rows")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  cmd->callback([] {
    absl::Status st = RunDemo(out, rows);
    if (!st.ok()) {
      std::fprintf(stderr, "nobus demo: %s\n", std::string(st.message()).c_str());
      SetExitCode(1);
    }
  });
}

}  // namespace nobus::cli
