#include "reader_harness.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "env/env.h"

namespace nobus::parquet::testing {
namespace {

using schema::TypeKind;

constexpr char kScript[] = "test/readers/read_parquet.mjs";

std::string ScriptPath() {
  if (std::filesystem::exists(kScript)) return kScript;
  return std::string(NOBUS_SOURCE_DIR) + "/" + kScript;
}

std::string Dump(const nlohmann::json& j, size_t limit = 3000) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > limit) s = s.substr(0, limit) + "...";
  return s;
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsFloat(const schema::DataType& t) {
  return t.kind == TypeKind::kFloat || t.kind == TypeKind::kDouble;
}

// For comparisons that cannot see the sign of a zero bound (DuckDB prints statistics as text).
nlohmann::json WithoutZeroSign(const schema::DataType& t, const nlohmann::json& v) {
  return IsFloat(t) && v == "-0" ? nlohmann::json(0) : v;
}

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Compares one footer bound. Strings and binary may be truncated: then min must not exceed the
// true minimum and max must not be below the true maximum, and neither may claim to be exact.
void ExpectBound(const std::string& where, const ExpectedLeafStats& leaf,
                 const nlohmann::json& want, const nlohmann::json& got, bool is_min,
                 const nlohmann::json& exact_flag) {
  const bool bytes = leaf.type.kind == TypeKind::kString || leaf.type.kind == TypeKind::kBinary;
  if (want.is_null() || got.is_null() || !bytes || want == got) {
    EXPECT_TRUE(got == want) << where << (is_min ? " min" : " max") << ": read " << Dump(got)
                             << ", expected " << Dump(want);
    return;
  }
  const bool hex = leaf.type.kind == TypeKind::kBinary;
  const std::string w = hex ? Unhex(want.get<std::string>()) : want.get<std::string>();
  const std::string g = hex ? Unhex(got.get<std::string>()) : got.get<std::string>();
  if (is_min) {
    EXPECT_LE(g, w) << where << " truncated min " << Dump(got) << " above true min " << Dump(want);
  } else {
    EXPECT_GE(g, w) << where << " truncated max " << Dump(got) << " below true max " << Dump(want);
  }
  EXPECT_NE(exact_flag, nlohmann::json(true)) << where << " inexact bound marked exact";
}

void ExpectReaderStats(const std::string& reader, const nlohmann::json& stats, int rg,
                       const std::vector<ExpectedLeafStats>& want) {
  std::vector<nlohmann::json> got;
  for (const auto& s : stats) {
    if (s["row_group"] == rg) got.push_back(s);
  }
  ASSERT_EQ(got.size(), want.size()) << reader << " row group " << rg << " column chunks";
  for (size_t c = 0; c < want.size(); ++c) {
    const std::string where = Cat(reader, " row group ", rg, " column '", want[c].path, "'");
    EXPECT_EQ(got[c]["path"], want[c].path) << where;
    EXPECT_EQ(got[c]["null_count"], want[c].null_count) << where << " null_count";
    const bool zero_signless = reader == "duckdb";
    auto fix = [&](const nlohmann::json& v) {
      return zero_signless ? WithoutZeroSign(want[c].type, v) : v;
    };
    const nlohmann::json none;
    // DuckDB hides a float bound that is infinite (hyparquet still checks it).
    auto hidden = [&](const nlohmann::json& w, const nlohmann::json& g) {
      return zero_signless && IsFloat(want[c].type) && g.is_null() &&
             (w == "Infinity" || w == "-Infinity");
    };
    if (!hidden(want[c].min, got[c]["min"])) {
      ExpectBound(where, want[c], fix(want[c].min), fix(got[c]["min"]), true,
                  got[c].value("min_exact", none));
    }
    if (!hidden(want[c].max, got[c]["max"])) {
      ExpectBound(where, want[c], fix(want[c].max), fix(got[c]["max"]), false,
                  got[c].value("max_exact", none));
    }
  }
}

nlohmann::json StatToJson(const schema::DataType& type, const StatValue& v) {
  switch (v.kind) {
    case StatValue::Kind::kNone:
      return nullptr;
    case StatValue::Kind::kDouble:
      return WithoutZeroSign(type, CanonicalFloat(v.d));
    case StatValue::Kind::kDecimal:
      return DecimalString(v.dec, type.scale);
    case StatValue::Kind::kBytes:
      return type.kind == TypeKind::kBinary ? nlohmann::json(Hex(v.bytes))
                                            : nlohmann::json(v.bytes);
    case StatValue::Kind::kInt:
      break;
  }
  if (type.kind == TypeKind::kDate) return DateString(v.i);
  if (type.kind == TypeKind::kBoolean) return v.i != 0;
  if (type.kind == TypeKind::kLong || type.kind == TypeKind::kTimestamp ||
      type.kind == TypeKind::kTimestampNtz) {
    return std::to_string(v.i);
  }
  return v.i;
}

}  // namespace

