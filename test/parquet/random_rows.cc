#include "random_rows.h"

#include <limits>
#include <set>

namespace nobus::parquet::testing {
namespace {

using schema::DataType;
using schema::TypeKind;

constexpr int kMaxDepth = 3;
constexpr int64_t kMinDay = -719162;                // 0001-01-01
constexpr int64_t kMaxDay = 2932896;                // 9999-12-31
constexpr int64_t kMinMicros = -62135596800000000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxMicros = 253402300799999999;  // 9999-12-31T23:59:59.999999Z

class Gen {
 public:
  explicit Gen(uint64_t seed) : rng_(seed) {}

  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  int64_t Range(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Range(0, static_cast<int64_t>(v.size()) - 1)];
  }

  DataType Type(int depth);
  Value Of(const DataType& t, bool nullable);

 private:
  DataType Primitive();
  Value Primitive(const DataType& t);
  int64_t Integer(int64_t lo, int64_t hi);
  std::string Text();
  Value DecimalValue(int precision);
  std::mt19937_64 rng_;
};

DataType Gen::Primitive() {
  static const std::vector<TypeKind> kinds = {
      TypeKind::kString, TypeKind::kLong,  TypeKind::kInteger,   TypeKind::kShort,
      TypeKind::kByte,   TypeKind::kFloat, TypeKind::kDouble,    TypeKind::kBoolean,
      TypeKind::kBinary, TypeKind::kDate,  TypeKind::kTimestamp, TypeKind::kTimestampNtz,
      TypeKind::kDecimal};
  const TypeKind k = Pick(kinds);
  if (k != TypeKind::kDecimal) return schema::Primitive(k);
  const int precision = static_cast<int>(Pick(std::vector<int64_t>{1, 5, 9, 10, 18, 19, 25, 38}));
  return schema::Decimal(precision, static_cast<int>(Range(0, precision)));
}

DataType Gen::Type(int depth) {
  const int64_t roll = depth >= kMaxDepth ? 0 : Range(0, 9);
  if (roll < 6) return Primitive();
  if (roll == 6) {
    std::vector<schema::Field> fields;
    const int64_t n = Range(1, 3);
    for (int64_t i = 0; i < n; ++i) fields.push_back({Cat("f", i), Type(depth + 1), !Chance(0.2)});
    return schema::Struct(std::move(fields));
  }
  if (roll == 7) return schema::Array(Type(depth + 1), Chance(0.7));
  static const std::vector<TypeKind> keys = {TypeKind::kString, TypeKind::kInteger, TypeKind::kLong,
                                             TypeKind::kDate};
  return schema::Map(schema::Primitive(Pick(keys)), Type(depth + 1), Chance(0.7));
}

int64_t Gen::Integer(int64_t lo, int64_t hi) {
  if (Chance(0.15)) return Pick(std::vector<int64_t>{lo, hi, 0, -1, 1});
  return Chance(0.5) ? Range(-100, 100) : Range(lo, hi);
}

std::string Gen::Text() {
  static const std::vector<std::string> pieces = {"a", "Z",  "0",  " ",  "-",    "é", "ß",  "日本",
                                                  "😀", "\t", "\"", "\\", "\x7f", "ѧ", "xyz"};
  if (Chance(0.15)) return "";
  const int64_t n = Chance(0.1) ? Range(30, 60) : Range(1, 8);
  std::string s;
  for (int64_t i = 0; i < n; ++i) s += Pick(pieces);
  return s;
}

Value Gen::DecimalValue(int precision) {
  __int128 limit = 1;
  for (int i = 0; i < precision; ++i) limit *= 10;
  if (Chance(0.15)) return Dec(Chance(0.5) ? limit - 1 : -(limit - 1));
  __int128 v = 0;
  const int64_t digits = Range(1, precision);
  for (int64_t i = 0; i < digits; ++i) v = v * 10 + Range(0, 9);
  return Dec(Chance(0.5) ? -v : v);
}

Value Gen::Primitive(const DataType& t) {
  using L = std::numeric_limits<int64_t>;
  static const std::vector<double> specials = {0.0,
                                               -0.0,
                                               std::numeric_limits<double>::infinity(),
                                               -std::numeric_limits<double>::infinity(),
                                               std::numeric_limits<double>::quiet_NaN(),
                                               1e-310};
  switch (t.kind) {
    case TypeKind::kString:
      return Bytes(Text());
    case TypeKind::kBinary: {
      std::string b(static_cast<size_t>(Range(0, 12)), '\0');
      for (char& c : b) c = static_cast<char>(Range(0, 255));
      return Bytes(b);
    }
    case TypeKind::kLong:
      return Int(Integer(L::min(), L::max()));
    case TypeKind::kInteger:
      return Int(Integer(INT32_MIN, INT32_MAX));
    case TypeKind::kShort:
      return Int(Integer(INT16_MIN, INT16_MAX));
    case TypeKind::kByte:
      return Int(Integer(INT8_MIN, INT8_MAX));
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      if (Chance(0.1)) return Real(Pick(specials));
      return Real(std::uniform_real_distribution<double>(-1e6, 1e6)(rng_));
    case TypeKind::kBoolean:
      return Bool(Chance(0.5));
    case TypeKind::kDate:
      return Int(Integer(kMinDay, kMaxDay));
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      return Int(Integer(kMinMicros, kMaxMicros));
    default:
      return DecimalValue(t.precision);
  }
}

Value Gen::Of(const DataType& t, bool nullable) {
  if (nullable && Chance(0.15)) return Null();
  switch (t.kind) {
    case TypeKind::kStruct: {
      std::vector<Value> fields;
      for (const schema::Field& f : t.fields) fields.push_back(Of(f.type, f.nullable));
      return Struct(std::move(fields));
    }
    case TypeKind::kArray: {
      std::vector<Value> items;
      for (int64_t n = Chance(0.2) ? 0 : Range(1, 4); n > 0; --n)
        items.push_back(Of(*t.element, t.contains_null));
      return List(std::move(items));
    }
    case TypeKind::kMap: {
      std::vector<std::pair<Value, Value>> entries;
      std::set<std::string> seen;
      for (int64_t n = Chance(0.2) ? 0 : Range(1, 3); n > 0; --n) {
        Value key = Primitive(*t.element);
        if (!seen.insert(key.s + "|" + std::to_string(key.i)).second) continue;  // unique keys
        entries.emplace_back(std::move(key), Of(*t.value, t.contains_null));
      }
      return Map(std::move(entries));
    }
    default:
      return Primitive(t);
  }
}

WriterOptions RandomOptions(Gen* g) {
  WriterOptions o;
  o.codec = g->Pick(std::vector<Codec>{Codec::kUncompressed, Codec::kSnappy, Codec::kZstd});
  o.page_size_bytes = g->Pick(std::vector<int64_t>{256, 4096, 1 << 20});
  o.row_group_size_bytes = g->Pick(std::vector<int64_t>{2048, 64 << 10, 128 << 20});
  o.enable_dictionary = g->Chance(0.7);
  o.dictionary_page_size_limit_bytes = g->Pick(std::vector<int64_t>{512, 1 << 20});
  return o;
}

}  // namespace

