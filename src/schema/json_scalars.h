// Internal to src/schema: conversions of JSON scalars (number text, strings, map keys) into row
// values for one column, with the rules of record_decoder.h (range checks, exact decimals, strict
// dates and timestamps, base64). Used by json_decoder.cc. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "schema/types.h"

namespace nobus::schema::json {

// What the conversions need to know about a column (or list element, map key, map value).
struct JsonColumn {
  const DataType* type = nullptr;
  std::string path;       // "payload.tags.element", for messages
  std::string type_name;  // "INT", "ARRAY<INT>", "STRUCT"
};

// Appends the value of a JSON number (its text as written) for column `n`.
absl::Status EncodeNumberText(std::string_view token, const JsonColumn& n, std::string* out);
// Appends the value of a JSON string (unescaped) for column `n`.
absl::Status EncodeStringValue(std::string_view s, const JsonColumn& n, std::string* out);
// Appends a map key given as a JSON object key: integer and boolean keys come as their text.
absl::Status EncodeMapKeyText(std::string_view s, const JsonColumn& n, std::string* out);

// "column 'a.b': expected INT, got <got>" / "column 'a.b': <what>" (InvalidArgument).
absl::Status JsonMismatch(const JsonColumn& n, std::string_view got);
absl::Status JsonProblem(const JsonColumn& n, std::string_view what);

// `s` in double quotes, cut to about 40 bytes (at a character boundary) for messages.
std::string QuoteForMessage(std::string_view s);
std::string_view TrimRight(std::string_view s);

}  // namespace nobus::schema::json
