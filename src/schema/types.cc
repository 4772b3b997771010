#include "schema/types.h"

#include <algorithm>
#include <set>

namespace nobus::schema {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

absl::Status ValidateType(const DataType& type, const std::string& path);

absl::Status ValidateFields(const std::vector<Field>& fields, const std::string& prefix) {
  std::set<std::string> seen;
  for (const Field& f : fields) {
    std::string path = prefix.empty() ? f.name : prefix + "." + f.name;
    if (f.name.empty())
      return absl::InvalidArgumentError(
          Cat("empty column name in ", prefix.empty() ? "schema" : prefix));
    if (f.name.find_first_of(" ,;{}()\n\t=") != std::string::npos)
      return absl::InvalidArgumentError(
          Cat("column name '", path,
              "' contains one of the characters ' ,;{}()\\n\\t=' that Delta forbids"));
    if (!seen.insert(Lower(f.name)).second)
      return absl::InvalidArgumentError(
          Cat("duplicate column name '", path, "' (names are case-insensitive)"));
    NOBUS_RETURN_IF_ERROR(ValidateType(f.type, path));
  }
  return absl::OkStatus();
}

absl::Status ValidateType(const DataType& type, const std::string& path) {
  switch (type.kind) {
    case TypeKind::kDecimal:
      if (type.precision < 1 || type.precision > 38 || type.scale < 0 ||
          type.scale > type.precision)
        return absl::InvalidArgumentError(
            Cat("column '", path, "': invalid ", TypeName(type),
                " (need 1 <= precision <= 38, 0 <= scale <= precision)"));
      return absl::OkStatus();
    case TypeKind::kStruct:
      if (type.fields.empty())
        return absl::InvalidArgumentError(Cat("column '", path, "': struct has no fields"));
      return ValidateFields(type.fields, path);
    case TypeKind::kArray:
      if (!type.element)
        return absl::InvalidArgumentError(Cat("column '", path, "': array without element type"));
      return ValidateType(*type.element, path + ".element");
    case TypeKind::kMap:
      if (!type.element || !type.value)
        return absl::InvalidArgumentError(
            Cat("column '", path, "': map without key or value type"));
      if (!type.element->IsPrimitive())
        return absl::InvalidArgumentError(Cat("column '", path,
                                              "': map key must be a primitive type, not ",
                                              TypeName(*type.element)));
      NOBUS_RETURN_IF_ERROR(ValidateType(*type.element, path + ".key"));
      return ValidateType(*type.value, path + ".value");
    default:
      return absl::OkStatus();
  }
}

}  // namespace

bool DataType::operator==(const DataType& o) const {
  if (kind != o.kind || precision != o.precision || scale != o.scale || fields != o.fields ||
      contains_null != o.contains_null)
    return false;
  auto same = [](const auto& a, const auto& b) { return (!a && !b) || (a && b && *a == *b); };
  return same(element, o.element) && same(value, o.value);
}

DataType Primitive(TypeKind kind) {
  DataType t;
  t.kind = kind;
  return t;
}

DataType Decimal(int precision, int scale) {
  DataType t;
  t.kind = TypeKind::kDecimal;
  t.precision = precision;
  t.scale = scale;
  return t;
}

DataType Struct(std::vector<Field> fields) {
  DataType t;
  t.kind = TypeKind::kStruct;
  t.fields = std::move(fields);
  return t;
}

DataType Array(DataType element, bool contains_null) {
  DataType t;
  t.kind = TypeKind::kArray;
  t.element = std::make_shared<const DataType>(std::move(element));
  t.contains_null = contains_null;
  return t;
}

DataType Map(DataType key, DataType value, bool value_contains_null) {
  DataType t;
  t.kind = TypeKind::kMap;
  t.element = std::make_shared<const DataType>(std::move(key));
  t.value = std::make_shared<const DataType>(std::move(value));
  t.contains_null = value_contains_null;
  return t;
}

std::string TypeName(const DataType& t) {
  switch (t.kind) {
    case TypeKind::kString:
      return "string";
    case TypeKind::kLong:
      return "long";
    case TypeKind::kInteger:
      return "integer";
    case TypeKind::kShort:
      return "short";
    case TypeKind::kByte:
      return "byte";
    case TypeKind::kFloat:
      return "float";
    case TypeKind::kDouble:
      return "double";
    case TypeKind::kBoolean:
      return "boolean";
    case TypeKind::kBinary:
      return "binary";
    case TypeKind::kDate:
      return "date";
    case TypeKind::kTimestamp:
      return "timestamp";
    case TypeKind::kTimestampNtz:
      return "timestamp_ntz";
    case TypeKind::kDecimal:
      return Cat("decimal(", t.precision, ",", t.scale, ")");
    case TypeKind::kStruct: {
      std::string s = "struct<";
      for (size_t i = 0; i < t.fields.size(); ++i)
        s += Cat(i ? "," : "", t.fields[i].name, ":", TypeName(t.fields[i].type));
      return s + ">";
    }
    case TypeKind::kArray:
      return Cat("array<", t.element ? TypeName(*t.element) : "?", ">");
    case TypeKind::kMap:
      return Cat("map<", t.element ? TypeName(*t.element) : "?", ",",
                 t.value ? TypeName(*t.value) : "?", ">");
  }
  return "?";
}

absl::Status Validate(const Schema& schema) {
  if (schema.fields.empty()) return absl::InvalidArgumentError("schema has no columns");
  return ValidateFields(schema.fields, "");
}

}  // namespace nobus::schema
