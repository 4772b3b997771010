// Unity Catalog REST shapes for the table API (POST/GET/DELETE /api/2.1/unity-catalog/tables):
// TableInfo and ColumnInfo JSON <-> table::TableInfo and schema::Schema. Column types are read
// from type_json (Spark StructField JSON, most precise), else type_text ("bigint",
// "decimal(10,2)", "array<string>", "struct<a:int>", parsed by schema/ddl.h), else type_name
// ("LONG", "DECIMAL" with type_precision/type_scale; nested types need type_text or type_json).
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "schema/types.h"
#include "table/catalog.h"

namespace nobus::server {

struct CreateTableRequest {
  table::TableName name;
  schema::Schema schema;
  std::vector<std::string> partition_columns;  // in partition_index order
  std::map<std::string, std::string> properties;  // Delta table properties ("properties")
};

// InvalidArgument naming the key or column and the problem (missing names, table_type other than
// MANAGED, data_source_format other than DELTA, unknown types, duplicate partition_index,
// "properties" that is not an object of strings).
[[nodiscard]] absl::StatusOr<CreateTableRequest> ParseCreateTable(const nlohmann::json& body);

// UC TableInfo: name, catalog_name, schema_name, full_name, table_type, data_source_format,
// columns, storage_location, table_id, created_at, updated_at, properties.
nlohmann::json TableInfoToJson(const table::TableInfo& info);

// UC ColumnTypeName ("LONG", "INT", "DECIMAL", "ARRAY", ...).
std::string UcTypeName(const schema::DataType& type);
// One column's type from a UC ColumnInfo object (see above for the precedence).
[[nodiscard]] absl::StatusOr<schema::DataType> ColumnTypeFromJson(const nlohmann::json& column,
                                                                  const std::string& name);

}  // namespace nobus::server
