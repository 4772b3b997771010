#include "server/uc_json.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "schema/ddl.h"
#include "schema/delta_json.h"

namespace nobus::server {
namespace {

using nlohmann::json;
using schema::DataType;
using schema::TypeKind;

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

absl::Status Bad(const std::string& what) { return absl::InvalidArgumentError(what); }

// The whole StructField JSON of one column (a string in UC, an object accepted too).
absl::StatusOr<schema::Field> FieldFromTypeJson(const json& type_json, const std::string& name) {
  json field = type_json;
  if (type_json.is_string()) {
    field = json::parse(type_json.get<std::string>(), nullptr, false);
    if (field.is_discarded()) return Bad(Cat("column '", name, "': type_json is not valid JSON"));
  }
  if (!field.is_object()) return Bad(Cat("column '", name, "': type_json must be a JSON object"));
  if (!field.contains("name")) field["name"] = name;
  if (!field.contains("nullable")) field["nullable"] = true;
  if (!field.contains("metadata")) field["metadata"] = json::object();
  json wrapper = {{"type", "struct"}, {"fields", json::array({field})}};
  absl::StatusOr<schema::Schema> parsed = schema::ParseSchemaJson(wrapper.dump());
  if (!parsed.ok())
    return Bad(Cat("column '", name, "': bad type_json: ", parsed.status().message()));
  if (parsed->fields.size() != 1) return Bad(Cat("column '", name, "': bad type_json"));
  return parsed->fields[0];
}

absl::StatusOr<DataType> TypeFromText(const std::string& text, const std::string& name,
                                      const char* key) {
  absl::StatusOr<schema::Schema> parsed = schema::ParseDdl(Cat("c ", text));
  if (!parsed.ok() || parsed->fields.size() != 1 || !parsed->fields[0].nullable)
    return Bad(Cat("column '", name, "': unsupported ", key, " '", text,
                   "' (examples: bigint, string, timestamp, decimal(10,2), array<string>, "
                   "struct<a:int>)"));
  return parsed->fields[0].type;
}

absl::StatusOr<DataType> TypeFromName(const json& column, const std::string& name) {
  std::string type_name = Upper(column["type_name"].get<std::string>());
  if (type_name == "ARRAY" || type_name == "MAP" || type_name == "STRUCT")
    return Bad(Cat("column '", name, "': type_name ", type_name,
                   " needs type_text or type_json to give the element types"));
  if (type_name == "DECIMAL") {
    int64_t precision = 10, scale = 0;
    using KeyOut = std::pair<const char*, int64_t*>;
    for (auto [key, out] : {KeyOut{"type_precision", &precision}, KeyOut{"type_scale", &scale}}) {
      if (!column.contains(key)) continue;
      if (!column[key].is_number_integer())
        return Bad(Cat("column '", name, "': ", key, " must be an integer"));
      *out = column[key].get<int64_t>();
    }
    return TypeFromText(Cat("DECIMAL(", precision, ",", scale, ")"), name, "type_name");
  }
  return TypeFromText(type_name, name, "type_name");
}

absl::StatusOr<schema::Field> ParseColumn(const json& column, size_t index) {
  if (!column.is_object()) return Bad(Cat("columns[", index, "] must be an object"));
  if (!column.contains("name") || !column["name"].is_string() ||
      column["name"].get<std::string>().empty())
    return Bad(Cat("columns[", index, "].name must be a non-empty string"));
  schema::Field field;
  field.name = column["name"].get<std::string>();
  NOBUS_ASSIGN_OR_RETURN(field.type, ColumnTypeFromJson(column, field.name));
  if (column.contains("type_json") && !column["type_json"].is_null()) {
    NOBUS_ASSIGN_OR_RETURN(schema::Field from_json,
                           FieldFromTypeJson(column["type_json"], field.name));
    field.nullable = from_json.nullable;
  }
  if (column.contains("nullable")) {
    if (!column["nullable"].is_boolean())
      return Bad(Cat("column '", field.name, "': nullable must be true or false"));
    field.nullable = column["nullable"].get<bool>();
  }
  return field;
}

absl::Status CheckOptionalEnum(const json& body, const char* key, const char* only) {
  if (!body.contains(key) || body[key].is_null()) return absl::OkStatus();
  if (!body[key].is_string() || Upper(body[key].get<std::string>()) != only)
    return Bad(Cat(key, " '",
                   body[key].is_string() ? body[key].get<std::string>() : body[key].dump(),
                   "' is not supported: nobus tables are ", key, " ", only));
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequiredString(const json& body, const char* key) {
  if (!body.contains(key) || !body[key].is_string() || body[key].get<std::string>().empty())
    return Bad(Cat(key, " is required (a non-empty string)"));
  return body[key].get<std::string>();
}

absl::Status ParseColumns(const json& columns, CreateTableRequest* out) {
  if (!columns.is_array() || columns.empty())
    return Bad("columns is required: a non-empty array of {name, type_text, nullable}");
  std::map<int64_t, std::string> partitions;
  for (size_t i = 0; i < columns.size(); ++i) {
    NOBUS_ASSIGN_OR_RETURN(schema::Field field, ParseColumn(columns[i], i));
    const json& pi =
        columns[i].contains("partition_index") ? columns[i]["partition_index"] : json(nullptr);
    if (!pi.is_null()) {
      if (!pi.is_number_integer() || pi.get<int64_t>() < 0)
        return Bad(Cat("column '", field.name, "': partition_index must be an integer >= 0"));
      if (!partitions.emplace(pi.get<int64_t>(), field.name).second)
        return Bad(Cat("column '", field.name, "': partition_index ", pi.get<int64_t>(),
                       " is used twice"));
    }
    out->schema.fields.push_back(std::move(field));
  }
  for (const auto& [index, name] : partitions) out->partition_columns.push_back(name);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DataType> ColumnTypeFromJson(const json& column, const std::string& name) {
  if (column.contains("type_json") && !column["type_json"].is_null()) {
    NOBUS_ASSIGN_OR_RETURN(schema::Field field, FieldFromTypeJson(column["type_json"], name));
    return field.type;
  }
  if (column.contains("type_text") && column["type_text"].is_string())
    return TypeFromText(column["type_text"].get<std::string>(), name, "type_text");
  if (column.contains("type_name") && column["type_name"].is_string())
    return TypeFromName(column, name);
  return Bad(Cat("column '", name,
                 "' needs a type: type_text (e.g. \"bigint\"), type_name or "
                 "type_json"));
}

absl::StatusOr<CreateTableRequest> ParseCreateTable(const json& body) {
  if (!body.is_object()) return Bad("the request body must be a JSON object (UC CreateTable)");
  NOBUS_ASSIGN_OR_RETURN(std::string catalog, RequiredString(body, "catalog_name"));
  NOBUS_ASSIGN_OR_RETURN(std::string schema_name, RequiredString(body, "schema_name"));
  NOBUS_ASSIGN_OR_RETURN(std::string name, RequiredString(body, "name"));
  NOBUS_RETURN_IF_ERROR(CheckOptionalEnum(body, "table_type", "MANAGED"));
  NOBUS_RETURN_IF_ERROR(CheckOptionalEnum(body, "data_source_format", "DELTA"));
  CreateTableRequest out;
  NOBUS_ASSIGN_OR_RETURN(out.name,
                         table::ParseTableName(Cat(catalog, ".", schema_name, ".", name)));
  NOBUS_RETURN_IF_ERROR(
      ParseColumns(body.contains("columns") ? body["columns"] : json(nullptr), &out));
  if (body.contains("properties") && !body["properties"].is_null()) {
    const json& props = body["properties"];
    if (!props.is_object()) return Bad("\"properties\" must be an object of string values");
    for (const auto& [k, v] : props.items()) {
      if (!v.is_string()) return Bad(Cat("property '", k, "' must be a string"));
      out.properties[k] = v.get<std::string>();
    }
  }
  return out;
}

std::string UcTypeName(const DataType& t) {
  // UC's ColumnTypeName is the DDL keyword, except for three integer types.
  switch (t.kind) {
    case TypeKind::kLong:
      return "LONG";
    case TypeKind::kShort:
      return "SHORT";
    case TypeKind::kByte:
      return "BYTE";
    default:
      return schema::DdlKeyword(t.kind);
  }
}

namespace {

// The table's Delta properties plus the version it was read at.
json Properties(const table::TableInfo& info) {
  json out = json::object();
  for (const auto& [k, v] : info.properties) out[k] = v;
  out["nobus.delta_version"] = std::to_string(info.version);
  return out;
}

}  // namespace

json TableInfoToJson(const table::TableInfo& info) {
  json columns = json::array();
  for (size_t i = 0; i < info.schema.fields.size(); ++i) {
    const schema::Field& f = info.schema.fields[i];
    json field_json = json::parse(schema::SchemaToJson({{f}}))["fields"][0];
    json column = {{"name", f.name},
                   {"type_text", schema::FormatCatalogType(f.type)},
                   {"type_name", UcTypeName(f.type)},
                   {"type_json", field_json.dump()},
                   {"position", i},
                   {"nullable", f.nullable}};
    if (f.type.kind == TypeKind::kDecimal) {
      column["type_precision"] = f.type.precision;
      column["type_scale"] = f.type.scale;
    }
    auto p = std::find(info.partition_columns.begin(), info.partition_columns.end(), f.name);
    if (p != info.partition_columns.end())
      column["partition_index"] = p - info.partition_columns.begin();
    columns.push_back(std::move(column));
  }
  return {{"name", info.name.table},
          {"catalog_name", info.name.catalog},
          {"schema_name", info.name.schema},
          {"full_name", info.name.ToString()},
          {"table_type", "MANAGED"},
          {"data_source_format", "DELTA"},
          {"columns", std::move(columns)},
          {"storage_location", info.storage_location},
          {"table_id", info.table_id},
          {"created_at", info.created_at_ms},
          {"properties", Properties(info)}};
}

}  // namespace nobus::server
