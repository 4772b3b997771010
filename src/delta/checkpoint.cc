#include "delta/checkpoint.h"

#include <nlohmann/json.hpp>

#include "parquet/reader.h"

namespace nobus::delta {
namespace {

using parquet::FileReader;
using Path = std::vector<std::string>;

// One leaf column of the checkpoint with its entries grouped by row.
struct Leaf {
  bool present = false;
  parquet::ColumnValues values;
  std::vector<size_t> row_begin;  // first entry of each row, plus the end
  std::vector<int64_t> value_of;  // per entry: index into the value vector, or -1 for null
};

absl::StatusOr<Leaf> LoadLeafAt(const FileReader& reader, int column) {
  Leaf leaf;
  leaf.present = true;
  NOBUS_ASSIGN_OR_RETURN(leaf.values, reader.ReadColumn(column));
  const parquet::ColumnDescriptor& desc = reader.columns()[column];
  const auto& v = leaf.values;
  int64_t next_value = 0;
  for (size_t i = 0; i < v.num_entries; ++i) {
    bool has_value = v.def_levels.empty() || v.def_levels[i] == desc.max_def_level;
    leaf.value_of.push_back(has_value ? next_value++ : -1);
    if (v.rep_levels.empty() || v.rep_levels[i] == 0) leaf.row_begin.push_back(i);
  }
  leaf.row_begin.push_back(v.num_entries);
  if (static_cast<int64_t>(leaf.row_begin.size()) != reader.num_rows() + 1)
    return absl::DataLossError(
        Cat("column ", desc.path.back(), " has a row count unlike the file's"));
  return leaf;
}

absl::StatusOr<Leaf> LoadLeaf(const FileReader& reader, const Path& path) {
  std::optional<int> column = reader.FindColumn(path);
  if (!column) return Leaf{};
  return LoadLeafAt(reader, *column);
}

// The leaf under a map or list field (`prefix` + repeated group + `last`), whatever the repeated
// group is called (Spark: key_value / list; legacy writers: map / bag).
absl::StatusOr<Leaf> LoadNestedLeaf(const FileReader& reader, const Path& prefix,
                                    std::string_view last) {
  for (size_t i = 0; i < reader.columns().size(); ++i) {
    const Path& p = reader.columns()[i].path;
    if (p.size() == prefix.size() + 2 && std::equal(prefix.begin(), prefix.end(), p.begin()) &&
        (p.back() == last || last.empty()))
      return LoadLeafAt(reader, static_cast<int>(i));
  }
  return Leaf{};
}

bool Has(const Leaf& l, size_t row) { return l.present && l.value_of[l.row_begin[row]] >= 0; }

std::optional<std::string> Str(const Leaf& l, size_t row) {
  if (!Has(l, row)) return std::nullopt;
  size_t idx = static_cast<size_t>(l.value_of[l.row_begin[row]]);
  if (idx >= l.values.bytes.size()) return std::nullopt;
  return l.values.bytes[idx];
}

std::optional<int64_t> Int(const Leaf& l, size_t row) {
  if (!Has(l, row)) return std::nullopt;
  size_t idx = static_cast<size_t>(l.value_of[l.row_begin[row]]);
  if (idx >= l.values.ints.size()) return std::nullopt;
  return l.values.ints[idx];
}

// Entries of a map in `row`: key -> value (nullopt = null value).
PartitionValues MapAt(const Leaf& keys, const Leaf& values, size_t row) {
  PartitionValues out;
  if (!keys.present) return out;
  for (size_t e = keys.row_begin[row]; e < keys.row_begin[row + 1]; ++e) {
    int64_t k = keys.value_of[e];
    if (k < 0 || static_cast<size_t>(k) >= keys.values.bytes.size()) continue;
    std::optional<std::string> v;
    if (values.present && e < values.value_of.size() && values.value_of[e] >= 0 &&
        static_cast<size_t>(values.value_of[e]) < values.values.bytes.size())
      v = values.values.bytes[values.value_of[e]];
    out[keys.values.bytes[k]] = std::move(v);
  }
  return out;
}

StringMap StringMapAt(const Leaf& keys, const Leaf& values, size_t row) {
  StringMap out;
  for (auto& [k, v] : MapAt(keys, values, row))
    if (v) out[k] = *v;
  return out;
}

std::vector<std::string> ListAt(const Leaf& elements, size_t row) {
  std::vector<std::string> out;
  if (!elements.present) return out;
  for (size_t e = elements.row_begin[row]; e < elements.row_begin[row + 1]; ++e) {
    int64_t i = elements.value_of[e];
    if (i >= 0 && static_cast<size_t>(i) < elements.values.bytes.size())
      out.push_back(elements.values.bytes[i]);
  }
  return out;
}

struct MapLeaves {
  Leaf keys, values;
};

absl::StatusOr<MapLeaves> LoadMap(const FileReader& reader, const Path& prefix) {
  MapLeaves m;
  NOBUS_ASSIGN_OR_RETURN(m.keys, LoadNestedLeaf(reader, prefix, "key"));
  NOBUS_ASSIGN_OR_RETURN(m.values, LoadNestedLeaf(reader, prefix, "value"));
  return m;
}

struct AddLeaves {
  Leaf path, size, mtime, data_change, stats;
  MapLeaves partition_values, tags;
};

struct RemoveLeaves {
  Leaf path, deletion_timestamp, data_change, extended, size;
  MapLeaves partition_values;
};

struct MetadataLeaves {
  Leaf id, name, description, provider, schema_string, partition_columns, created_time;
  MapLeaves options, configuration;
};

struct OtherLeaves {
  Leaf app_id, txn_version, last_updated, min_reader, min_writer, reader_features, writer_features;
};

absl::Status Load(const FileReader& r, AddLeaves* a) {
  NOBUS_ASSIGN_OR_RETURN(a->path, LoadLeaf(r, {"add", "path"}));
  NOBUS_ASSIGN_OR_RETURN(a->size, LoadLeaf(r, {"add", "size"}));
  NOBUS_ASSIGN_OR_RETURN(a->mtime, LoadLeaf(r, {"add", "modificationTime"}));
  NOBUS_ASSIGN_OR_RETURN(a->data_change, LoadLeaf(r, {"add", "dataChange"}));
  NOBUS_ASSIGN_OR_RETURN(a->stats, LoadLeaf(r, {"add", "stats"}));
  NOBUS_ASSIGN_OR_RETURN(a->partition_values, LoadMap(r, {"add", "partitionValues"}));
  NOBUS_ASSIGN_OR_RETURN(a->tags, LoadMap(r, {"add", "tags"}));
  return absl::OkStatus();
}

absl::Status Load(const FileReader& r, RemoveLeaves* x) {
  NOBUS_ASSIGN_OR_RETURN(x->path, LoadLeaf(r, {"remove", "path"}));
  NOBUS_ASSIGN_OR_RETURN(x->deletion_timestamp, LoadLeaf(r, {"remove", "deletionTimestamp"}));
  NOBUS_ASSIGN_OR_RETURN(x->data_change, LoadLeaf(r, {"remove", "dataChange"}));
  NOBUS_ASSIGN_OR_RETURN(x->extended, LoadLeaf(r, {"remove", "extendedFileMetadata"}));
  NOBUS_ASSIGN_OR_RETURN(x->size, LoadLeaf(r, {"remove", "size"}));
  NOBUS_ASSIGN_OR_RETURN(x->partition_values, LoadMap(r, {"remove", "partitionValues"}));
  return absl::OkStatus();
}

absl::Status Load(const FileReader& r, MetadataLeaves* m) {
  NOBUS_ASSIGN_OR_RETURN(m->id, LoadLeaf(r, {"metaData", "id"}));
  NOBUS_ASSIGN_OR_RETURN(m->name, LoadLeaf(r, {"metaData", "name"}));
  NOBUS_ASSIGN_OR_RETURN(m->description, LoadLeaf(r, {"metaData", "description"}));
  NOBUS_ASSIGN_OR_RETURN(m->provider, LoadLeaf(r, {"metaData", "format", "provider"}));
  NOBUS_ASSIGN_OR_RETURN(m->schema_string, LoadLeaf(r, {"metaData", "schemaString"}));
  NOBUS_ASSIGN_OR_RETURN(m->partition_columns,
                         LoadNestedLeaf(r, {"metaData", "partitionColumns"}, ""));
  NOBUS_ASSIGN_OR_RETURN(m->created_time, LoadLeaf(r, {"metaData", "createdTime"}));
  NOBUS_ASSIGN_OR_RETURN(m->options, LoadMap(r, {"metaData", "format", "options"}));
  NOBUS_ASSIGN_OR_RETURN(m->configuration, LoadMap(r, {"metaData", "configuration"}));
  return absl::OkStatus();
}

absl::Status Load(const FileReader& r, OtherLeaves* o) {
  NOBUS_ASSIGN_OR_RETURN(o->app_id, LoadLeaf(r, {"txn", "appId"}));
  NOBUS_ASSIGN_OR_RETURN(o->txn_version, LoadLeaf(r, {"txn", "version"}));
  NOBUS_ASSIGN_OR_RETURN(o->last_updated, LoadLeaf(r, {"txn", "lastUpdated"}));
  NOBUS_ASSIGN_OR_RETURN(o->min_reader, LoadLeaf(r, {"protocol", "minReaderVersion"}));
  NOBUS_ASSIGN_OR_RETURN(o->min_writer, LoadLeaf(r, {"protocol", "minWriterVersion"}));
  NOBUS_ASSIGN_OR_RETURN(o->reader_features, LoadNestedLeaf(r, {"protocol", "readerFeatures"}, ""));
  NOBUS_ASSIGN_OR_RETURN(o->writer_features, LoadNestedLeaf(r, {"protocol", "writerFeatures"}, ""));
  return absl::OkStatus();
}

absl::Status DecodedPath(const std::optional<std::string>& raw, std::string* out) {
  if (!raw) return absl::DataLossError("a path is not a string");
  auto decoded = UriDecodePath(*raw);
  if (!decoded.ok()) return absl::DataLossError(decoded.status().message());
  *out = std::move(*decoded);
  return absl::OkStatus();
}

absl::Status AddRow(const AddLeaves& l, size_t row, CommitActions* out) {
  AddFile& a = out->adds.emplace_back();
  NOBUS_RETURN_IF_ERROR(DecodedPath(Str(l.path, row), &a.path));
  a.partition_values = MapAt(l.partition_values.keys, l.partition_values.values, row);
  a.size_bytes = Int(l.size, row).value_or(0);
  a.modification_time_ms = Int(l.mtime, row).value_or(0);
  a.data_change = Int(l.data_change, row).value_or(0) != 0;
  a.stats = Str(l.stats, row);
  a.tags = StringMapAt(l.tags.keys, l.tags.values, row);
  return absl::OkStatus();
}

absl::Status RemoveRow(const RemoveLeaves& l, size_t row, CommitActions* out) {
  RemoveFile& x = out->removes.emplace_back();
  NOBUS_RETURN_IF_ERROR(DecodedPath(Str(l.path, row), &x.path));
  x.deletion_timestamp_ms = Int(l.deletion_timestamp, row);
  x.data_change = Int(l.data_change, row).value_or(0) != 0;
  if (auto e = Int(l.extended, row)) x.extended_file_metadata = *e != 0;
  if (l.partition_values.keys.present && Has(l.partition_values.keys, row))
    x.partition_values = MapAt(l.partition_values.keys, l.partition_values.values, row);
  x.size_bytes = Int(l.size, row);
  return absl::OkStatus();
}

absl::Status MetadataRow(const MetadataLeaves& l, size_t row, CommitActions* out) {
  std::optional<std::string> id = Str(l.id, row);
  if (!id) return absl::DataLossError("metaData.id is not a string");
  Metadata& m = out->metadata.emplace();
  m.id = std::move(*id);
  m.name = Str(l.name, row);
  m.description = Str(l.description, row);
  m.format_provider = Str(l.provider, row).value_or("parquet");
  m.format_options = StringMapAt(l.options.keys, l.options.values, row);
  m.schema_string = Str(l.schema_string, row).value_or("");
  m.partition_columns = ListAt(l.partition_columns, row);
  m.configuration = StringMapAt(l.configuration.keys, l.configuration.values, row);
  m.created_time_ms = Int(l.created_time, row);
  return absl::OkStatus();
}

void OtherRow(const OtherLeaves& l, size_t row, CommitActions* out) {
  if (std::optional<std::string> app_id = Str(l.app_id, row)) {
    out->txns.push_back(
        Txn{*app_id, Int(l.txn_version, row).value_or(0), Int(l.last_updated, row)});
  }
  if (std::optional<int64_t> min_reader = Int(l.min_reader, row)) {
    Protocol& p = out->protocol.emplace();
    p.min_reader_version = static_cast<int>(*min_reader);
    p.min_writer_version = static_cast<int>(Int(l.min_writer, row).value_or(0));
    if (l.reader_features.present && Has(l.reader_features, row))
      p.reader_features = ListAt(l.reader_features, row);
    if (l.writer_features.present && Has(l.writer_features, row))
      p.writer_features = ListAt(l.writer_features, row);
  }
}

absl::StatusOr<CommitActions> Assemble(const FileReader& reader) {
  AddLeaves add;
  RemoveLeaves remove;
  MetadataLeaves metadata;
  OtherLeaves other;
  NOBUS_RETURN_IF_ERROR(Load(reader, &add));
  NOBUS_RETURN_IF_ERROR(Load(reader, &remove));
  NOBUS_RETURN_IF_ERROR(Load(reader, &metadata));
  NOBUS_RETURN_IF_ERROR(Load(reader, &other));
  CommitActions out;
  for (size_t row = 0; row < static_cast<size_t>(reader.num_rows()); ++row) {
    if (Has(add.path, row)) NOBUS_RETURN_IF_ERROR(AddRow(add, row, &out));
    if (Has(remove.path, row)) NOBUS_RETURN_IF_ERROR(RemoveRow(remove, row, &out));
    if (Has(metadata.id, row)) {
      if (out.metadata) return absl::DataLossError("more than one metaData row");
      NOBUS_RETURN_IF_ERROR(MetadataRow(metadata, row, &out));
    }
    if (Int(other.min_reader, row) && out.protocol)
      return absl::DataLossError("more than one protocol row");
    OtherRow(other, row, &out);
  }
  return out;
}

}  // namespace

absl::StatusOr<CommitActions> ParseCheckpoint(std::string_view bytes, std::string_view file_name) {
  auto reader = FileReader::Open(std::string(bytes));
  if (!reader.ok()) return Annotate(reader.status(), file_name);
  auto actions = Assemble(*reader);
  if (!actions.ok()) return Annotate(actions.status(), file_name);
  return actions;
}

std::optional<LastCheckpoint> ParseLastCheckpoint(std::string_view json) {
  auto j = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  auto get = [&](const char* key) -> std::optional<int64_t> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  std::optional<int64_t> version = get("version");
  if (!version || *version < 0) return std::nullopt;
  return LastCheckpoint{*version, get("size"), get("sizeInBytes"), get("numOfAddFiles")};
}

}  // namespace nobus::delta
