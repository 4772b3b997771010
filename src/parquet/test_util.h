// Helpers shared by the unit tests of src/parquet (test-only; never included by the library).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "parquet/row_batch.h"

namespace nobus::parquet::testing {

// The bytes of `s` as ints, so gtest prints mismatches as numbers.
inline std::vector<int> Bytes(const std::string& s) {
  std::vector<int> out;
  for (char c : s) out.push_back(static_cast<unsigned char>(c));
  return out;
}

// A RowBatch for a schema of `fields`; a test failure if the schema is invalid.
inline std::unique_ptr<RowBatch> MakeBatch(std::vector<schema::Field> fields) {
  schema::Schema s;
  s.fields = std::move(fields);
  auto batch = RowBatch::Create(s);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.ok() ? *std::move(batch) : nullptr;
}

}  // namespace nobus::parquet::testing
