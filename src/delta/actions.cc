#include "delta/actions.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace nobus::delta {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

absl::Status TypeError(const char* key, const char* expected) {
  return absl::DataLossError(Cat("field '", key, "' is not ", expected));
}

// Looks up `key`; nullptr when missing or JSON null.
const Json* Find(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status GetString(const Json& obj, const char* key, std::optional<std::string>* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_string()) return TypeError(key, "a string");
  *out = v->get_ref<const std::string&>();
  return absl::OkStatus();
}

absl::Status GetRequiredString(const Json& obj, const char* key, std::string* out) {
  std::optional<std::string> v;
  NOBUS_RETURN_IF_ERROR(GetString(obj, key, &v));
  if (!v) return absl::DataLossError(Cat("required field '", key, "' is missing"));
  *out = std::move(*v);
  return absl::OkStatus();
}

absl::Status GetInt(const Json& obj, const char* key, std::optional<int64_t>* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (v->is_number_integer()) {
    *out = v->get<int64_t>();
  } else if (v->is_number_unsigned() && v->get<uint64_t>() <= INT64_MAX) {
    *out = static_cast<int64_t>(v->get<uint64_t>());
  } else {
    return TypeError(key, "an integer");
  }
  return absl::OkStatus();
}

absl::Status GetRequiredInt(const Json& obj, const char* key, int64_t* out) {
  std::optional<int64_t> v;
  NOBUS_RETURN_IF_ERROR(GetInt(obj, key, &v));
  if (!v) return absl::DataLossError(Cat("required field '", key, "' is missing"));
  *out = *v;
  return absl::OkStatus();
}

absl::Status GetBool(const Json& obj, const char* key, std::optional<bool>* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_boolean()) return TypeError(key, "a boolean");
  *out = v->get<bool>();
  return absl::OkStatus();
}

// An object of strings; non-string values are kept as their JSON text unless `strict`.
absl::Status GetStringMap(const Json& obj, const char* key, bool strict, StringMap* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return TypeError(key, "an object");
  for (const auto& [k, val] : v->items()) {
    if (val.is_string()) {
      (*out)[k] = val.get_ref<const std::string&>();
    } else if (strict) {
      return TypeError(key, "an object of strings");
    } else if (!val.is_null()) {
      (*out)[k] = val.dump(-1, ' ', false, Json::error_handler_t::replace);
    }
  }
  return absl::OkStatus();
}

absl::Status GetPartitionValues(const Json& obj, std::optional<PartitionValues>* out) {
  const Json* v = Find(obj, "partitionValues");
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_object()) return TypeError("partitionValues", "an object");
  PartitionValues values;
  for (const auto& [k, val] : v->items()) {
    if (val.is_null()) {
      values[k] = std::nullopt;
    } else if (val.is_string()) {
      values[k] = val.get_ref<const std::string&>();
    } else {
      return TypeError("partitionValues", "an object of strings or nulls");
    }
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status GetStringList(const Json& obj, const char* key,
                           std::optional<std::vector<std::string>>* out) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_array()) return TypeError(key, "an array");
  std::vector<std::string> list;
  for (const Json& e : *v) {
    if (!e.is_string()) return TypeError(key, "an array of strings");
    list.push_back(e.get_ref<const std::string&>());
  }
  *out = std::move(list);
  return absl::OkStatus();
}

absl::Status GetPath(const Json& obj, std::string* out) {
  std::string raw;
  NOBUS_RETURN_IF_ERROR(GetRequiredString(obj, "path", &raw));
  auto decoded = UriDecodePath(raw);
  if (!decoded.ok()) return absl::DataLossError(decoded.status().message());
  *out = std::move(*decoded);
  return absl::OkStatus();
}

