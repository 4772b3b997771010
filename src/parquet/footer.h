// Encodes the Parquet footer (FileMetaData, Thrift compact) from the schema mapping and the
// results of the column chunks written by file_writer.cc. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "parquet/column_writer.h"
#include "parquet/schema_mapping.h"

namespace nobus::parquet {

struct RowGroupResult {
  int64_t num_rows = 0;
  std::vector<ChunkResult> chunks;  // one per leaf, schema order
};

// Appends the FileMetaData of a file with `row_groups` to `out` (without the length and magic).
void EncodeFileMetaData(const ColumnTree& tree, const std::vector<RowGroupResult>& row_groups,
                        Codec codec, const std::string& created_by, std::string* out);

}  // namespace nobus::parquet
