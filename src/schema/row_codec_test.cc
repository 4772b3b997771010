#include "schema/row_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "schema/ddl.h"
#include "schema/test_sink.h"

namespace nobus::schema {
namespace {

Schema MustParse(std::string_view ddl) {
  auto s = ParseDdl(ddl);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Schema{};
}

std::string Replay(const Schema& schema, std::string_view blob,
                   const std::vector<std::string>& partitions = {}) {
  TraceSink sink;
  absl::Status st = ReplayRows(schema, partitions, blob, &sink);
  EXPECT_TRUE(st.ok()) << st;
  return sink.trace;
}

TEST(RowCodecTest, EmptyBlobHasZeroRows) {
  std::string blob;
  RowBlobWriter w(&blob);
  EXPECT_EQ(w.num_rows(), 0);
  EXPECT_EQ(*CountRows(blob), 0);
  EXPECT_EQ(Replay(MustParse("id BIGINT"), blob), "");
}

TEST(RowCodecTest, BytesMatchTheDocumentedExample) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int64(3), w.BeginList(1), w.String("a"), w.EndList(), w.EndRow();
  EXPECT_EQ(blob, std::string("r\x01\x01\0\0\0\x04\x06\x0c\x01\x07\x01"
                              "a\x0b",
                              14));
}

TEST(RowCodecTest, EveryPrimitiveTypeRoundTrips) {
  Schema schema = MustParse(
      "s STRING, l BIGINT, i INT, sh SMALLINT, b TINYINT, f FLOAT, d DOUBLE, z BOOLEAN, "
      "bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, dec DECIMAL(38,2), small "
      "DECIMAL(3,1)");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow();
  w.String("héllo");
  w.Int64(std::numeric_limits<int64_t>::min());
  w.Int32(std::numeric_limits<int32_t>::max());
  w.Int32(-32768);
  w.Int32(127);
  w.Float(1.5f);
  w.Double(-2.25);
  w.Bool(false);
  w.Binary(std::string_view("\0\xff", 2));
  w.Int32(-1);
  w.Int64(1735689600000000);
  w.Int64(-5);
  __int128 big = static_cast<__int128>(1);
  for (int k = 0; k < 37; ++k) big *= 10;  // 10^37 < 10^38
  w.Decimal(-big);
  w.Decimal(999);
  w.EndRow();
  EXPECT_EQ(w.num_rows(), 1);
  EXPECT_EQ(*CountRows(blob), 1);
  EXPECT_EQ(Replay(schema, blob),
            Cat("row{ str:héllo i64:-9223372036854775808 i32:2147483647 i32:-32768 i32:127 "
                "f32:1.500000 f64:-2.250000 false bin:",
                std::string_view("\0\xff", 2), " i32:-1 i64:1735689600000000 i64:-5 dec:-",
                TraceSink::Int128ToString(big), " dec:999 } "));
}

TEST(RowCodecTest, NestedStructArrayMapRoundTrip) {
  Schema schema = MustParse(
      "id BIGINT NOT NULL, payload STRUCT<tags: ARRAY<INT>, attrs: MAP<STRING, STRUCT<x: DOUBLE>>, "
      "inner: STRUCT<deep: ARRAY<ARRAY<STRING>>>>");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow();
  w.Int64(7);
  w.BeginStruct();
  w.BeginList(2), w.Int32(1), w.Int32(2), w.EndList();
  w.BeginMap(1), w.String("k"), w.BeginStruct(), w.Double(0.5), w.EndStruct(), w.EndMap();
  w.BeginStruct();
  w.BeginList(2), w.BeginList(1), w.String("a"), w.EndList(), w.BeginList(0), w.EndList(),
      w.EndList();
  w.EndStruct();
  w.EndStruct();
  w.EndRow();
  EXPECT_EQ(Replay(schema, blob),
            "row{ i64:7 { [ i32:1 i32:2 ] map[ str:k { f64:0.500000 } ] { [ [ str:a ] [ ] ] } } "
            "} ");
}

TEST(RowCodecTest, NullsAtEveryLevel) {
  Schema schema = MustParse(
      "a STRING, s STRUCT<x: INT, l: ARRAY<STRING>, m: MAP<STRING, INT>>, l ARRAY<STRUCT<y: INT>>");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow();  // everything null at the top
  w.Null(), w.Null(), w.Null();
  w.EndRow();
  w.BeginRow();  // nulls inside
  w.Null();
  w.BeginStruct(), w.Null(), w.BeginList(1), w.Null(), w.EndList(), w.BeginMap(1), w.String("k"),
      w.Null(), w.EndMap(), w.EndStruct();
  w.BeginList(2), w.Null(), w.BeginStruct(), w.Null(), w.EndStruct(), w.EndList();
  w.EndRow();
  EXPECT_EQ(Replay(schema, blob),
            "row{ null null null } "
            "row{ null { null [ null ] map[ str:k null ] } [ null { null } ] } ");
}

TEST(RowCodecTest, AbortRowDropsTheRowInProgress) {
  Schema schema = MustParse("a INT, b STRING");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int32(1), w.String("x"), w.EndRow();
  w.BeginRow(), w.Int32(2);
  w.AbortRow();
  w.BeginRow(), w.Int32(3), w.String("z"), w.EndRow();
  EXPECT_EQ(w.num_rows(), 2);
  EXPECT_EQ(Replay(schema, blob), "row{ i32:1 str:x } row{ i32:3 str:z } ");
}

TEST(RowCodecTest, BlobStartsAtTheOutputsSizeAtConstruction) {
  std::string out = "prefix";
  RowBlobWriter w(&out);
  w.BeginRow(), w.Int32(1), w.EndRow();
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(Replay(MustParse("a INT"), std::string_view(out).substr(6)), "row{ i32:1 } ");
}

TEST(RowCodecTest, PartitionValuesOfEveryPrimitiveType) {
  Schema schema = MustParse(
      "s STRING, l BIGINT, i INT, sh SMALLINT, b TINYINT, f FLOAT, d DOUBLE, z BOOLEAN, "
      "bin BINARY, dt DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, dec DECIMAL(10,3), n INT, v INT");
  std::vector<std::string> parts;
  for (const Field& f : schema.fields) {
    if (f.name != "v") parts.push_back(f.name);
  }
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow();
  w.String("a/b"), w.Int64(-12), w.Int32(34), w.Int32(-5), w.Int32(6), w.Float(0.5f),
      w.Double(1e300), w.Bool(true), w.Binary("xy"), w.Int32(-719162), w.Int64(97500000000),
      w.Int64(-1), w.Decimal(-5), w.Null(), w.Int32(42);
  w.EndRow();
  EXPECT_EQ(Replay(schema, blob, parts),
            "row{ part:s='a/b' part:l='-12' part:i='34' part:sh='-5' part:b='6' part:f='0.5' "
            "part:d='1e+300' part:z='true' part:bin='xy' part:dt='0001-01-01' "
            "part:ts='1970-01-02 03:05:00' part:ntz='1969-12-31 23:59:59.999999' "
            "part:dec='-0.005' part:n=null i32:42 } ");
}

TEST(RowCodecTest, EmptyStringAndBinaryPartitionValuesAreNull) {
  // As Spark writes them; delta-rs reads "" as null, so "" would make readers disagree.
  Schema schema = MustParse("s STRING, bin BINARY, t STRING");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.String(""), w.Binary(""), w.String(" "), w.EndRow();
  EXPECT_EQ(Replay(schema, blob, {"s", "bin", "t"}), "row{ part:s=null part:bin=null part:t=' ' } ");
}

TEST(RowCodecTest, PartitionValuesOfSpecialFloats) {
  Schema schema = MustParse("f FLOAT, d DOUBLE, e DOUBLE");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Float(std::nanf("")), w.Double(-INFINITY), w.Double(INFINITY), w.EndRow();
  EXPECT_EQ(Replay(schema, blob, {"f", "d", "e"}),
            "row{ part:f='NaN' part:d='-Infinity' part:e='Infinity' } ");
}

TEST(RowCodecTest, PartitionColumnMustBeTopLevelPrimitive) {
  Schema schema = MustParse("s STRUCT<x: INT>, a INT");
  std::string blob;
  RowBlobWriter w(&blob);
  TraceSink sink;
  EXPECT_EQ(ReplayRows(schema, {"s"}, blob, &sink).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReplayRows(schema, {"nope"}, blob, &sink).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RowCodecTest, EndRowErrorIsReturnedAsIs) {
  Schema schema = MustParse("a INT");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int32(1), w.EndRow();
  TraceSink sink;
  sink.end_row_status = absl::DataLossError("sink says no");
  absl::Status st = ReplayRows(schema, {}, blob, &sink);
  EXPECT_EQ(st, absl::DataLossError("sink says no"));
}

absl::Status ReplayStatus(const Schema& schema, std::string_view blob) {
  TraceSink sink;
  return ReplayRows(schema, {}, blob, &sink);
}

TEST(RowCodecTest, ValueKindNotMatchingColumnTypeIsDataLoss) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.String("x"), w.EndRow();
  absl::Status st = ReplayStatus(MustParse("a INT"), blob);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("column 'a'"), std::string_view::npos) << st;
}