absl::Status ParseProtocol(const Json& j, Protocol* p) {
  int64_t reader = 0, writer = 0;
  NOBUS_RETURN_IF_ERROR(GetRequiredInt(j, "minReaderVersion", &reader));
  NOBUS_RETURN_IF_ERROR(GetRequiredInt(j, "minWriterVersion", &writer));
  p->min_reader_version = static_cast<int>(std::clamp<int64_t>(reader, -1, 1 << 20));
  p->min_writer_version = static_cast<int>(std::clamp<int64_t>(writer, -1, 1 << 20));
  NOBUS_RETURN_IF_ERROR(GetStringList(j, "readerFeatures", &p->reader_features));
  return GetStringList(j, "writerFeatures", &p->writer_features);
}

absl::Status ParseMetadata(const Json& j, Metadata* m) {
  NOBUS_RETURN_IF_ERROR(GetRequiredString(j, "id", &m->id));
  NOBUS_RETURN_IF_ERROR(GetString(j, "name", &m->name));
  NOBUS_RETURN_IF_ERROR(GetString(j, "description", &m->description));
  const Json* format = Find(j, "format");
  if (format != nullptr) {
    if (!format->is_object()) return TypeError("format", "an object");
    NOBUS_RETURN_IF_ERROR(GetRequiredString(*format, "provider", &m->format_provider));
    NOBUS_RETURN_IF_ERROR(GetStringMap(*format, "options", true, &m->format_options));
  }
  NOBUS_RETURN_IF_ERROR(GetRequiredString(j, "schemaString", &m->schema_string));
  std::optional<std::vector<std::string>> parts;
  NOBUS_RETURN_IF_ERROR(GetStringList(j, "partitionColumns", &parts));
  if (parts) m->partition_columns = std::move(*parts);
  NOBUS_RETURN_IF_ERROR(GetStringMap(j, "configuration", true, &m->configuration));
  return GetInt(j, "createdTime", &m->created_time_ms);
}

absl::Status ParseAdd(const Json& j, AddFile* a) {
  NOBUS_RETURN_IF_ERROR(GetPath(j, &a->path));
  std::optional<PartitionValues> pv;
  NOBUS_RETURN_IF_ERROR(GetPartitionValues(j, &pv));
  if (pv) a->partition_values = std::move(*pv);
  NOBUS_RETURN_IF_ERROR(GetRequiredInt(j, "size", &a->size_bytes));
  std::optional<int64_t> mtime;
  NOBUS_RETURN_IF_ERROR(GetInt(j, "modificationTime", &mtime));
  a->modification_time_ms = mtime.value_or(0);
  std::optional<bool> data_change;
  NOBUS_RETURN_IF_ERROR(GetBool(j, "dataChange", &data_change));
  a->data_change = data_change.value_or(true);
  NOBUS_RETURN_IF_ERROR(GetString(j, "stats", &a->stats));
  return GetStringMap(j, "tags", false, &a->tags);
}

absl::Status ParseRemove(const Json& j, RemoveFile* r) {
  NOBUS_RETURN_IF_ERROR(GetPath(j, &r->path));
  NOBUS_RETURN_IF_ERROR(GetInt(j, "deletionTimestamp", &r->deletion_timestamp_ms));
  std::optional<bool> data_change;
  NOBUS_RETURN_IF_ERROR(GetBool(j, "dataChange", &data_change));
  r->data_change = data_change.value_or(true);
  NOBUS_RETURN_IF_ERROR(GetBool(j, "extendedFileMetadata", &r->extended_file_metadata));
  NOBUS_RETURN_IF_ERROR(GetPartitionValues(j, &r->partition_values));
  NOBUS_RETURN_IF_ERROR(GetInt(j, "size", &r->size_bytes));
  NOBUS_RETURN_IF_ERROR(GetString(j, "stats", &r->stats));
  return GetStringMap(j, "tags", false, &r->tags);
}

absl::Status ParseTxn(const Json& j, Txn* t) {
  NOBUS_RETURN_IF_ERROR(GetRequiredString(j, "appId", &t->app_id));
  NOBUS_RETURN_IF_ERROR(GetRequiredInt(j, "version", &t->version));
  return GetInt(j, "lastUpdated", &t->last_updated_ms);
}

