// The table schema model of nobus: Delta Lake's type system (primitives, decimal, struct, array,
// map at any depth). Every layer speaks it: the record decoders validate against it, the Parquet
// writer maps it to physical columns, the Delta log stores it as Spark's schemaString JSON.
// Plain values: copyable, immutable after construction by convention, safe to share across
// threads for reading.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nobus::schema {

enum class TypeKind {
  kString,
  kLong,
  kInteger,
  kShort,
  kByte,
  kFloat,
  kDouble,
  kBoolean,
  kBinary,
  kDate,
  kTimestamp,     // microseconds since epoch, UTC-adjusted
  kTimestampNtz,  // microseconds since epoch, no time zone
  kDecimal,       // precision 1..38, scale 0..precision
  kStruct,
  kArray,
  kMap,
};

struct Field;

struct DataType {
  TypeKind kind = TypeKind::kString;
  int precision = 0;                        // decimal only
  int scale = 0;                            // decimal only
  std::vector<Field> fields;                // struct only
  std::shared_ptr<const DataType> element;  // array element, or map key
  std::shared_ptr<const DataType> value;    // map value
  bool contains_null = true;                // array: containsNull; map: valueContainsNull

  bool IsPrimitive() const { return kind < TypeKind::kStruct; }
  bool operator==(const DataType& other) const;
};

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
  bool operator==(const Field& other) const = default;
};

struct Schema {
  std::vector<Field> fields;
  bool operator==(const Schema& other) const = default;
};

// Constructors that read like the types they build.
DataType Primitive(TypeKind kind);
DataType Decimal(int precision, int scale);
DataType Struct(std::vector<Field> fields);
DataType Array(DataType element, bool contains_null = true);
DataType Map(DataType key, DataType value, bool value_contains_null = true);

// Spark's name for a type: "long", "decimal(10,2)", "struct<a:int,b:array<string>>", ...
std::string TypeName(const DataType& type);

// Checks what Delta requires without column mapping: names non-empty, unique ignoring case within
// a struct, free of " ,;{}()\n\t="; decimal precision 1..38 and 0 <= scale <= precision; map keys
// primitive. InvalidArgument names the offending field path.
[[nodiscard]] absl::Status Validate(const Schema& schema);

}  // namespace nobus::schema
