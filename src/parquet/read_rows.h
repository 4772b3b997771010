// Reading a Parquet file back into a RowBatch: the columnar way in for rewriting data files
// (Delta compaction merges many small files into one). In the data path: small data file ->
// FileReader -> [AppendRowGroupRows] -> RowBatch -> FileWriter. Columns are copied as levels plus
// values, chunk by chunk; no record is assembled, so every type the writer supports (nested
// structs, lists, maps, decimals) round-trips bit for bit.
#pragma once

#include "common/status.h"
#include "parquet/reader.h"
#include "parquet/row_batch.h"

namespace nobus::parquet {

// Appends the rows of one row group of `file` to `batch`, decoding only that row group (so a
// caller's memory is bounded by one row group, not the file). The file's leaf columns must be
// exactly the batch's leaves (same paths, physical types, widths and levels, as nobus writes them
// for the batch's schema): FailedPrecondition naming the first difference otherwise (a file
// written under another schema or by a writer with another layout). InvalidArgument for a row
// group the file does not have; DataLoss when it is corrupt or its columns disagree on the number
// of rows. On any error `batch` is left unchanged. Thread-compatible.
[[nodiscard]] absl::Status AppendRowGroupRows(const FileReader& file, int row_group,
                                              RowBatch* batch);

// AppendRowGroupRows for every row group in order. A layout error leaves `batch` unchanged; after
// a corrupt row group the rows of the row groups before it stay appended (discard the batch).
[[nodiscard]] absl::Status AppendFileRows(const FileReader& file, RowBatch* batch);

}  // namespace nobus::parquet