// commitInfo is free-form: fields of an unexpected type are ignored rather than refused.
void ParseCommitInfo(const Json& j, CommitInfo* c) {
  (void)GetInt(j, "timestamp", &c->timestamp_ms);
  std::optional<std::string> s;
  if (GetString(j, "operation", &s).ok() && s) c->operation = *s;
  (void)GetStringMap(j, "operationParameters", false, &c->operation_parameters);
  (void)GetInt(j, "readVersion", &c->read_version);
  (void)GetBool(j, "isBlindAppend", &c->is_blind_append);
  (void)GetStringMap(j, "operationMetrics", false, &c->operation_metrics);
  s.reset();
  if (GetString(j, "engineInfo", &s).ok() && s) c->engine_info = *s;
  s.reset();
  if (GetString(j, "txnId", &s).ok() && s) c->txn_id = *s;
}

absl::Status ParseAction(const Json& line, CommitActions* out) {
  if (!line.is_object() || line.size() != 1)
    return absl::DataLossError("a line must be an object with exactly one action");
  auto first = line.begin();  // iterators into `line` itself; items() proxies are temporaries
  const std::string& kind = first.key();
  const Json& body = first.value();
  if (!body.is_object()) return absl::DataLossError(Cat("action '", kind, "' is not an object"));
  if (kind == "add") return ParseAdd(body, &out->adds.emplace_back());
  if (kind == "remove") return ParseRemove(body, &out->removes.emplace_back());
  if (kind == "txn") return ParseTxn(body, &out->txns.emplace_back());
  if (kind == "protocol" || kind == "metaData") {
    if (kind == "protocol" ? out->protocol.has_value() : out->metadata.has_value())
      return absl::DataLossError(Cat("more than one '", kind, "' action in one commit"));
    if (kind == "protocol") return ParseProtocol(body, &out->protocol.emplace());
    return ParseMetadata(body, &out->metadata.emplace());
  }
  if (kind == "commitInfo") {
    ParseCommitInfo(body, &out->commit_info.emplace());
    return absl::OkStatus();
  }
  ++out->unknown_actions;
  return absl::OkStatus();
}

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// ---- serialization ----

OrderedJson PartitionValuesJson(const PartitionValues& values) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [k, v] : values) out[k] = v ? OrderedJson(*v) : OrderedJson(nullptr);
  return out;
}

OrderedJson StringMapJson(const StringMap& map) {
  OrderedJson out = OrderedJson::object();
  for (const auto& [k, v] : map) out[k] = v;
  return out;
}

OrderedJson CommitInfoJson(const CommitInfo& c) {
  OrderedJson j = OrderedJson::object();
  if (c.timestamp_ms) j["timestamp"] = *c.timestamp_ms;
  j["operation"] = c.operation;
  j["operationParameters"] = StringMapJson(c.operation_parameters);
  if (c.read_version) j["readVersion"] = *c.read_version;
  if (c.is_blind_append) j["isBlindAppend"] = *c.is_blind_append;
  if (!c.operation_metrics.empty()) j["operationMetrics"] = StringMapJson(c.operation_metrics);
  if (!c.engine_info.empty()) j["engineInfo"] = c.engine_info;
  if (!c.txn_id.empty()) j["txnId"] = c.txn_id;
  return j;
}

OrderedJson ProtocolJson(const Protocol& p) {
  OrderedJson j = OrderedJson::object();
  j["minReaderVersion"] = p.min_reader_version;
  j["minWriterVersion"] = p.min_writer_version;
  if (p.reader_features) j["readerFeatures"] = *p.reader_features;
  if (p.writer_features) j["writerFeatures"] = *p.writer_features;
  return j;
}

OrderedJson MetadataJson(const Metadata& m) {
  OrderedJson j = OrderedJson::object();
  j["id"] = m.id;
  if (m.name) j["name"] = *m.name;
  if (m.description) j["description"] = *m.description;
  j["format"] = {{"provider", m.format_provider}, {"options", StringMapJson(m.format_options)}};
  j["schemaString"] = m.schema_string;
  j["partitionColumns"] = m.partition_columns;
  j["configuration"] = StringMapJson(m.configuration);
  if (m.created_time_ms) j["createdTime"] = *m.created_time_ms;
  return j;
}

