#include "schema/delta_json.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace nobus::schema {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr int kMaxDepth = 64;

struct PrimitiveName {
  const char* name;
  TypeKind kind;
};

constexpr PrimitiveName kPrimitives[] = {
    {"string", TypeKind::kString},   {"long", TypeKind::kLong},
    {"integer", TypeKind::kInteger}, {"short", TypeKind::kShort},
    {"byte", TypeKind::kByte},       {"float", TypeKind::kFloat},
    {"double", TypeKind::kDouble},   {"boolean", TypeKind::kBoolean},
    {"binary", TypeKind::kBinary},   {"date", TypeKind::kDate},
    {"timestamp", TypeKind::kTimestamp}, {"timestamp_ntz", TypeKind::kTimestampNtz},
};

absl::Status Error(const std::string& path, std::string_view what) {
  return absl::InvalidArgumentError(
      Cat("schema JSON: ", path.empty() ? std::string("<root>") : path, ": ", what));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool ParseInt(std::string_view s, int* out) {
  s = Trim(s);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "decimal(p,s)" or bare "decimal" (Spark's default decimal(10,0)).
absl::StatusOr<DataType> ParseDecimalName(std::string_view name, const std::string& path) {
  if (name == "decimal") return Decimal(10, 0);
  if (name.size() < 10 || name.substr(0, 8) != "decimal(" || name.back() != ')')
    return Error(path, Cat("unknown type '", name, "'"));
  std::string_view args = name.substr(8, name.size() - 9);
  size_t comma = args.find(',');
  int precision = 0, scale = 0;
  if (comma == std::string_view::npos || !ParseInt(args.substr(0, comma), &precision) ||
      !ParseInt(args.substr(comma + 1), &scale))
    return Error(path, Cat("malformed decimal type '", name, "'"));
  return Decimal(precision, scale);
}

absl::StatusOr<DataType> ParseType(const Json& j, const std::string& path, int depth);

absl::StatusOr<std::vector<Field>> ParseFields(const Json& j, const std::string& path, int depth) {
  auto it = j.find("fields");
  if (it == j.end() || !it->is_array()) return Error(path, "struct without a 'fields' array");
  std::vector<Field> fields;
  for (const Json& f : *it) {
    if (!f.is_object()) return Error(path, "a field is not an object");
    auto name = f.find("name");
    auto type = f.find("type");
    if (name == f.end() || !name->is_string()) return Error(path, "a field has no string 'name'");
    std::string field_path = path.empty() ? name->get<std::string>()
                                          : Cat(path, ".", name->get_ref<const std::string&>());
    if (type == f.end()) return Error(field_path, "field has no 'type'");
    Field field;
    field.name = name->get<std::string>();
    NOBUS_ASSIGN_OR_RETURN(field.type, ParseType(*type, field_path, depth + 1));
    auto nullable = f.find("nullable");
    if (nullable != f.end() && !nullable->is_boolean()) return Error(field_path, "'nullable' is not a boolean");
    field.nullable = nullable == f.end() || nullable->get<bool>();
    fields.push_back(std::move(field));
  }
  return fields;
}

absl::StatusOr<bool> GetFlag(const Json& j, const char* key, const std::string& path) {
  auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_boolean()) return Error(path, Cat("'", key, "' is not a boolean"));
  return it->get<bool>();
}

absl::StatusOr<DataType> ParseComplex(const Json& j, const std::string& path, int depth) {
  auto kind = j.find("type");
  if (kind == j.end() || !kind->is_string()) return Error(path, "complex type without a 'type' string");
  const std::string& k = kind->get_ref<const std::string&>();
  if (k == "struct") {
    NOBUS_ASSIGN_OR_RETURN(auto fields, ParseFields(j, path, depth));
    return Struct(std::move(fields));
  }
  if (k == "array") {
    auto element = j.find("elementType");
    if (element == j.end()) return Error(path, "array without 'elementType'");
    NOBUS_ASSIGN_OR_RETURN(DataType e, ParseType(*element, path + ".element", depth + 1));
    NOBUS_ASSIGN_OR_RETURN(bool contains_null, GetFlag(j, "containsNull", path));
    return Array(std::move(e), contains_null);
  }
  if (k == "map") {
    auto key = j.find("keyType");
    auto value = j.find("valueType");
    if (key == j.end() || value == j.end()) return Error(path, "map without 'keyType' or 'valueType'");
    NOBUS_ASSIGN_OR_RETURN(DataType kt, ParseType(*key, path + ".key", depth + 1));
    NOBUS_ASSIGN_OR_RETURN(DataType vt, ParseType(*value, path + ".value", depth + 1));
    NOBUS_ASSIGN_OR_RETURN(bool contains_null, GetFlag(j, "valueContainsNull", path));
    return Map(std::move(kt), std::move(vt), contains_null);
  }
  return Error(path, Cat("unknown complex type '", k, "'"));
}

absl::StatusOr<DataType> ParseType(const Json& j, const std::string& path, int depth) {
  if (depth > kMaxDepth) return Error(path, "types nested too deeply");
  if (j.is_object()) return ParseComplex(j, path, depth);
  if (!j.is_string()) return Error(path, "type is neither a name nor an object");
  std::string_view name = j.get_ref<const std::string&>();
  for (const PrimitiveName& p : kPrimitives)
    if (name == p.name) return Primitive(p.kind);
  return ParseDecimalName(name, path);
}

OrderedJson TypeJson(const DataType& t);

OrderedJson FieldsJson(const std::vector<Field>& fields) {
  OrderedJson out = OrderedJson::array();
  for (const Field& f : fields) {
    OrderedJson field = OrderedJson::object();
    field["name"] = f.name;
    field["type"] = TypeJson(f.type);
    field["nullable"] = f.nullable;
    field["metadata"] = OrderedJson::object();
    out.push_back(std::move(field));
  }
  return out;
}

OrderedJson TypeJson(const DataType& t) {
  OrderedJson j = OrderedJson::object();
  switch (t.kind) {
    case TypeKind::kStruct:
      j["type"] = "struct";
      j["fields"] = FieldsJson(t.fields);
      return j;
    case TypeKind::kArray:
      j["type"] = "array";
      j["elementType"] = t.element ? TypeJson(*t.element) : OrderedJson("string");
      j["containsNull"] = t.contains_null;
      return j;
    case TypeKind::kMap:
      j["type"] = "map";
      j["keyType"] = t.element ? TypeJson(*t.element) : OrderedJson("string");
      j["valueType"] = t.value ? TypeJson(*t.value) : OrderedJson("string");
      j["valueContainsNull"] = t.contains_null;
      return j;
    default:
      return OrderedJson(TypeName(t));
  }
}

}  // namespace

absl::StatusOr<Schema> ParseSchemaJson(std::string_view json) {
  Json j = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Error("", "not valid JSON");
  if (!j.is_object()) return Error("", "not a JSON object");
  auto kind = j.find("type");
  if (kind == j.end() || *kind != "struct") return Error("", "top level is not a struct type");
  NOBUS_ASSIGN_OR_RETURN(auto fields, ParseFields(j, "", 0));
  return Schema{std::move(fields)};
}

std::string SchemaToJson(const Schema& schema) {
  OrderedJson j = OrderedJson::object();
  j["type"] = "struct";
  j["fields"] = FieldsJson(schema.fields);
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

}  // namespace nobus::schema
