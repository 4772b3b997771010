#include "delta/config.h"

#include <absl/strings/ascii.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
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
  std::string u = absl::AsciiStrToLower(std::string(unit));
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

namespace {

constexpr int64_t kDefaultTargetFileSize = 128LL << 20;

// "134217728", "128mb", "128 MiB", "1g": bytes, at least 1 MiB and at most 16 GiB.
std::optional<int64_t> ParseSize(std::string_view text) {
  std::string t = absl::AsciiStrToLower(std::string(text));
  size_t digits = 0;
  while (digits < t.size() && std::isdigit(static_cast<unsigned char>(t[digits]))) ++digits;
  std::optional<int64_t> n = ParseInt(std::string_view(t).substr(0, digits));
  if (!n) return std::nullopt;
  std::string unit;
  for (char c : t.substr(digits))
    if (!std::isspace(static_cast<unsigned char>(c))) unit.push_back(c);
  static const std::pair<const char*, int> kUnits[] = {
      {"", 0},   {"b", 0},   {"k", 10},   {"kb", 10},  {"kib", 10}, {"m", 20},
      {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (*n > (16LL << 30) >> shift) return std::nullopt;
    int64_t bytes = *n << shift;
    if (bytes < (1 << 20)) return std::nullopt;
    return bytes;
  }
  return std::nullopt;
}

std::optional<bool> ParseBool(std::string_view text) {
  std::string t = absl::AsciiStrToLower(std::string(text));
  if (t == "true" || t == "auto" || t == "legacy") return true;
  if (t == "false") return false;
  return std::nullopt;
}

std::optional<int64_t> ParsePositive(std::string_view text) {
  std::optional<int64_t> v = ParseInt(text);
  if (!v || *v < 1) return std::nullopt;
  return v;
}

bool FlagOr(const Metadata& m, const char* key, bool fallback) {
  const std::string* text = Find(m, key);
  std::optional<bool> v = text ? ParseBool(*text) : std::nullopt;
  return v.value_or(fallback);
}

struct KnownKey {
  const char* key;
  const char* expected;
  bool (*valid)(std::string_view);
};

bool ValidInterval(std::string_view v) { return ParseIntervalMs(v).ok(); }
bool ValidSize(std::string_view v) { return ParseSize(v).has_value(); }
bool ValidBool(std::string_view v) { return ParseBool(v).has_value(); }
bool ValidStrictBool(std::string_view v) { return v == "true" || v == "false"; }
bool ValidPositive(std::string_view v) { return ParsePositive(v).has_value(); }
bool ValidKafkaPartitions(std::string_view v) {
  std::optional<int64_t> n = ParsePositive(v);
  return n && *n <= kMaxKafkaPartitions;
}
bool ValidIndexedCols(std::string_view v) {
  std::optional<int64_t> n = ParseInt(v);
  return n && *n >= -1 && *n <= 1'000'000;
}

const KnownKey kKnownKeys[] = {
    {kLogRetentionKey, "an interval such as 'interval 30 days'", ValidInterval},
    {kDeletedFileRetentionKey, "an interval such as 'interval 7 days'", ValidInterval},
    {kCheckpointIntervalKey, "a positive number of commits", ValidPositive},
    {kWriteStatsAsStructKey, "true or false", ValidStrictBool},
    {kNumIndexedColsKey, "a number of columns from -1 (all) up", ValidIndexedCols},
    {kEnableExpiredLogCleanupKey, "true or false", ValidStrictBool},
    {kTargetFileSizeKey, "a size from 1mb to 16gb, such as 134217728 or 128mb", ValidSize},
    {kAutoCompactKey, "true, auto or false", ValidBool},
    {kAutoCompactMinFilesKey, "a positive number of files", ValidPositive},
    {kAutoVacuumKey, "true or false", ValidStrictBool},
    {kAutoVacuumIntervalKey, "an interval such as 'interval 1 day'", ValidInterval},
    {kStreamRetentionKey, "an interval such as 'interval 7 days'", ValidInterval},
    {kStreamMaxLiveKey, "a positive number of stream ids", ValidPositive},
    {kKafkaPartitionsKey, "a number of partitions from 1 to 1024", ValidKafkaPartitions},
};

}  // namespace

int64_t TargetFileSize(const Metadata& m) {
  const std::string* text = Find(m, kTargetFileSizeKey);
  std::optional<int64_t> v = text ? ParseSize(*text) : std::nullopt;
  return v.value_or(kDefaultTargetFileSize);
}

bool AutoCompactEnabled(const Metadata& m) { return FlagOr(m, kAutoCompactKey, true); }

int64_t AutoCompactMinFiles(const Metadata& m) {
  const std::string* text = Find(m, kAutoCompactMinFilesKey);
  std::optional<int64_t> v = text ? ParsePositive(*text) : std::nullopt;
  return std::max<int64_t>(2, v.value_or(10));
}

bool AutoVacuumEnabled(const Metadata& m) { return FlagOr(m, kAutoVacuumKey, true); }

int64_t AutoVacuumIntervalMs(const Metadata& m) {
  return std::max<int64_t>(60'000, IntervalOr(m, kAutoVacuumIntervalKey, kMsPerDay));
}

int64_t StreamRetentionMs(const Metadata& m) {
  return IntervalOr(m, kStreamRetentionKey, 7 * kMsPerDay);
}

int64_t StreamMaxLive(const Metadata& m) {
  const std::string* text = Find(m, kStreamMaxLiveKey);
  std::optional<int64_t> v = text ? ParsePositive(*text) : std::nullopt;
  return v.value_or(10'000);
}

int32_t KafkaPartitions(const Metadata& m) {
  const std::string* text = Find(m, kKafkaPartitionsKey);
  std::optional<int64_t> v = text ? ParsePositive(*text) : std::nullopt;
  return static_cast<int32_t>(std::min<int64_t>(v.value_or(1), kMaxKafkaPartitions));
}

absl::Status ValidateProperties(const StringMap& properties) {
  for (const auto& [key, value] : properties) {
    if (!key.starts_with("delta.") && !key.starts_with("nobus.")) continue;
    const KnownKey* known = nullptr;
    for (const KnownKey& k : kKnownKeys)
      if (key == k.key) known = &k;
    if (known == nullptr) {
      std::string supported;
      for (const KnownKey& k : kKnownKeys) supported += Cat(supported.empty() ? "" : ", ", k.key);
      return absl::InvalidArgumentError(Cat("table property '", key,
                                            "' is not one nobus supports (supported: ", supported,
                                            "; keys without a delta. or nobus. prefix are free)"));
    }
    if (!known->valid(value))
      return absl::InvalidArgumentError(
          Cat("table property ", key, "='", value, "': expected ", known->expected));
  }
  return absl::OkStatus();
}

}  // namespace nobus::delta
