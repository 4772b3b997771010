// SQL-style column lists, the way users type a table's schema on the command line and in the
// table API: "id BIGINT NOT NULL, msg STRING, tags ARRAY<STRING>, d DECIMAL(10,2)". Parsing yields
// a validated schema::Schema; formatting turns a schema back into that text. Pure functions,
// thread-safe.
//
// Grammar (keywords case-insensitive, names as written or in `backquotes`):
//   columns := column ("," column)*
//   column  := name type ["NOT" "NULL"] ["COMMENT" 'text']
//   type    := BIGINT|LONG | INT|INTEGER | SMALLINT|SHORT | TINYINT|BYTE | FLOAT|REAL | DOUBLE
//            | BOOLEAN|BOOL | STRING|VARCHAR[(n)]|CHAR[(n)] | BINARY | DATE | TIMESTAMP
//            | TIMESTAMP_NTZ | DECIMAL|DEC|NUMERIC [(p[,s])] | ARRAY<type> | MAP<type,type>
//            | STRUCT<name[:] type [NOT NULL] ("," ...)*>
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/types.h"

namespace nobus::schema {

// InvalidArgument names the position and what was expected ("at character 17: expected a type
// after 'msg', found 'STRIN'").
[[nodiscard]] absl::StatusOr<Schema> ParseDdl(std::string_view text);

// "id BIGINT NOT NULL, tags ARRAY<STRING>" (names backquoted when they need it).
std::string FormatDdl(const Schema& schema);
std::string FormatDdlType(const DataType& type);
// The keyword of a type kind, without parameters or element types ("BIGINT", "DECIMAL", "ARRAY").
const char* DdlKeyword(TypeKind kind);
// Spark's catalogString, Unity Catalog's type_text: the DDL type in lowercase without spaces or
// nullability ("bigint", "decimal(10,2)", "struct<a:int,`b c`:array<string>>").
std::string FormatCatalogType(const DataType& type);

}  // namespace nobus::schema