ReaderHarness::ReaderHarness() {
  const char* tmp = getenv("TMPDIR");
  std::string templ = std::string(tmp != nullptr ? tmp : "/tmp") + "/nobus-parquet-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << templ;
  dir_ = templ;
}

ReaderHarness::~ReaderHarness() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string ReaderHarness::NewPath() { return Cat(dir_, "/file-", next_file_++, ".parquet"); }

absl::StatusOr<WrittenFile> ReaderHarness::Write(const schema::Schema& schema,
                                                 const std::vector<Row>& rows,
                                                 const WriterOptions& options) {
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<RowBatch> batch, RowBatch::Create(schema));
  RowBuilder builder(batch.get());
  for (size_t i = 0; i < rows.size(); ++i) {
    NOBUS_RETURN_IF_ERROR(Annotate(AppendRow(schema, rows[i], &builder), Cat("input row ", i)));
  }
  return WriteBatch(*batch, options);
}

absl::StatusOr<WrittenFile> ReaderHarness::WriteBatch(const RowBatch& batch,
                                                      const WriterOptions& options) {
  WrittenFile out;
  out.path = NewPath();
  NOBUS_ASSIGN_OR_RETURN(out.result, WriteFileAt(env::PosixFileSystem(), out.path, batch, options));
  return out;
}

absl::StatusOr<std::vector<nlohmann::json>> ReaderHarness::Read(
    const std::vector<std::string>& paths) {
  const std::string err_path = dir_ + "/readers.stderr";
  std::string cmd = Cat("node '", ScriptPath(), "' --array");
  for (const std::string& p : paths) cmd += Cat(" '", p, "'");
  cmd += Cat(" 2>'", err_path, "'");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError(Cat("popen failed: ", cmd));
  std::string out;
  char buf[1 << 16];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out.append(buf, n);
  const int status = pclose(pipe);
  if (status != 0) {
    return absl::InternalError(
        Cat("independent reader failed (exit ", WEXITSTATUS(status), "): ", ReadWhole(err_path)));
  }
  nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded() || !doc.is_array() || doc.size() != paths.size()) {
    return absl::InternalError(Cat("unexpected reader output: ", out.substr(0, 500)));
  }
  return std::vector<nlohmann::json>(doc.begin(), doc.end());
}

void ExpectRows(const nlohmann::json& doc, const schema::Schema& schema,
                const std::vector<Row>& rows) {
  for (const char* reader : {"duckdb", "parquet_wasm", "hyparquet"}) {
    const nlohmann::json& got = doc[reader]["rows"];
    ASSERT_TRUE(got.is_array()) << reader;
    EXPECT_EQ(got.size(), rows.size()) << reader << " row count";
    int mismatches = 0;
    for (size_t i = 0; i < std::min<size_t>(got.size(), rows.size()) && mismatches < 3; ++i) {
      const nlohmann::json want = CanonicalRow(schema, rows[i]);
      if (got[i] == want) continue;
      ++mismatches;
      ADD_FAILURE() << reader << " row " << i << "\n  expected: " << Dump(want)
                    << "\n  read:     " << Dump(got[i]);
    }
  }
}

