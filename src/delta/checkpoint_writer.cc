#include "delta/checkpoint_writer.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "delta/config.h"
#include "parquet/writer.h"

namespace nobus::delta {
namespace {

using parquet::RowBuilder;
using schema::TypeKind;

// An env::File that keeps its bytes in memory: the Parquet writer writes the checkpoint here and
// the LogStore then stores the bytes with an atomic replace.
class StringFile final : public env::File {
 public:
  explicit StringFile(std::string* out) : out_(out) {}
  absl::Status Append(std::string_view data) override {
    out_->append(data);
    return absl::OkStatus();
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    if (out_->size() < offset + data.size()) out_->resize(offset + data.size());
    std::memcpy(out_->data() + offset, data.data(), data.size());
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    if (offset >= out_->size()) return size_t{0};
    size_t got = std::min(n, out_->size() - static_cast<size_t>(offset));
    std::memcpy(scratch, out_->data() + offset, got);
    return got;
  }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Truncate(uint64_t size) override {
    out_->resize(size);
    return absl::OkStatus();
  }
  absl::Status Preallocate(uint64_t) override { return absl::OkStatus(); }
  absl::StatusOr<uint64_t> Size() const override { return out_->size(); }
  absl::Status Close() override { return absl::OkStatus(); }

 private:
  std::string* out_;
};

schema::Field F(std::string name, schema::DataType type) {
  return {std::move(name), std::move(type), true};
}
schema::DataType Str() { return schema::Primitive(TypeKind::kString); }
schema::DataType Long() { return schema::Primitive(TypeKind::kLong); }
schema::DataType Bool() { return schema::Primitive(TypeKind::kBoolean); }
schema::DataType StrMap() { return schema::Map(Str(), Str(), true); }
schema::DataType StrList() { return schema::Array(Str(), true); }

void OptString(RowBuilder& b, const std::optional<std::string>& s) {
  if (s)
    b.String(*s);
  else
    b.Null();
}

void OptLong(RowBuilder& b, const std::optional<int64_t>& v) {
  if (v)
    b.Int64(*v);
  else
    b.Null();
}

void StringMapValue(RowBuilder& b, const StringMap& m) {
  b.BeginMap();
  for (const auto& [k, v] : m) {
    b.String(k);
    b.String(v);
  }
  b.EndMap();
}

void PartitionMapValue(RowBuilder& b, const PartitionValues& m) {
  b.BeginMap();
  for (const auto& [k, v] : m) {
    b.String(k);
    OptString(b, v);
  }
  b.EndMap();
}

void ListValue(RowBuilder& b, const std::vector<std::string>& items) {
  b.BeginList();
  for (const std::string& s : items) b.String(s);
  b.EndList();
}

void Nulls(RowBuilder& b, int n) {
  for (int i = 0; i < n; ++i) b.Null();
}

void TxnRow(RowBuilder& b, const Txn& t) {
  b.BeginStruct();
  b.String(t.app_id);
  b.Int64(t.version);
  OptLong(b, t.last_updated_ms);
  b.EndStruct();
  Nulls(b, 4);
}

void AddRow(RowBuilder& b, const AddFile& a) {
  Nulls(b, 1);
  b.BeginStruct();
  b.String(UriEncodePath(a.path));
  PartitionMapValue(b, a.partition_values);
  b.Int64(a.size_bytes);
  b.Int64(a.modification_time_ms);
  b.Bool(false);
  if (a.tags.empty())
    b.Null();
  else
    StringMapValue(b, a.tags);
  OptString(b, a.stats);
  b.EndStruct();
  Nulls(b, 3);
}

void RemoveRow(RowBuilder& b, const RemoveFile& r) {
  Nulls(b, 2);
  b.BeginStruct();
  b.String(UriEncodePath(r.path));
  OptLong(b, r.deletion_timestamp_ms);
  b.Bool(false);
  if (r.extended_file_metadata)
    b.Bool(*r.extended_file_metadata);
  else
    b.Null();
  if (r.partition_values)
    PartitionMapValue(b, *r.partition_values);
  else
    b.Null();
  OptLong(b, r.size_bytes);
  b.Null();
  b.EndStruct();
  Nulls(b, 2);
}

void MetadataRow(RowBuilder& b, const Metadata& m) {
  Nulls(b, 3);
  b.BeginStruct();
  b.String(m.id);
  OptString(b, m.name);
  OptString(b, m.description);
  b.BeginStruct();
  b.String(m.format_provider);
  StringMapValue(b, m.format_options);
  b.EndStruct();
  b.String(m.schema_string);
  ListValue(b, m.partition_columns);
  StringMapValue(b, m.configuration);
  OptLong(b, m.created_time_ms);
  b.EndStruct();
  Nulls(b, 1);
}

void ProtocolRow(RowBuilder& b, const Protocol& p, bool with_features) {
  Nulls(b, 4);
  b.BeginStruct();
  b.Int32(p.min_reader_version);
  b.Int32(p.min_writer_version);
  if (with_features) {
    if (p.reader_features)
      ListValue(b, *p.reader_features);
    else
      b.Null();
    if (p.writer_features)
      ListValue(b, *p.writer_features);
    else
      b.Null();
  }
  b.EndStruct();
}

bool Expired(const RemoveFile& r, int64_t now_ms, int64_t retention_ms) {
  return r.deletion_timestamp_ms.value_or(0) + retention_ms <= now_ms;
}

// Rows in the order protocol, metaData, txns, adds, removes; each EndRow checked.
absl::Status FillRows(const Snapshot& snap, int64_t now_ms, const TxnExpiry& expired,
                      bool with_features, RowBuilder& b, EncodedCheckpoint* out) {
  auto row = [&](auto&& fill) -> absl::Status {
    b.BeginRow();
    fill();
    ++out->num_rows;
    return b.EndRow();
  };
  NOBUS_RETURN_IF_ERROR(row([&] { ProtocolRow(b, snap.protocol(), with_features); }));
  NOBUS_RETURN_IF_ERROR(row([&] { MetadataRow(b, snap.metadata()); }));
  for (const auto& entry : snap.txns()) {
    if (expired && expired(entry.second, snap.metadata(), now_ms)) continue;
    NOBUS_RETURN_IF_ERROR(row([&] { TxnRow(b, entry.second); }));
  }
  for (const auto& entry : snap.files()) {
    NOBUS_RETURN_IF_ERROR(row([&] { AddRow(b, entry.second); }));
    ++out->num_add_files;
  }
  int64_t retention_ms = DeletedFileRetentionMs(snap.metadata());
  for (const auto& entry : snap.tombstones()) {
    if (Expired(entry.second, now_ms, retention_ms)) continue;
    NOBUS_RETURN_IF_ERROR(row([&] { RemoveRow(b, entry.second); }));
  }
  return absl::OkStatus();
}

}  // namespace

schema::Schema CheckpointSchema(bool with_features) {
  schema::Schema s;
  s.fields.push_back(F(
      "txn", schema::Struct({F("appId", Str()), F("version", Long()), F("lastUpdated", Long())})));
  s.fields.push_back(
      F("add", schema::Struct({F("path", Str()), F("partitionValues", StrMap()), F("size", Long()),
                               F("modificationTime", Long()), F("dataChange", Bool()),
                               F("tags", StrMap()), F("stats", Str())})));
  s.fields.push_back(
      F("remove",
        schema::Struct({F("path", Str()), F("deletionTimestamp", Long()), F("dataChange", Bool()),
                        F("extendedFileMetadata", Bool()), F("partitionValues", StrMap()),
                        F("size", Long()), F("tags", StrMap())})));
  schema::DataType format = schema::Struct({F("provider", Str()), F("options", StrMap())});
  s.fields.push_back(
      F("metaData", schema::Struct({F("id", Str()), F("name", Str()), F("description", Str()),
                                    F("format", format), F("schemaString", Str()),
                                    F("partitionColumns", StrList()), F("configuration", StrMap()),
                                    F("createdTime", Long())})));
  std::vector<schema::Field> protocol = {
      F("minReaderVersion", schema::Primitive(TypeKind::kInteger)),
      F("minWriterVersion", schema::Primitive(TypeKind::kInteger))};
  if (with_features) {
    protocol.push_back(F("readerFeatures", StrList()));
    protocol.push_back(F("writerFeatures", StrList()));
  }
  s.fields.push_back(F("protocol", schema::Struct(std::move(protocol))));
  return s;
}

absl::StatusOr<EncodedCheckpoint> EncodeCheckpoint(const Snapshot& snapshot, int64_t now_ms,
                                                   const TxnExpiry& expired) {
  const Protocol& p = snapshot.protocol();
  bool with_features = p.reader_features.has_value() || p.writer_features.has_value();
  NOBUS_ASSIGN_OR_RETURN(auto batch, parquet::RowBatch::Create(CheckpointSchema(with_features)));
  RowBuilder builder(batch.get());
  EncodedCheckpoint out;
  absl::Status filled = FillRows(snapshot, now_ms, expired, with_features, builder, &out);
  if (!filled.ok()) return absl::InternalError(Cat("building checkpoint rows: ", filled.message()));
  StringFile file(&out.bytes);
  parquet::WriterOptions options;
  options.codec = parquet::Codec::kSnappy;
  NOBUS_RETURN_IF_ERROR(parquet::WriteFile(&file, *batch, options).status());
  return out;
}

std::string SerializeLastCheckpoint(const LastCheckpoint& info) {
  nlohmann::ordered_json j;
  j["version"] = info.version;
  if (info.size) j["size"] = *info.size;
  if (info.size_in_bytes) j["sizeInBytes"] = *info.size_in_bytes;
  if (info.num_of_add_files) j["numOfAddFiles"] = *info.num_of_add_files;
  return j.dump();
}

absl::StatusOr<LastCheckpoint> WriteCheckpoint(LogStore* store, const Snapshot& snapshot,
                                               int64_t now_ms, const TxnExpiry& expired) {
  NOBUS_ASSIGN_OR_RETURN(EncodedCheckpoint encoded, EncodeCheckpoint(snapshot, now_ms, expired));
  NOBUS_RETURN_IF_ERROR(store->Replace(CheckpointFileName(snapshot.version()), encoded.bytes));
  LastCheckpoint info{snapshot.version(), encoded.num_rows,
                      static_cast<int64_t>(encoded.bytes.size()), encoded.num_add_files};
  NOBUS_RETURN_IF_ERROR(store->Replace(kLastCheckpointName, SerializeLastCheckpoint(info)));
  return info;
}

}  // namespace nobus::delta
