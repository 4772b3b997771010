// Test helper: a RowSink that records every call as text, so tests compare what ReplayRows
// produced with one readable string ("row{ i32:1 null str:a [ i64:2 ] } "), and DecodeTrace, which
// runs a record decoder on one record and gives that text.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/status.h"
#include "schema/record_decoder.h"
#include "schema/row_codec.h"

namespace nobus::schema {

class TraceSink : public RowSink {
 public:
  std::string trace;
  absl::Status end_row_status = absl::OkStatus();

  void BeginRow() override { trace += "row{ "; }
  void PartitionValue(const std::string& column, std::optional<std::string> value) override {
    trace += Cat("part:", column, "=", value ? Cat("'", *value, "'") : std::string("null"), " ");
  }
  absl::Status EndRow() override {
    trace += "} ";
    return end_row_status;
  }
  void Null() override { trace += "null "; }
  void Bool(bool v) override { trace += v ? "true " : "false "; }
  void Int32(int32_t v) override { trace += Cat("i32:", v, " "); }
  void Int64(int64_t v) override { trace += Cat("i64:", v, " "); }
  void Float(float v) override { trace += Cat("f32:", static_cast<double>(v), " "); }
  void Double(double v) override { trace += Cat("f64:", v, " "); }
  void String(std::string_view v) override { trace += Cat("str:", v, " "); }
  void Binary(std::string_view v) override { trace += Cat("bin:", v, " "); }
  void Decimal(__int128 v) override { trace += Cat("dec:", Int128ToString(v), " "); }
  void BeginStruct() override { trace += "{ "; }
  void EndStruct() override { trace += "} "; }
  void BeginList() override { trace += "[ "; }
  void EndList() override { trace += "] "; }
  void BeginMap() override { trace += "map[ "; }
  void EndMap() override { trace += "] "; }

  static std::string Int128ToString(__int128 v) {
    bool neg = v < 0;
    auto mag = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
    std::string s;
    do {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
      mag /= 10;
    } while (mag != 0);
    return neg ? "-" + s : s;
  }
};

// Decodes `record` as one row and replays it: the row's trace, or "ERROR: <message>" (a failure
// must be InvalidArgument and write no row).
inline std::string DecodeTrace(const RecordDecoder& decoder, const Schema& schema,
                               std::string_view record) {
  std::string blob;
  RowBlobWriter w(&blob);
  absl::Status st = decoder.Decode(record, &w);
  if (!st.ok()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(w.num_rows(), 0);
    return Cat("ERROR: ", st.message());
  }
  TraceSink sink;
  absl::Status replay = ReplayRows(schema, {}, blob, &sink);
  EXPECT_TRUE(replay.ok()) << replay;
  return sink.trace;
}

}  // namespace nobus::schema
