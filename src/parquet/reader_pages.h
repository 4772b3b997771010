// Internal to the Parquet reader (reader.h): decoding of one column chunk's pages into
// ColumnValues. Stateless functions over borrowed bytes.
#pragma once

#include <string_view>

#include "common/status.h"
#include "parquet/reader.h"
#include "parquet/thrift_decoder.h"

namespace nobus::parquet::internal {

// Decodes the pages of `chunk` from `file` (the whole file's bytes).
[[nodiscard]] absl::StatusOr<ColumnValues> DecodeColumnChunk(std::string_view file,
                                                             const ColumnMetaData& chunk,
                                                             const ColumnDescriptor& column);

// Decodes `count` values of the RLE/bit-packed hybrid encoding (no length prefix) into `out`.
[[nodiscard]] absl::Status DecodeHybrid(std::string_view data, int bit_width, size_t count,
                                        std::vector<int32_t>* out);

}  // namespace nobus::parquet::internal
