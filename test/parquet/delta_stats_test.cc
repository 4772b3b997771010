// DeltaStatsJson against statistics recomputed here from the same values (Spark's rules, spec
// "stats"): numRecords, nested minValues/maxValues/nullCount, no min/max for boolean, binary,
// arrays, maps and NaN-tainted floats, 32-character string prefixes with an upper-bound max,
// timestamps truncated to milliseconds, dates as YYYY-MM-DD.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "reader_harness.h"

namespace nobus::parquet::testing {
namespace {

using schema::DataType;
using schema::Primitive;
using schema::TypeKind;

constexpr size_t kPrefixChars = 32;

std::string TimestampMillisString(int64_t micros) {
  using namespace std::chrono;
  const sys_time<milliseconds> t{
      milliseconds{micros >= 0 ? micros / 1000 : -((-micros + 999) / 1000)}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

std::vector<std::u32string::size_type> CodePointStarts(const std::string& s) {
  std::vector<size_t> starts;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  return starts;
}

std::string Prefix(const std::string& s, size_t chars) {
  const auto starts = CodePointStarts(s);
  return starts.size() <= chars ? s : s.substr(0, starts[chars]);
}

// The Delta stats value of a primitive, or null when Spark keeps no min/max for the type. A
// truncated string max becomes {"truncated_max": original}, checked by ExpectTree.
nlohmann::json DeltaBound(const DataType& t, const Value& v, bool is_max) {
  switch (t.kind) {
    case TypeKind::kBoolean:
    case TypeKind::kBinary:
      return nullptr;
    case TypeKind::kString:
      if (CodePointStarts(v.s).size() <= kPrefixChars) return v.s;
      return is_max ? nlohmann::json{{"truncated_max", v.s}}
                    : nlohmann::json(Prefix(v.s, kPrefixChars));
    case TypeKind::kDate:
      return DateString(v.i);
    case TypeKind::kTimestamp:
      return TimestampMillisString(v.i);
    case TypeKind::kFloat:
      return static_cast<float>(v.f);
    case TypeKind::kDouble:
      return v.f;
    case TypeKind::kDecimal:
      return std::stod(DecimalString(v.dec, t.scale));
    default:
      return v.i;
  }
}

struct Accumulated {
  nlohmann::json min = nlohmann::json::object(), max = nlohmann::json::object(),
                 nulls = nlohmann::json::object();
};

bool Lower(const DataType& t, const Value& a, const Value& b) {
  if (t.kind == TypeKind::kString) return a.s < b.s;
  if (t.kind == TypeKind::kFloat || t.kind == TypeKind::kDouble) return a.f < b.f;
  if (t.kind == TypeKind::kDecimal) return a.dec < b.dec;
  return a.i < b.i;
}

// Recomputes one field's stats over `values` (the field's value in each row, null when absent).
void FieldStats(const schema::Field& f, const std::vector<const Value*>& values, Accumulated* out) {
  int64_t nulls = 0;
  for (const Value* v : values) nulls += (v == nullptr || v->kind == Value::Kind::kNull);
  if (f.type.kind == TypeKind::kStruct) {
    Accumulated sub;
    for (size_t i = 0; i < f.type.fields.size(); ++i) {
      std::vector<const Value*> child;
      for (const Value* v : values) {
        child.push_back(v == nullptr || v->kind == Value::Kind::kNull ? nullptr : &v->items[i]);
      }
      FieldStats(f.type.fields[i], child, &sub);
    }
    if (!sub.min.empty()) out->min[f.name] = sub.min;
    if (!sub.max.empty()) out->max[f.name] = sub.max;
    out->nulls[f.name] = sub.nulls;
    return;
  }
  out->nulls[f.name] = nulls;
  if (!f.type.IsPrimitive()) return;
  const Value *lo = nullptr, *hi = nullptr;
  for (const Value* v : values) {
    if (v == nullptr || v->kind == Value::Kind::kNull) continue;
    if (v->kind == Value::Kind::kReal && std::isnan(v->f)) return;  // NaN: no min/max at all
    if (lo == nullptr || Lower(f.type, *v, *lo)) lo = v;
    if (hi == nullptr || Lower(f.type, *hi, *v)) hi = v;
  }
  if (lo == nullptr || DeltaBound(f.type, *lo, false).is_null()) return;
  out->min[f.name] = DeltaBound(f.type, *lo, false);
  out->max[f.name] = DeltaBound(f.type, *hi, true);
}

nlohmann::json ExpectedDeltaStats(const schema::Schema& schema, const std::vector<Row>& rows) {
  Accumulated acc;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    std::vector<const Value*> column;
    for (const Row& r : rows) column.push_back(&r[i]);
    FieldStats(schema.fields[i], column, &acc);
  }
  return {{"numRecords", rows.size()},
          {"minValues", acc.min},
          {"maxValues", acc.max},
          {"nullCount", acc.nulls}};
}

void ExpectTruncatedMax(const std::string& path, const std::string& original,
                        const nlohmann::json& got) {
  ASSERT_TRUE(got.is_string()) << path;
  const std::string g = got.get<std::string>();
  const auto starts = CodePointStarts(g);
  EXPECT_EQ(starts.size(), kPrefixChars + 1) << path << " max " << g;
  EXPECT_EQ(g.substr(0, starts.back()), Prefix(original, kPrefixChars)) << path;
  const std::string tie = g.substr(starts.back());
  EXPECT_TRUE(tie == "\x7f" || tie == "\xf4\x8f\xbf\xbf") << path << " tie-breaker " << Hex(tie);
  EXPECT_GE(g, original) << path << " truncated max below the true max";
}

void ExpectTree(const std::string& path, const nlohmann::json& want, const nlohmann::json& got) {
  if (want.is_object() && want.contains("truncated_max")) {
    return ExpectTruncatedMax(path, want["truncated_max"], got);
  }
  if (want.is_object()) {
    ASSERT_TRUE(got.is_object()) << path << ": " << got.dump();
    for (auto it = want.begin(); it != want.end(); ++it) {
      EXPECT_TRUE(got.contains(it.key())) << path << "." << it.key() << " missing";
      if (got.contains(it.key())) ExpectTree(path + "." + it.key(), it.value(), got[it.key()]);
    }
    for (auto it = got.begin(); it != got.end(); ++it) {
      const bool empty_struct = it.value().is_object() && it.value().empty();
      EXPECT_TRUE(want.contains(it.key()) || empty_struct)
          << path << "." << it.key() << " unexpected";
    }
    return;
  }
  if (want.is_number_float() && got.is_number()) {
    EXPECT_EQ(got.get<double>(), want.get<double>()) << path;
    return;
  }
  EXPECT_EQ(got, want) << path;
}

void CheckDeltaStats(const schema::Schema& schema, const std::vector<Row>& rows) {
  ReaderHarness harness;
  absl::StatusOr<std::unique_ptr<RowBatch>> batch = RowBatch::Create(schema);
  ASSERT_TRUE(batch.ok()) << batch.status();
  RowBuilder builder(batch->get());
  for (const Row& r : rows) ASSERT_TRUE(AppendRow(schema, r, &builder).ok());
  absl::StatusOr<WrittenFile> file = harness.WriteBatch(**batch);
  ASSERT_TRUE(file.ok()) << file.status();
  const std::string json = DeltaStatsJson(**batch, file->result);
  const nlohmann::json got = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(got.is_discarded()) << json;
  SCOPED_TRACE(json);
  ExpectTree("stats", ExpectedDeltaStats(schema, rows), got);

  DeltaStatsOptions none;
  none.num_indexed_cols = 0;
  const nlohmann::json only_count =
      nlohmann::json::parse(DeltaStatsJson(**batch, file->result, none), nullptr, false);
  EXPECT_EQ(only_count.value("numRecords", -1), static_cast<int64_t>(rows.size()));
  EXPECT_FALSE(only_count.contains("minValues") && !only_count["minValues"].empty());
}

const std::string kLongAscii = "abcdefghijklmnopqrstuvwxyz0123456789-long-ascii-value";
const std::string kLongUnicode = "äöü😀日本語テキストabcdefghijklmnopqrstuvwxyz-more-text";

TEST(DeltaStatsTest, FlatSchema) {
  const schema::Schema schema{{
      {"id", Primitive(TypeKind::kLong)},
      {"n", Primitive(TypeKind::kInteger)},
      {"sh", Primitive(TypeKind::kShort)},
      {"s", Primitive(TypeKind::kString)},
      {"f", Primitive(TypeKind::kFloat)},
      {"d", Primitive(TypeKind::kDouble)},
      {"dn", Primitive(TypeKind::kDouble)},
      {"b", Primitive(TypeKind::kBoolean)},
      {"bin", Primitive(TypeKind::kBinary)},
      {"dt", Primitive(TypeKind::kDate)},
      {"ts", Primitive(TypeKind::kTimestamp)},
      {"dec", schema::Decimal(10, 3)},
      {"allnull", Primitive(TypeKind::kString)},
  }};
  const std::vector<Row> rows = {
      {Int(5), Int(-3), Int(7), Bytes(kLongAscii), Real(1.25), Real(-2.5), Real(1), Bool(true),
       Bytes("\x01"), Int(-1), Int(-1500), Dec(-12345), Null()},
      {Int(-9), Null(), Int(-7), Bytes(kLongUnicode), Real(-0.5), Real(1e300), Real(NAN),
       Bool(false), Bytes("\xff"), Int(19000), Int(1577836800123456), Dec(99999), Null()},
      {Null(), Int(42), Null(), Bytes("b"), Null(), Null(), Real(2), Null(), Null(), Null(), Null(),
       Null(), Null()},
  };
  CheckDeltaStats(schema, rows);
}

TEST(DeltaStatsTest, NestedSchema) {
  const schema::Schema schema{{
      {"id", Primitive(TypeKind::kInteger)},
      {"s", schema::Struct({{"x", Primitive(TypeKind::kLong)},
                            {"t", schema::Struct({{"name", Primitive(TypeKind::kString)},
                                                  {"when", Primitive(TypeKind::kTimestamp)}})},
                            {"tags", schema::Array(Primitive(TypeKind::kString))}})},
      {"m", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kInteger))},
      {"l", schema::Array(Primitive(TypeKind::kLong))},
  }};
  const std::vector<Row> rows = {
      {Int(1), Struct({Int(10), Struct({Bytes(kLongUnicode), Int(1000)}), List({Bytes("a")})}),
       Map({{Bytes("k"), Int(1)}}), List({Int(1)})},
      {Int(2), Null(), Null(), Null()},
      {Int(3), Struct({Null(), Null(), Null()}), Map({}), List({})},
      {Int(4), Struct({Int(-10), Struct({Bytes("a"), Null()}), List({})}), Null(), List({Null()})},
  };
  CheckDeltaStats(schema, rows);
}

}  // namespace
}  // namespace nobus::parquet::testing