RandomCase MakeRandomCase(uint64_t seed) {
  Gen g(seed);
  RandomCase c;
  c.seed = seed;
  const int64_t fields = g.Range(1, 6);
  for (int64_t i = 0; i < fields; ++i) {
    c.schema.fields.push_back({Cat("c", i), g.Type(1), !g.Chance(0.2)});
  }
  const int64_t rows = g.Chance(0.2) ? g.Range(1, 5) : g.Range(20, 400);
  for (int64_t r = 0; r < rows; ++r) {
    Row row;
    for (const schema::Field& f : c.schema.fields) row.push_back(g.Of(f.type, f.nullable));
    c.rows.push_back(std::move(row));
  }
  c.options = RandomOptions(&g);
  return c;
}

std::string DescribeCase(const RandomCase& c) {
  std::string out =
      Cat("seed ", c.seed, " (rerun: NOBUS_SEED=", c.seed, " NOBUS_ITERATIONS=1), ", c.rows.size(),
          " rows, codec ", static_cast<int>(c.options.codec), ", page ", c.options.page_size_bytes,
          ", row group ", c.options.row_group_size_bytes, ", dictionary ",
          c.options.enable_dictionary ? "on" : "off", ", schema:");
  for (const schema::Field& f : c.schema.fields) {
    out += Cat("\n  ", f.name, " ", schema::TypeName(f.type), f.nullable ? "" : " not null");
  }
  return out;
}

}  // namespace nobus::parquet::testing
