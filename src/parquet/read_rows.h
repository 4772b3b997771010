// Reading a Parquet file back into a RowBatch: the columnar way in for rewriting data files
// (Delta compaction merges many small files into one). In the data path: small data file ->
// FileReader -> [AppendFileRows] -> RowBatch -> FileWriter. Columns are copied as levels plus
// values, chunk by chunk; no record is assembled, so every type the writer supports (nested
// structs, lists, maps, decimals) round-trips bit for bit.
#pragma once

#include "common/status.h"
#include "parquet/reader.h"
#include "parquet/row_batch.h"

namespace nobus::parquet {

// Appends every row of `file` to `batch`. The file's leaf columns must be exactly the batch's
// leaves (same paths, physical types, widths and levels, as nobus writes them for the batch's
// schema): FailedPrecondition naming the first difference otherwise (a file written under another
// schema or by a writer with another layout). DataLoss when the file is corrupt or its columns
// disagree on the number of rows. On any error `batch` is left unchanged. Thread-compatible.
[[nodiscard]] absl::Status AppendFileRows(const FileReader& file, RowBatch* batch);

// The same for one row group of `file` (InvalidArgument for a row group it does not have): lets a
// caller bound its memory to one decoded row group at a time.
[[nodiscard]] absl::Status AppendRowGroupRows(const FileReader& file, int row_group,
                                              RowBatch* batch);

}  // namespace nobus::parquet
