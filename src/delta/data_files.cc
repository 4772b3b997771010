#include "delta/data_files.h"

#include <algorithm>
#include <set>

#include "delta/log_store.h"

namespace nobus::delta {
namespace {

bool SafeByte(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }

std::string EscapeDirValue(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (SafeByte(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Creates `dir` (relative, maybe nested) below `root`, syncing each parent whose entries changed.
absl::Status CreateDirDurably(env::FileSystem* fs, const std::string& root,
                              const std::string& dir) {
  std::string parent = root;
  size_t start = 0;
  while (start < dir.size()) {
    size_t slash = dir.find('/', start);
    if (slash == std::string::npos) slash = dir.size();
    std::string child = env::JoinPath(parent, dir.substr(start, slash - start));
    if (!fs->Exists(child)) {
      NOBUS_RETURN_IF_ERROR(fs->CreateDirs(child));
      NOBUS_RETURN_IF_ERROR(fs->SyncDir(parent));
    }
    parent = std::move(child);
    start = slash + 1;
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PartitionedRows>> PartitionedRows::Create(
    const schema::Schema& schema, const std::vector<std::string>& partition_columns) {
  std::unique_ptr<PartitionedRows> rows(new PartitionedRows());
  std::set<std::string> wanted(partition_columns.begin(), partition_columns.end());
  if (wanted.size() != partition_columns.size())
    return absl::InvalidArgumentError("a partition column is listed twice");
  for (const schema::Field& f : schema.fields) {
    if (!wanted.contains(f.name)) {
      rows->data_schema_.fields.push_back(f);
      continue;
    }
    if (!f.type.IsPrimitive())
      return absl::InvalidArgumentError(Cat("partition column '", f.name, "' is not a primitive"));
    wanted.erase(f.name);
  }
  if (!wanted.empty())
    return absl::InvalidArgumentError(
        Cat("partition column '", *wanted.begin(), "' is not in the schema"));
  if (rows->data_schema_.fields.empty())
    return absl::InvalidArgumentError("every column is a partition column");
  NOBUS_RETURN_IF_ERROR(schema::Validate(rows->data_schema_));
  rows->partition_columns_ = partition_columns;
  return rows;
}

absl::StatusOr<parquet::RowBuilder*> PartitionedRows::Builder(const PartitionValues& values) {
  auto it = groups_.find(values);
  if (it != groups_.end()) return it->second.builder.get();
  if (values.size() != partition_columns_.size())
    return absl::InvalidArgumentError(
        Cat("expected ", partition_columns_.size(), " partition values, got ", values.size()));
  for (const std::string& c : partition_columns_)
    if (!values.contains(c))
      return absl::InvalidArgumentError(Cat("no value for partition column '", c, "'"));
  Group group;
  group.values = values;
  NOBUS_ASSIGN_OR_RETURN(group.batch, parquet::RowBatch::Create(data_schema_));
  group.builder = std::make_unique<parquet::RowBuilder>(group.batch.get());
  parquet::RowBuilder* builder = group.builder.get();
  groups_.emplace(values, std::move(group));
  return builder;
}

int64_t PartitionedRows::num_rows() const {
  int64_t n = 0;
  for (const auto& [values, group] : groups_) n += group.batch->num_rows();
  return n;
}

std::string PartitionDir(const std::vector<std::string>& partition_columns,
                         const PartitionValues& values) {
  std::string dir;
  for (const std::string& c : partition_columns) {
    auto it = values.find(c);
    bool null = it == values.end() || !it->second;
    if (!dir.empty()) dir += '/';
    dir += Cat(EscapeDirValue(c), "=",
               null ? std::string(kHiveDefaultPartition) : EscapeDirValue(*it->second));
  }
  return dir;
}

absl::StatusOr<std::optional<AddFile>> WriteDataFile(env::FileSystem* fs, env::Clock* clock,
                                                     const std::string& table_root,
                                                     const std::string& partition_dir,
                                                     const PartitionValues& values,
                                                     const parquet::RowBatch& batch,
                                                     const DataFileOptions& options) {
  if (batch.num_rows() == 0) return std::optional<AddFile>();
  NOBUS_RETURN_IF_ERROR(CreateDirDurably(fs, table_root, partition_dir));
  std::string name = Cat("part-00000-", NewUuid(), "-c000.",
                         options.writer.codec == parquet::Codec::kZstd     ? "zstd."
                         : options.writer.codec == parquet::Codec::kSnappy ? "snappy."
                                                                           : "",
                         "parquet");
  std::string rel = partition_dir.empty() ? name : Cat(partition_dir, "/", name);
  std::string dir = partition_dir.empty() ? table_root : env::JoinPath(table_root, partition_dir);
  std::string full = env::JoinPath(table_root, rel);
  NOBUS_ASSIGN_OR_RETURN(parquet::FileResult result,
                         parquet::WriteFileAt(fs, full, batch, options.writer));
  absl::Status synced = fs->SyncDir(dir);
  if (!synced.ok()) {
    (void)fs->Delete(full);
    return synced;
  }
  AddFile add;
  add.path = rel;
  add.partition_values = values;
  add.size_bytes = static_cast<int64_t>(result.size_bytes);
  add.modification_time_ms = clock->NowMillis();
  add.data_change = true;
  add.stats =
      parquet::DeltaStatsJson(batch, result, {.num_indexed_cols = options.num_indexed_cols});
  return std::optional<AddFile>(std::move(add));
}

absl::StatusOr<std::vector<AddFile>> WriteDataFiles(env::FileSystem* fs, env::Clock* clock,
                                                    const std::string& table_root,
                                                    const PartitionedRows& rows,
                                                    const DataFileOptions& options) {
  std::vector<AddFile> adds;
  for (const auto& [values, group] : rows.groups()) {
    std::string dir = PartitionDir(rows.partition_columns(), values);
    NOBUS_ASSIGN_OR_RETURN(
        std::optional<AddFile> add,
        WriteDataFile(fs, clock, table_root, dir, values, *group.batch, options));
    if (add) adds.push_back(std::move(*add));
  }
  return adds;
}

}  // namespace nobus::delta
