// Test helpers shared by the delta unit tests: a small schema and a way to fill batches.
// Test-only; not part of nobus_delta.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "delta/table.h"

namespace nobus::delta::testing {

// id long, name string, day string.
inline schema::Schema SmallSchema() {
  using schema::TypeKind;
  return {{{"id", schema::Primitive(TypeKind::kLong), true},
           {"name", schema::Primitive(TypeKind::kString), true},
           {"day", schema::Primitive(TypeKind::kString), true}}};
}

// Rows id = first..first+n-1 in the partition `day` (or unpartitioned when the table is).
inline std::unique_ptr<PartitionedRows> Rows(Committer& c, int64_t first, int n,
                                             std::optional<std::string> day = "2025-01-01") {
  auto rows = c.NewRows();
  EXPECT_TRUE(rows.ok()) << rows.status();
  bool partitioned = !c.snapshot().metadata().partition_columns.empty();
  PartitionValues values;
  if (partitioned) values["day"] = day;
  auto b = (*rows)->Builder(values);
  EXPECT_TRUE(b.ok()) << b.status();
  for (int i = 0; i < n; ++i) {
    (*b)->BeginRow();
    (*b)->Int64(first + i);
    (*b)->String(Cat("name-", first + i));
    if (!partitioned) (*b)->String(day ? *day : "");
    EXPECT_TRUE((*b)->EndRow().ok());
  }
  return std::move(*rows);
}

inline CreateTableOptions SmallTable(bool partitioned, StringMap configuration = {}) {
  CreateTableOptions o;
  o.schema = SmallSchema();
  if (partitioned) o.partition_columns = {"day"};
  o.configuration = std::move(configuration);
  return o;
}

}  // namespace nobus::delta::testing
