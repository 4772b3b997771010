// Members added to the front of a record's JSON object before the table's decoder reads it: the
// values a record carries outside its JSON (a Kafka record's key, headers and timestamp; an MQTT
// topic's levels) reach their columns through the same decoder, with its checks and messages
// (a member the object also sets is "given more than once"). Pure functions: thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::schema {

// Appends `utf8` (valid UTF-8) as a JSON string: quotes, backslashes and control characters
// escaped.
void AppendJsonString(std::string_view utf8, std::string* out);

// Writes the members: each Member(name) writes the separator and `"name":` and returns the string
// to append the member's JSON value to. Names are written as they are (column names need no
// escaping).
class JsonMembers {
 public:
  explicit JsonMembers(std::string* out) : out_(out) {}
  std::string* Member(std::string_view name);
  bool empty() const { return first_; }

 private:
  std::string* out_;
  bool first_ = true;
};

// `object` into `out` (cleared first) with the members `add` writes in front of its own. When
// `object` is no JSON object (after leading whitespace) it is copied unchanged and `add` is not
// called: the decoder reports what it is. Errors are `add`'s.
[[nodiscard]] absl::Status SpliceJsonMembers(
    std::string_view object, std::string* out,
    const std::function<absl::Status(JsonMembers&)>& add);

}  // namespace nobus::schema
