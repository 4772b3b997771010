// Topic routing (doc/mqtt.md "Topic routing"): devices whose topics are fixed ("plant/7/telemetry")
// write to a table through a rule mapping a topic filter to it, optionally copying topic levels
// into columns. A PUBLISH's topic is matched against the rules in order; the first match names
// the table; without a match the topic must be the table name itself.
//
// Filters use MQTT's wildcards (MQTT 5.0 4.7): '+' matches exactly one level, a final '#' any
// number of levels (also none). Level columns count levels from 1 ("plant/+/telemetry": the '+'
// is level 2). Pure functions and immutable data: thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "table/catalog.h"

namespace nobus::mqtt {

struct Route {
  std::string filter;
  table::TableName table;
  // (topic level counting from 1, column name): the level's text becomes that column's value.
  std::vector<std::pair<size_t, std::string>> level_columns;
};

// A checked rule: the filter is a valid MQTT topic filter, the table a valid name, each level
// column names a level the filter always has (not one under the final '#'), once per column.
// InvalidArgument naming the problem.
[[nodiscard]] absl::StatusOr<Route> MakeRoute(std::string_view filter, std::string_view table,
                                              std::vector<std::pair<size_t, std::string>> columns);

// Whether `topic` (a Topic Name, no wildcards) matches `filter`.
bool TopicMatches(std::string_view filter, std::string_view topic);

// The first rule `topic` matches, or nullptr.
const Route* FindRoute(const std::vector<Route>& routes, std::string_view topic);

// `payload` (a JSON object) with the route's level columns added as string members, into `out`:
// {"plant":"7", ...the payload's members}. InvalidArgument when the payload is not a JSON object.
// A payload that sets such a column itself is left to the table's decoder, which refuses the
// duplicate member.
[[nodiscard]] absl::Status WithLevelColumns(const Route& route, std::string_view topic,
                                            std::string_view payload, std::string* out);

}  // namespace nobus::mqtt
