// Where the Delta Acceptance Testing tables live (../shared/testdata/dat from the repo root, or
// $NOBUS_SHARED_DIR/testdata/dat) and the names of its cases. Shared by the test/delta tests.
#pragma once

#include <cstdlib>
#include <string>

#include "common/status.h"

namespace nobus::delta::testing {

inline std::string DatDir() {
  const char* shared = std::getenv("NOBUS_SHARED_DIR");
  return Cat(shared != nullptr ? shared : "../shared", "/testdata/dat");
}

inline const std::string kDatCases[] = {
    "all_primitive_types", "basic_append",    "basic_partitioned", "multi_partitioned",
    "multi_partitioned_2", "nested_types",    "no_replay",         "no_stats",
    "stats_as_struct",     "with_checkpoint", "with_schema_change"};

}  // namespace nobus::delta::testing
