#include "mqtt/routes.h"

#include <set>

#include "mqtt/wire.h"
#include "schema/json_splice.h"

namespace nobus::mqtt {
namespace {

// The levels of a topic or filter, split at '/'.
std::vector<std::string_view> Levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t slash = s.find('/'); slash != std::string_view::npos; slash = s.find('/', start)) {
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
  out.push_back(s.substr(start));
  return out;
}

}  // namespace

absl::StatusOr<Route> MakeRoute(std::string_view filter, std::string_view table,
                                std::vector<std::pair<size_t, std::string>> columns) {
  if (!IsValidTopicFilter(filter))
    return absl::InvalidArgumentError(
        Cat("filter '", filter, "' is no MQTT topic filter ('+' alone in a level, '#' alone in "
                                "the last level, UTF-8)"));
  NOBUS_ASSIGN_OR_RETURN(table::TableName name, table::ParseTableName(table));
  const std::vector<std::string_view> levels = Levels(filter);
  const size_t fixed = levels.back() == "#" ? levels.size() - 1 : levels.size();
  std::set<std::string> seen;
  for (const auto& [level, column] : columns) {
    if (level < 1 || level > fixed)
      return absl::InvalidArgumentError(
          Cat("column '", column, "' takes topic level ", level, ", but filter '", filter,
              "' has ", fixed, " level", fixed == 1 ? "" : "s", " before any '#' (levels count from 1)"));
    if (column.empty() || !seen.insert(column).second)
      return absl::InvalidArgumentError(Cat("column '", column, "' is empty or named twice"));
  }
  return Route{std::string(filter), std::move(name), std::move(columns)};
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  const std::vector<std::string_view> f = Levels(filter);
  const std::vector<std::string_view> t = Levels(topic);
  // Topics starting with '$' are not matched by a leading wildcard (MQTT 5.0 4.7.2).
  if (!topic.empty() && topic[0] == '$' && (f[0] == "+" || f[0] == "#")) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // the rest, also nothing ("a/#" matches "a")
    if (i >= t.size() || (f[i] != "+" && f[i] != t[i])) return false;
  }
  return f.size() == t.size();
}

const Route* FindRoute(const std::vector<Route>& routes, std::string_view topic) {
  for (const Route& r : routes)
    if (TopicMatches(r.filter, topic)) return &r;
  return nullptr;
}

absl::Status WithLevelColumns(const Route& route, std::string_view topic, std::string_view payload,
                              std::string* out) {
  const std::vector<std::string_view> levels = Levels(topic);
  return schema::SpliceJsonMembers(payload, out, [&](schema::JsonMembers& m) {
    for (const auto& [level, column] : route.level_columns)
      schema::AppendJsonString(levels[level - 1], m.Member(column));  // MakeRoute checked level
    return absl::OkStatus();
  });
}

}  // namespace nobus::mqtt
