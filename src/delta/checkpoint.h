// Delta checkpoints (classic V1, `<N>.checkpoint.parquet`): the reconciled table state at version
// N, one action per row. In the data path: snapshot replay starts from the newest checkpoint
// instead of commit 0. Reading goes through parquet/reader.h. Stateless functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "delta/actions.h"

namespace nobus::delta {

// The actions of a checkpoint file's rows: protocol, metaData, txns, adds, removes. Columns the
// file lacks (e.g. add.stats when stats were written as a struct) stay empty. DataLoss names
// `file_name` for a file that is not a readable Parquet checkpoint.
[[nodiscard]] absl::StatusOr<CommitActions> ParseCheckpoint(std::string_view bytes,
                                                            std::string_view file_name);

// `_last_checkpoint`: {"version":N,"size":rows,...}. nullopt when the text is not usable (it is
// only a hint).
struct LastCheckpoint {
  int64_t version = 0;
  std::optional<int64_t> size;
  std::optional<int64_t> size_in_bytes;
  std::optional<int64_t> num_of_add_files;
};
std::optional<LastCheckpoint> ParseLastCheckpoint(std::string_view json);

}  // namespace nobus::delta
