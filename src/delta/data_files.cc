#include "delta/data_files.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <set>

#include "common/coding.h"
#include "delta/log_store.h"

namespace nobus::delta {
namespace {

bool SafeByte(unsigned char c) { return std::isalnum(c) || c == '.' || c == '_' || c == '-'; }

std::string EscapeDirValue(const std::string& value) { return PercentEncode(value, SafeByte); }

}  // namespace

absl::Status CreateDirDurably(env::FileSystem* fs, const std::string& root,
                              const std::string& dir) {
  if (!fs->Exists(root))
    return absl::FailedPreconditionError(
        Cat("table directory ", root, " is missing (moved or deleted outside nobus)"));
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

namespace {

std::optional<std::pair<int64_t, int64_t>> IntegerRange(schema::TypeKind kind) {
  switch (kind) {
    case schema::TypeKind::kByte:
      return std::make_pair(-128LL, 127LL);
    case schema::TypeKind::kShort:
      return std::make_pair(-32768LL, 32767LL);
    case schema::TypeKind::kInteger:
      return std::make_pair(-2147483648LL, 2147483647LL);
    case schema::TypeKind::kLong:
      return std::make_pair(INT64_MIN, INT64_MAX);
    default:
      return std::nullopt;
  }
}

bool IsDate(const std::string& v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (!std::isdigit(static_cast<unsigned char>(v[i]))) return false;
  return true;
}

// Delta's string form for integers, booleans and dates (what readers cast back); values of other
// types are the caller's responsibility. "" means null to readers and is accepted.
absl::Status CheckPartitionValue(const std::string& column, schema::TypeKind kind,
                                 const std::string& v) {
  if (v.empty() || kind == schema::TypeKind::kString) return absl::OkStatus();
  bool ok = true;
  if (auto range = IntegerRange(kind)) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    ok = ec == std::errc() && end == v.data() + v.size() && n >= range->first && n <= range->second;
  } else if (kind == schema::TypeKind::kBoolean) {
    ok = v == "true" || v == "false";
  } else if (kind == schema::TypeKind::kDate) {
    ok = IsDate(v);
  }
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(Cat("partition value '", v, "' is not a valid ",
                                        schema::TypeName(schema::Primitive(kind)), " for column '",
                                        column, "'"));
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
    rows->partition_types_[f.name] = f.type.kind;
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
  for (const std::string& c : partition_columns_) {
    auto it = values.find(c);
    if (it == values.end())
      return absl::InvalidArgumentError(Cat("no value for partition column '", c, "'"));
    if (it->second)
      NOBUS_RETURN_IF_ERROR(CheckPartitionValue(c, partition_types_.at(c), *it->second));
  }
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

std::string NewDataFilePath(const std::string& partition_dir,
                            const parquet::WriterOptions& options) {
  std::string name = Cat("part-00000-", NewUuid(), "-c000.",
                         options.codec == parquet::Codec::kZstd     ? "zstd."
                         : options.codec == parquet::Codec::kSnappy ? "snappy."
                                                                    : "",
                         "parquet");
  return partition_dir.empty() ? name : Cat(partition_dir, "/", name);
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
  std::string rel = NewDataFilePath(partition_dir, options.writer);
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
