#include "values.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace nobus::parquet::testing {
namespace {

using schema::DataType;
using schema::TypeKind;

bool IsInt64Kind(TypeKind k) {
  return k == TypeKind::kLong || k == TypeKind::kTimestamp || k == TypeKind::kTimestampNtz;
}

void AppendPrimitive(const DataType& t, const Value& v, RowBuilder* b) {
  switch (t.kind) {
    case TypeKind::kString:
      b->String(v.s);
      break;
    case TypeKind::kBinary:
      b->Binary(v.s);
      break;
    case TypeKind::kFloat:
      b->Float(static_cast<float>(v.f));
      break;
    case TypeKind::kDouble:
      b->Double(v.f);
      break;
    case TypeKind::kBoolean:
      b->Bool(v.b);
      break;
    case TypeKind::kDecimal:
      b->Decimal(v.dec);
      break;
    default:
      if (IsInt64Kind(t.kind)) {
        b->Int64(v.i);
      } else {
        b->Int32(static_cast<int32_t>(v.i));
      }
  }
}

void AppendValue(const DataType& t, const Value& v, RowBuilder* b) {
  if (v.kind == Value::Kind::kNull) return b->Null();
  switch (t.kind) {
    case TypeKind::kStruct:
      b->BeginStruct();
      for (size_t i = 0; i < t.fields.size(); ++i) AppendValue(t.fields[i].type, v.items[i], b);
      return b->EndStruct();
    case TypeKind::kArray:
      b->BeginList();
      for (const Value& item : v.items) AppendValue(*t.element, item, b);
      return b->EndList();
    case TypeKind::kMap:
      b->BeginMap();
      for (size_t i = 0; i + 1 < v.items.size(); i += 2) {
        AppendValue(*t.element, v.items[i], b);
        AppendValue(*t.value, v.items[i + 1], b);
      }
      return b->EndMap();
    default:
      return AppendPrimitive(t, v, b);
  }
}

nlohmann::json CanonicalPrimitive(const DataType& t, const Value& v) {
  switch (t.kind) {
    case TypeKind::kString:
      return v.s;
    case TypeKind::kBinary:
      return Hex(v.s);
    case TypeKind::kFloat:
      return CanonicalFloat(static_cast<float>(v.f));
    case TypeKind::kDouble:
      return CanonicalFloat(v.f);
    case TypeKind::kBoolean:
      return v.b;
    case TypeKind::kDecimal:
      return DecimalString(v.dec, t.scale);
    case TypeKind::kDate:
      return DateString(v.i);
    default:
      if (IsInt64Kind(t.kind)) return std::to_string(v.i);
      return v.i;
  }
}

// Strict weak order of two non-null values of one primitive type, as Parquet's TypeDefinedOrder
// sorts them (signed integers, unsigned bytes, false < true).
bool Less(const DataType& t, const Value& a, const Value& b) {
  switch (t.kind) {
    case TypeKind::kString:
    case TypeKind::kBinary:
      return a.s < b.s;  // char_traits<char> compares as unsigned char
    case TypeKind::kFloat:
      return static_cast<float>(a.f) < static_cast<float>(b.f);
    case TypeKind::kDouble:
      return a.f < b.f;
    case TypeKind::kBoolean:
      return a.b < b.b;
    case TypeKind::kDecimal:
      return a.dec < b.dec;
    default:
      return a.i < b.i;
  }
}

struct LeafAccumulator {
  ExpectedLeafStats stats;
  const Value* min = nullptr;
  const Value* max = nullptr;

  void Add(const Value* v) {
    if (v == nullptr || v->kind == Value::Kind::kNull) {
      ++stats.null_count;
      return;
    }
    const TypeKind k = stats.type.kind;
    if ((k == TypeKind::kFloat || k == TypeKind::kDouble) && std::isnan(v->f)) {
      stats.has_nan = true;
      return;
    }
    if (min == nullptr || Less(stats.type, *v, *min)) min = v;
    if (max == nullptr || Less(stats.type, *max, *v)) max = v;
  }
};

void ListLeaves(const DataType& t, const std::string& path, std::vector<LeafAccumulator>* out) {
  auto join = [&](const std::string& name) { return path.empty() ? name : path + "." + name; };
  switch (t.kind) {
    case TypeKind::kStruct:
      for (const schema::Field& f : t.fields) ListLeaves(f.type, join(f.name), out);
      return;
    case TypeKind::kArray:
      return ListLeaves(*t.element, join("list.element"), out);
    case TypeKind::kMap:
      ListLeaves(*t.element, join("key_value.key"), out);
      return ListLeaves(*t.value, join("key_value.value"), out);
    default:
      out->emplace_back();
      out->back().stats.path = path;
      out->back().stats.type = t;
  }
}

size_t CountLeaves(const DataType& t) {
  std::vector<LeafAccumulator> leaves;
  ListLeaves(t, "", &leaves);
  return leaves.size();
}

// Feeds every level entry of `v` (nullptr: absent because of a null or empty ancestor) to the
// accumulators of the leaves under `t`, starting at *leaf.
void Collect(const DataType& t, const Value* v, size_t* leaf, std::vector<LeafAccumulator>* accs) {
  const bool absent = v == nullptr || v->kind == Value::Kind::kNull;
  if (t.IsPrimitive()) return (*accs)[(*leaf)++].Add(v);
  if (t.kind == TypeKind::kStruct) {
    for (size_t i = 0; i < t.fields.size(); ++i) {
      Collect(t.fields[i].type, absent ? nullptr : &v->items[i], leaf, accs);
    }
    return;
  }
  const size_t start = *leaf;
  const size_t end = start + CountLeaves(t);
  const size_t stride = t.kind == TypeKind::kMap ? 2 : 1;
  if (absent || v->items.empty()) {
    Collect(*t.element, nullptr, leaf, accs);
    if (t.kind == TypeKind::kMap) Collect(*t.value, nullptr, leaf, accs);
  }
  for (size_t i = 0; !absent && i + stride <= v->items.size(); i += stride) {
    *leaf = start;
    Collect(*t.element, &v->items[i], leaf, accs);
    if (t.kind == TypeKind::kMap) Collect(*t.value, &v->items[i + 1], leaf, accs);
  }
  *leaf = end;
}

}  // namespace

