#include "delta/config.h"

#include <cctype>
#include <charconv>
#include <string>
#include <utility>
#include <vector>

namespace nobus::delta {
namespace {

constexpr int64_t kMsPerDay = 24LL * 3600 * 1000;

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::optional<int64_t> UnitMs(std::string_view unit) {
  std::string u;
  for (char c : unit) u.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (u.size() > 1 && u.back() == 's') u.pop_back();
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"millisecond", 1},  {"second", 1000},   {"minute", 60'000},
      {"hour", 3'600'000}, {"day", kMsPerDay}, {"week", 7 * kMsPerDay}};
  for (const auto& [name, ms] : kUnits)
    if (u == name) return ms;
  return std::nullopt;
}

const std::string* Find(const Metadata& m, const char* key) {
  auto it = m.configuration.find(key);
  return it == m.configuration.end() ? nullptr : &it->second;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

int64_t IntervalOr(const Metadata& m, const char* key, int64_t fallback_ms) {
  const std::string* text = Find(m, key);
  if (text == nullptr) return fallback_ms;
  absl::StatusOr<int64_t> ms = ParseIntervalMs(*text);
  return ms.ok() ? *ms : fallback_ms;
}

}  // namespace

StringMap DefaultConfiguration() {
  return {{kLogRetentionKey, "interval 2 days"},
          {kCheckpointIntervalKey, "10"},
          {kWriteStatsAsStructKey, "false"}};
}

absl::StatusOr<int64_t> ParseIntervalMs(std::string_view text) {
  std::vector<std::string_view> words = Words(text);
  if (!words.empty() && (words[0] == "interval" || words[0] == "INTERVAL"))
    words.erase(words.begin());
  if (words.size() != 2) return absl::InvalidArgumentError(Cat("not an interval: '", text, "'"));
  std::optional<int64_t> count = ParseInt(words[0]);
  std::optional<int64_t> unit = UnitMs(words[1]);
  if (!count || !unit || *count < 0 || *count > INT64_MAX / *unit)
    return absl::InvalidArgumentError(Cat("not an interval: '", text, "'"));
  return *count * *unit;
}

int64_t CheckpointInterval(const Metadata& m) {
  const std::string* text = Find(m, kCheckpointIntervalKey);
  std::optional<int64_t> v = text ? ParseInt(*text) : std::nullopt;
  return v && *v > 0 ? *v : 10;
}

int64_t LogRetentionMs(const Metadata& m) {
  return IntervalOr(m, kLogRetentionKey, 30 * kMsPerDay);
}

int64_t DeletedFileRetentionMs(const Metadata& m) {
  return IntervalOr(m, kDeletedFileRetentionKey, 7 * kMsPerDay);
}

int NumIndexedCols(const Metadata& m) {
  const std::string* text = Find(m, kNumIndexedColsKey);
  std::optional<int64_t> v = text ? ParseInt(*text) : std::nullopt;
  if (!v || *v < -1 || *v > 1'000'000) return 32;
  return static_cast<int>(*v);
}

bool ExpiredLogCleanupEnabled(const Metadata& m) {
  const std::string* text = Find(m, kEnableExpiredLogCleanupKey);
  return text == nullptr || *text != "false";
}

}  // namespace nobus::delta
