// DeltaStatsJson: Spark's `add.stats` JSON from the whole-file LeafStats of FileResult.
#include <charconv>
#include <cmath>
#include <cstdio>

#include "parquet/schema_mapping.h"
#include "parquet/writer.h"

namespace nobus::parquet {
namespace {

using schema::DataType;
using schema::TypeKind;

constexpr std::string_view kTieBreaker = "\xF4\x8F\xBF\xBF";  // U+10FFFF

// A JSON object under construction ("" until the first member).
struct JsonObject {
  std::string body;
  void Member(std::string_view name, std::string_view json_value);
  std::string Close() const { return "{" + body + "}"; }
};

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

void JsonObject::Member(std::string_view name, std::string_view json_value) {
  if (!body.empty()) body.push_back(',');
  AppendJsonString(name, &body);
  body.push_back(':');
  body.append(json_value);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Proleptic Gregorian civil date of a day count since 1970-01-01.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::string FormatDate(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[40];
  std::snprintf(buf, sizeof buf, "\"%04lld-%02u-%02u\"", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatTimestamp(int64_t micros, bool utc) {
  int64_t ms = FloorDiv(micros, 1000);
  int64_t days = FloorDiv(ms, 86400000);
  int64_t in_day = ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  std::snprintf(buf, sizeof buf, "\"%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lld%s\"",
                static_cast<long long>(y), m, d, static_cast<long long>(in_day / 3600000),
                static_cast<long long>(in_day / 60000 % 60),
                static_cast<long long>(in_day / 1000 % 60), static_cast<long long>(in_day % 1000),
                utc ? "Z" : "");
  return buf;
}

std::string FormatDecimal(__int128 v, int scale) {
  bool negative = v < 0;
  auto u = static_cast<unsigned __int128>(negative ? -v : v);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  if (scale > 0) {
    if (static_cast<int>(digits.size()) <= scale) {
      digits.insert(0, static_cast<size_t>(scale + 1 - static_cast<int>(digits.size())), '0');
    }
    digits.insert(digits.size() - static_cast<size_t>(scale), ".");
  }
  return negative ? "-" + digits : digits;
}

// Shortest round-trip text of the float or double; empty for infinities (not JSON numbers).
std::string FormatFloating(double v, bool is_float) {
  if (!std::isfinite(v)) return "";
  char buf[64];
  auto res = is_float ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(v))
                      : std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

// Byte length of the first `chars` code points of valid UTF-8 `s` (all of it if shorter).
size_t PrefixBytes(std::string_view s, int chars) {
  size_t i = 0;
  for (int c = 0; c < chars && i < s.size(); ++c) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

std::string FormatString(std::string_view s, bool is_max, int chars) {
  size_t n = PrefixBytes(s, chars);
  std::string out;
  if (n == s.size()) {
    AppendJsonString(s, &out);
    return out;
  }
  if (!is_max) {
    AppendJsonString(s.substr(0, n), &out);
    return out;
  }
  // Keep U+10FFFF characters that follow the prefix, so prefix + tie-breaker stays >= s.
  while (n < s.size() && s.substr(n, kTieBreaker.size()) == kTieBreaker) n += kTieBreaker.size();
  if (n == s.size()) {
    AppendJsonString(s, &out);
    return out;
  }
  AppendJsonString(std::string(s.substr(0, n)) + std::string(kTieBreaker), &out);
  return out;
}

// JSON text of a bound, or "" when Delta keeps no bound for this type or value.
std::string FormatBound(const DataType& type, const StatValue& v, bool is_max, int chars) {
  if (v.kind == StatValue::Kind::kNone) return "";
  switch (type.kind) {
    case TypeKind::kString:
      return FormatString(v.bytes, is_max, chars);
    case TypeKind::kLong:
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte:
      return std::to_string(v.i);
    case TypeKind::kFloat:
      return FormatFloating(v.d, true);
    case TypeKind::kDouble:
      return FormatFloating(v.d, false);
    case TypeKind::kDate:
      return FormatDate(v.i);
    case TypeKind::kTimestamp:
      return FormatTimestamp(v.i, true);
    case TypeKind::kTimestampNtz:
      return FormatTimestamp(v.i, false);
    case TypeKind::kDecimal:
      return FormatDecimal(v.dec, type.scale);
    default:
      return "";
  }
}

int CountLeaves(const DataType& type) {
  if (type.IsPrimitive()) return 1;
  if (type.kind == TypeKind::kStruct) {
    int n = 0;
    for (const schema::Field& f : type.fields) n += CountLeaves(f.type);
    return n;
  }
  int n = CountLeaves(*type.element);
  if (type.kind == TypeKind::kMap) n += CountLeaves(*type.value);
  return n;
}

class StatsWalker {
 public:
  StatsWalker(const FileResult& result, const DeltaStatsOptions& options)
      : result_(result), options_(options), budget_(options.num_indexed_cols) {}

  // Fills the three objects for `fields` at `path`; `leaf` is the first leaf index of them.
  void Walk(const std::vector<schema::Field>& fields, std::vector<std::string>* path, int* leaf,
            JsonObject* min, JsonObject* max, JsonObject* nulls);

 private:
  int64_t RepeatedNulls(const std::vector<std::string>& path) const {
    for (const FieldNullCount& f : result_.repeated_fields) {
      if (f.path == path) return f.null_count;
    }
    return 0;
  }
  void Primitive(const schema::Field& f, const LeafStats& s, JsonObject* min, JsonObject* max,
                 JsonObject* nulls);

  const FileResult& result_;
  const DeltaStatsOptions& options_;
  int budget_;  // indexed columns left; negative = unlimited
};

void StatsWalker::Primitive(const schema::Field& f, const LeafStats& s, JsonObject* min,
                            JsonObject* max, JsonObject* nulls) {
  nulls->Member(f.name, std::to_string(s.null_count));
  bool floating = f.type.kind == TypeKind::kFloat || f.type.kind == TypeKind::kDouble;
  if (floating && s.has_nan) return;
  std::string lo = FormatBound(f.type, s.min, false, options_.string_prefix_chars);
  std::string hi = FormatBound(f.type, s.max, true, options_.string_prefix_chars);
  if (!lo.empty()) min->Member(f.name, lo);
  if (!hi.empty()) max->Member(f.name, hi);
}

void StatsWalker::Walk(const std::vector<schema::Field>& fields, std::vector<std::string>* path,
                       int* leaf, JsonObject* min, JsonObject* max, JsonObject* nulls) {
  for (const schema::Field& f : fields) {
    if (budget_ == 0) return;
    path->push_back(f.name);
    if (f.type.kind == TypeKind::kStruct) {
      JsonObject cmin, cmax, cnulls;
      Walk(f.type.fields, path, leaf, &cmin, &cmax, &cnulls);
      if (!cmin.body.empty()) min->Member(f.name, cmin.Close());
      if (!cmax.body.empty()) max->Member(f.name, cmax.Close());
      if (!cnulls.body.empty()) nulls->Member(f.name, cnulls.Close());
    } else {
      if (budget_ > 0) --budget_;
      if (f.type.IsPrimitive()) {
        if (*leaf < static_cast<int>(result_.leaves.size())) {
          Primitive(f, result_.leaves[*leaf], min, max, nulls);
        }
      } else {
        nulls->Member(f.name, std::to_string(RepeatedNulls(*path)));
      }
      *leaf += CountLeaves(f.type);
    }
    path->pop_back();
  }
}

}  // namespace

std::string DeltaStatsJson(const RowBatch& batch, const FileResult& result,
                           const DeltaStatsOptions& options) {
  std::string out = "{\"numRecords\":" + std::to_string(result.num_rows);
  if (options.num_indexed_cols != 0) {
    JsonObject min, max, nulls;
    std::vector<std::string> path;
    int leaf = 0;
    StatsWalker walker(result, options);
    walker.Walk(batch.schema().fields, &path, &leaf, &min, &max, &nulls);
    out += ",\"minValues\":" + min.Close() + ",\"maxValues\":" + max.Close() +
           ",\"nullCount\":" + nulls.Close();
  }
  out += "}";
  return out;
}

}  // namespace nobus::parquet