Value Null() { return Value{}; }
Value Bool(bool v) {
  Value x;
  x.kind = Value::Kind::kBool;
  x.b = v;
  return x;
}
Value Int(int64_t v) {
  Value x;
  x.kind = Value::Kind::kInt;
  x.i = v;
  return x;
}
Value Real(double v) {
  Value x;
  x.kind = Value::Kind::kReal;
  x.f = v;
  return x;
}
Value Bytes(std::string v) {
  Value x;
  x.kind = Value::Kind::kBytes;
  x.s = std::move(v);
  return x;
}
Value Dec(__int128 unscaled) {
  Value x;
  x.kind = Value::Kind::kDecimal;
  x.dec = unscaled;
  return x;
}
Value List(std::vector<Value> items) {
  Value x;
  x.kind = Value::Kind::kList;
  x.items = std::move(items);
  return x;
}
Value Struct(std::vector<Value> fields) {
  Value x;
  x.kind = Value::Kind::kStruct;
  x.items = std::move(fields);
  return x;
}
Value Map(std::vector<std::pair<Value, Value>> entries) {
  Value x;
  x.kind = Value::Kind::kMap;
  for (auto& [k, v] : entries) {
    x.items.push_back(std::move(k));
    x.items.push_back(std::move(v));
  }
  return x;
}

absl::Status AppendRow(const schema::Schema& schema, const Row& row, RowBuilder* builder) {
  builder->BeginRow();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    AppendValue(schema.fields[i].type, row[i], builder);
  }
  return builder->EndRow();
}

nlohmann::json Canonical(const DataType& t, const Value& v) {
  if (v.kind == Value::Kind::kNull) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  switch (t.kind) {
    case TypeKind::kStruct:
      out = nlohmann::json::object();
      for (size_t i = 0; i < t.fields.size(); ++i) {
        out[t.fields[i].name] = Canonical(t.fields[i].type, v.items[i]);
      }
      return out;
    case TypeKind::kArray:
      for (const Value& item : v.items) out.push_back(Canonical(*t.element, item));
      return out;
    case TypeKind::kMap:
      for (size_t i = 0; i + 1 < v.items.size(); i += 2) {
        out.push_back({Canonical(*t.element, v.items[i]), Canonical(*t.value, v.items[i + 1])});
      }
      return out;
    default:
      return CanonicalPrimitive(t, v);
  }
}

nlohmann::json CanonicalRow(const schema::Schema& schema, const Row& row) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    out[schema.fields[i].name] = Canonical(schema.fields[i].type, row[i]);
  }
  return out;
}

nlohmann::json CanonicalFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0 && std::signbit(v)) return "-0";
  return v;
}

std::string DecimalString(__int128 unscaled, int scale) {
  const bool negative = unscaled < 0;
  unsigned __int128 u = negative ? -static_cast<unsigned __int128>(unscaled) : unscaled;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  } while (u != 0);
  if (scale > 0) {
    if (digits.size() < static_cast<size_t>(scale) + 1) {
      digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
    }
    digits.insert(digits.size() - scale, ".");
  }
  return negative ? "-" + digits : digits;
}

std::string DateString(int64_t days) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::vector<ExpectedLeafStats> ComputeLeafStats(const schema::Schema& schema,
                                                const std::vector<Row>& rows) {
  std::vector<LeafAccumulator> accs;
  for (const schema::Field& f : schema.fields) ListLeaves(f.type, f.name, &accs);
  for (const Row& row : rows) {
    size_t leaf = 0;
    for (size_t i = 0; i < schema.fields.size(); ++i)
      Collect(schema.fields[i].type, &row[i], &leaf, &accs);
  }
  std::vector<ExpectedLeafStats> out;
  for (LeafAccumulator& acc : accs) {
    ExpectedLeafStats s = std::move(acc.stats);
    if (acc.min != nullptr) {
      s.min = CanonicalPrimitive(s.type, *acc.min);
      s.max = CanonicalPrimitive(s.type, *acc.max);
      // TypeDefinedOrder for floats: a zero bound is written as -0.0 (min) and +0.0 (max).
      if (s.type.kind == TypeKind::kFloat || s.type.kind == TypeKind::kDouble) {
        if (s.min == 0 || s.min == "-0") s.min = "-0";
        if (s.max == 0 || s.max == "-0") s.max = 0.0;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace nobus::parquet::testing