TEST(RowCodecTest, NestedMismatchNamesThePath) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.BeginStruct(), w.BeginList(1), w.Int64(1), w.EndList(), w.EndStruct(), w.EndRow();
  absl::Status st = ReplayStatus(MustParse("p STRUCT<tags: ARRAY<INT>>"), blob);
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("column 'p.tags.element'"), std::string_view::npos) << st;
}

TEST(RowCodecTest, NullInNotNullPositionIsDataLoss) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Null(), w.EndRow();
  EXPECT_EQ(ReplayStatus(MustParse("a INT NOT NULL"), blob).code(), absl::StatusCode::kDataLoss);
  std::string blob2;
  RowBlobWriter w2(&blob2);
  w2.BeginRow(), w2.BeginMap(1), w2.Null(), w2.Int32(1), w2.EndMap(), w2.EndRow();
  EXPECT_EQ(ReplayStatus(MustParse("m MAP<STRING, INT>"), blob2).code(),
            absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, OutOfRangeSmallIntegersAreDataLoss) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int32(128), w.EndRow();
  EXPECT_EQ(ReplayStatus(MustParse("b TINYINT"), blob).code(), absl::StatusCode::kDataLoss);
  std::string blob2;
  RowBlobWriter w2(&blob2);
  w2.BeginRow(), w2.Decimal(1000), w2.EndRow();
  EXPECT_EQ(ReplayStatus(MustParse("d DECIMAL(3,0)"), blob2).code(), absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, WrongFieldCountIsDataLoss) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int32(1), w.Int32(2), w.EndRow();
  EXPECT_EQ(ReplayStatus(MustParse("a INT"), blob).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReplayStatus(MustParse("a INT, b INT, c INT"), blob).code(),
            absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, EveryTruncationIsDataLoss) {
  Schema schema = MustParse("a STRING, m MAP<STRING, ARRAY<DECIMAL(20,2)>>, d DOUBLE");
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.String("abc"), w.BeginMap(1), w.String("k"), w.BeginList(1),
      w.Decimal(static_cast<__int128>(1) << 62), w.EndList(), w.EndMap(), w.Double(1), w.EndRow();
  ASSERT_TRUE(ReplayStatus(schema, blob).ok());
  for (size_t n = 0; n < blob.size(); ++n) {
    EXPECT_EQ(ReplayStatus(schema, blob.substr(0, n)).code(), absl::StatusCode::kDataLoss) << n;
  }
  EXPECT_EQ(ReplayStatus(schema, blob + "x").code(), absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, BadHeaderIsDataLoss) {
  EXPECT_EQ(CountRows("").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CountRows("xx\0\0\0\0").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(CountRows(std::string("r\x09\0\0\0\0", 6)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, RowCountLargerThanTheRowsIsDataLoss) {
  std::string blob;
  RowBlobWriter w(&blob);
  w.BeginRow(), w.Int32(1), w.EndRow();
  blob[2] = 2;
  EXPECT_EQ(ReplayStatus(MustParse("a INT"), blob).code(), absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, HugeCountsAreDataLossWithoutAllocating) {
  Schema schema = MustParse("l ARRAY<INT>");
  std::string blob("r\x01\x01\0\0\0", 6);
  blob += "\x0c\xff\xff\xff\xff\xff\xff\xff\xff\x7f";  // list of 2^63-1 elements
  EXPECT_EQ(ReplayStatus(schema, blob).code(), absl::StatusCode::kDataLoss);
}

TEST(RowCodecTest, GarbageNeverCrashes) {
  Schema schema = MustParse(
      "a STRING, b STRUCT<x: INT, y: ARRAY<MAP<STRING, DECIMAL(30,5)>>>, c DATE, d BINARY");
  uint64_t state = 88172645463325252ull;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string blob("r\x01", 2);
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    size_t len = state % 64;
    for (size_t i = 0; i < len + 4; ++i) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;
      blob.push_back(static_cast<char>(i < 4 ? (i == 0 ? state % 3 : 0) : state % 16));
    }
    absl::Status st = ReplayStatus(schema, blob);
    EXPECT_TRUE(st.ok() || st.code() == absl::StatusCode::kDataLoss) << st;
  }
}

}  // namespace
}  // namespace nobus::schema