OrderedJson TxnJson(const Txn& t) {
  OrderedJson j = {{"appId", t.app_id}, {"version", t.version}};
  if (t.last_updated_ms) j["lastUpdated"] = *t.last_updated_ms;
  return j;
}

OrderedJson RemoveJson(const RemoveFile& r) {
  OrderedJson j = {{"path", UriEncodePath(r.path)}};
  if (r.deletion_timestamp_ms) j["deletionTimestamp"] = *r.deletion_timestamp_ms;
  j["dataChange"] = r.data_change;
  if (r.extended_file_metadata) j["extendedFileMetadata"] = *r.extended_file_metadata;
  if (r.partition_values) j["partitionValues"] = PartitionValuesJson(*r.partition_values);
  if (r.size_bytes) j["size"] = *r.size_bytes;
  if (!r.tags.empty()) j["tags"] = StringMapJson(r.tags);
  if (r.stats) j["stats"] = *r.stats;
  return j;
}

OrderedJson AddJson(const AddFile& a) {
  OrderedJson j = {{"path", UriEncodePath(a.path)}};
  j["partitionValues"] = PartitionValuesJson(a.partition_values);
  j["size"] = a.size_bytes;
  j["modificationTime"] = a.modification_time_ms;
  j["dataChange"] = a.data_change;
  if (a.stats) j["stats"] = *a.stats;
  if (!a.tags.empty()) j["tags"] = StringMapJson(a.tags);
  return j;
}

void AppendLine(const char* kind, OrderedJson body, std::string* out) {
  OrderedJson line = OrderedJson::object();
  line[kind] = std::move(body);
  out->append(line.dump(-1, ' ', false, OrderedJson::error_handler_t::replace));
  out->push_back('\n');
}

bool IsUnreserved(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-_.!~*'()/:@&=+$,").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<int64_t> NumRecords(const std::optional<std::string>& stats) {
  if (!stats) return std::nullopt;
  Json j = Json::parse(*stats, nullptr, /*allow_exceptions=*/false);
  auto n = j.is_object() ? j.find("numRecords") : j.end();
  if (!j.is_object() || n == j.end() || !n->is_number_integer()) return std::nullopt;
  return n->get<int64_t>();
}

absl::StatusOr<CommitActions> ParseCommit(std::string_view body, std::string_view file_name) {
  CommitActions out;
  size_t line_no = 0;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
    ++line_no;
    if (IsBlank(line)) continue;
    Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    absl::Status s = j.is_discarded() ? absl::DataLossError("not valid JSON (truncated or corrupt)")
                                      : ParseAction(j, &out);
    if (!s.ok()) return absl::DataLossError(Cat(file_name, ":", line_no, ": ", s.message()));
  }
  return out;
}

std::string SerializeCommit(const CommitActions& a) {
  std::string out;
  if (a.commit_info) AppendLine("commitInfo", CommitInfoJson(*a.commit_info), &out);
  if (a.protocol) AppendLine("protocol", ProtocolJson(*a.protocol), &out);
  if (a.metadata) AppendLine("metaData", MetadataJson(*a.metadata), &out);
  for (const Txn& t : a.txns) AppendLine("txn", TxnJson(t), &out);
  for (const RemoveFile& r : a.removes) AppendLine("remove", RemoveJson(r), &out);
  for (const AddFile& f : a.adds) AppendLine("add", AddJson(f), &out);
  return out;
}

std::string UriEncodePath(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::string> UriDecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] != '%') {
      out.push_back(path[i]);
      continue;
    }
    int hi = i + 2 < path.size() ? HexValue(path[i + 1]) : -1;
    int lo = hi >= 0 ? HexValue(path[i + 2]) : -1;
    if (lo < 0) return absl::InvalidArgumentError(Cat("malformed percent-escape in path '", path, "'"));
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace nobus::delta
