// Compaction (OPTIMIZE): merging a table's small data files into files near delta.targetFileSize
// so readers open a handful of files instead of one per commit. In the data path: maintenance
// (table/maintenance.h) or `nobus table optimize` -> [PlanCompaction -> RewriteFiles] ->
// Committer::Compact (remove + add, dataChange=false). Stateless functions; the rewrite reads
// and writes files but never touches the log.
//
// Planning, per partition (files of different partitions never merge):
//  - kFull (on demand): every file smaller than the target is a candidate; candidates are packed,
//    smallest first, into bins of at most the target size; bins of one file are dropped.
//  - kAuto (background): only files below half the target count as small, and nothing happens
//    until a partition has nobus.autoCompact.minNumFiles of them. Then one bin: the smallest
//    minNumFiles files, plus each next file no larger than everything taken so far, up to the
//    target. So a file is rewritten only when the merge at least doubles it: every byte is
//    rewritten O(log(target / commit size)) times, and the table holds a few files per size
//    class instead of one per commit.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "delta/actions.h"
#include "delta/data_files.h"
#include "delta/snapshot.h"
#include "env/env.h"

namespace nobus::delta {

enum class CompactionMode { kAuto, kFull };

// Files to merge into one: all live in one partition.
struct CompactionBin {
  PartitionValues partition;
  std::vector<AddFile> inputs;
  int64_t input_bytes = 0;
};

// Files in `skip` (paths) are left out: e.g. files an earlier rewrite could not read.
std::vector<CompactionBin> PlanCompaction(const Snapshot& snapshot, CompactionMode mode,
                                          const std::set<std::string>& skip = {});

// Live files below half the target size (what auto-compaction waits to merge), for metrics.
int64_t CountSmallFiles(const Snapshot& snapshot);

// Rewrites the bin's files as one new data file in their partition directory: each input read
// back (parquet/read_rows.h) and streamed into the output, which is cut into row groups of
// options.writer.row_group_size_bytes, so memory stays near one row group plus one input file.
// The output is fsynced with its directory and returned as an add (dataChange false, full
// statistics) that is not yet committed. `schema` and `metadata` are the table's (as in the
// snapshot the bin was planned from). The rows written must equal the inputs' numRecords
// (DataLoss otherwise); a file written under another schema is FailedPrecondition. `pause` is
// called before each input file: the caller may sleep there to yield to ingest, and returns
// false to give up (Cancelled). On error nothing is left behind; when an input file is the
// reason (not readable as a file of this table, or without numRecords), its path is stored in
// `*bad_input` so the caller can plan without it.
[[nodiscard]] absl::StatusOr<AddFile> RewriteFiles(env::FileSystem* fs, env::Clock* clock,
                                                   const std::string& table_root,
                                                   const schema::Schema& schema,
                                                   const Metadata& metadata,
                                                   const CompactionBin& bin,
                                                   const DataFileOptions& options,
                                                   const std::function<bool()>& pause = {},
                                                   std::string* bad_input = nullptr);

}  // namespace nobus::delta
