// Spark's schema JSON (Delta's `metaData.schemaString`) <-> schema::Schema. In the data path: the
// Delta committer writes the table schema with SchemaToJson; snapshot replay reads it back with
// ParseSchemaJson. Field `metadata` objects are accepted and dropped (we write `{}`): nobus never
// enables column mapping, the only feature that stores meaning there. Stateless functions.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/types.h"

namespace nobus::schema {

// Parses `{"type":"struct","fields":[...]}` with primitives ("long", "decimal(10,2)", ...) and
// nested struct/array/map objects at any depth. InvalidArgument names the offending field path
// for malformed JSON, unknown type names or missing keys; the result is not Validate()d.
[[nodiscard]] absl::StatusOr<Schema> ParseSchemaJson(std::string_view json);

// Serializes in Spark's field order: name, type, nullable, metadata ({}).
std::string SchemaToJson(const Schema& schema);

}  // namespace nobus::schema
