// Property test of the Parquet writer: seeded random schemas (nesting depth <= 3, every
// primitive, random nullability), random rows (nulls, empty strings and containers, extreme
// integers, non-ASCII text) and random writer options; every file is read back by DuckDB,
// parquet-wasm and hyparquet and compared row by row and statistic by statistic.
//
// NOBUS_SEED=<n> sets the first seed, NOBUS_ITERATIONS=<k> the number of cases (default 30);
// a failure names its seed and the command line that reruns just that case.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "random_rows.h"
#include "reader_harness.h"

namespace nobus::parquet::testing {
namespace {

constexpr uint64_t kDefaultSeed = 20250101;
constexpr int kDefaultIterations = 30;
constexpr size_t kFilesPerReaderRun = 10;

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

struct Written {
  RandomCase c;
  WrittenFile file;
};

// Reads `batch` with one node process; if a reader fails, retries file by file to name the seed.
void CheckBatch(ReaderHarness* harness, const std::vector<Written>& batch) {
  std::vector<std::string> paths;
  for (const Written& w : batch) paths.push_back(w.file.path);
  absl::StatusOr<std::vector<nlohmann::json>> docs = harness->Read(paths);
  for (size_t i = 0; i < batch.size(); ++i) {
    SCOPED_TRACE(DescribeCase(batch[i].c));
    if (docs.ok()) {
      ExpectFileMatches((*docs)[i], batch[i].file, batch[i].c.schema, batch[i].c.rows);
      continue;
    }
    absl::StatusOr<std::vector<nlohmann::json>> one = harness->Read({batch[i].file.path});
    if (!one.ok()) {
      ADD_FAILURE() << one.status();
      continue;
    }
    ExpectFileMatches(one->front(), batch[i].file, batch[i].c.schema, batch[i].c.rows);
  }
}

std::optional<Written> WriteCase(ReaderHarness* harness, RandomCase c) {
  SCOPED_TRACE(DescribeCase(c));
  absl::StatusOr<WrittenFile> file = harness->Write(c.schema, c.rows, c.options);
  if (!file.ok()) {
    ADD_FAILURE() << "write failed: " << file.status();
    return std::nullopt;
  }
  return Written{std::move(c), *std::move(file)};
}

TEST(ParquetPropertyTest, RandomSchemasDataAndOptions) {
  const uint64_t first = EnvOr("NOBUS_SEED", kDefaultSeed);
  const uint64_t iterations = EnvOr("NOBUS_ITERATIONS", kDefaultIterations);
  std::cout << "[ property ] seeds " << first << " .. " << first + iterations - 1
            << " (override with NOBUS_SEED / NOBUS_ITERATIONS)\n";
  ReaderHarness harness;
  std::vector<Written> pending;
  for (uint64_t seed = first; seed < first + iterations; ++seed) {
    std::optional<Written> w = WriteCase(&harness, MakeRandomCase(seed));
    if (w.has_value()) pending.push_back(*std::move(w));
    if (pending.size() == kFilesPerReaderRun) {
      CheckBatch(&harness, pending);
      pending.clear();
    }
  }
  if (!pending.empty()) CheckBatch(&harness, pending);
}

}  // namespace
}  // namespace nobus::parquet::testing
