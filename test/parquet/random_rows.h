// Seeded random schemas, rows and writer options for the Parquet property test: nesting up to
// depth 3, every Delta primitive, random nullability, nulls, empty strings and containers,
// extreme integers, non-ASCII text.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "parquet/writer.h"
#include "values.h"

namespace nobus::parquet::testing {

struct RandomCase {
  uint64_t seed = 0;
  schema::Schema schema;
  std::vector<Row> rows;
  WriterOptions options;
};

// Everything derived from `seed` alone.
RandomCase MakeRandomCase(uint64_t seed);

// One line per top-level field ("name type [not null]"), for failure traces.
std::string DescribeCase(const RandomCase& c);

}  // namespace nobus::parquet::testing