void ExpectFooterStats(const nlohmann::json& doc, const schema::Schema& schema,
                       const std::vector<Row>& rows) {
  const nlohmann::json& groups = doc["duckdb"]["row_groups"];
  EXPECT_EQ(groups, doc["hyparquet"]["row_groups"]) << "readers disagree on row groups";
  size_t begin = 0;
  for (size_t rg = 0; rg < groups.size(); ++rg) {
    const size_t n = groups[rg].get<size_t>();
    ASSERT_LE(begin + n, rows.size()) << "row groups hold more rows than written";
    const std::vector<Row> slice(rows.begin() + begin, rows.begin() + begin + n);
    const std::vector<ExpectedLeafStats> want = ComputeLeafStats(schema, slice);
    ExpectReaderStats("duckdb", doc["duckdb"]["stats"], static_cast<int>(rg), want);
    ExpectReaderStats("hyparquet", doc["hyparquet"]["stats"], static_cast<int>(rg), want);
    begin += n;
  }
  EXPECT_EQ(begin, rows.size()) << "rows in row groups";
}

void ExpectFileResult(const FileResult& result, const schema::Schema& schema,
                      const std::vector<Row>& rows) {
  EXPECT_EQ(result.num_rows, static_cast<int64_t>(rows.size()));
  const std::vector<ExpectedLeafStats> want = ComputeLeafStats(schema, rows);
  ASSERT_EQ(result.leaves.size(), want.size()) << "FileResult leaves";
  for (size_t c = 0; c < want.size(); ++c) {
    const std::string where = Cat("FileResult column '", want[c].path, "'");
    EXPECT_EQ(result.leaves[c].null_count, want[c].null_count) << where;
    EXPECT_EQ(result.leaves[c].has_nan, want[c].has_nan) << where;
    for (const bool is_min : {true, false}) {
      const nlohmann::json got =
          StatToJson(want[c].type, is_min ? result.leaves[c].min : result.leaves[c].max);
      const nlohmann::json expected =
          WithoutZeroSign(want[c].type, is_min ? want[c].min : want[c].max);
      EXPECT_TRUE(got == expected) << where << (is_min ? " min" : " max") << ": writer says "
                                   << Dump(got) << ", expected " << Dump(expected);
    }
  }
}

void ExpectFileMatches(const nlohmann::json& doc, const WrittenFile& file,
                       const schema::Schema& schema, const std::vector<Row>& rows) {
  SCOPED_TRACE(file.path);
  ExpectRows(doc, schema, rows);
  ExpectFooterStats(doc, schema, rows);
  ExpectFileResult(file.result, schema, rows);
}

std::string CodecName(Codec codec) {
  switch (codec) {
    case Codec::kSnappy:
      return "Snappy";
    case Codec::kZstd:
      return "Zstd";
    case Codec::kUncompressed:
      break;
  }
  return "Uncompressed";
}

nlohmann::json RoundTrip(ReaderHarness* harness, const schema::Schema& schema,
                         const std::vector<Row>& rows, const WriterOptions& options) {
  absl::StatusOr<WrittenFile> file = harness->Write(schema, rows, options);
  if (!file.ok()) {
    ADD_FAILURE() << "write failed: " << file.status();
    return nullptr;
  }
  absl::StatusOr<std::vector<nlohmann::json>> docs = harness->Read({file->path});
  if (!docs.ok()) {
    ADD_FAILURE() << docs.status();
    return nullptr;
  }
  ExpectFileMatches(docs->front(), *file, schema, rows);
  return docs->front();
}

}  // namespace nobus::parquet::testing
