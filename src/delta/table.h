// Front door of src/delta for writers: everything needed to create a Delta table, append batches
// exactly once, compact and checkpoint. Readers need only snapshot.h.
//
//   auto committer = Committer::Create(fs, clock, root, {.schema = s, .partition_columns =
//   {"day"}}); auto rows = (*committer)->NewRows(); parquet::RowBuilder* b =
//   *(*rows)->Builder({{"day", "2025-01-01"}}); b->BeginRow(); b->Int64(1); (void)b->EndRow(); auto
//   result = (*committer)->AppendOnce("wal-7f3a", /*txn_version=*/lsn, **rows);
//
// See committer.h for the commit protocol and durability, data_files.h for file layout,
// checkpoint_writer.h for checkpoints and log cleanup, config.h for table properties.
#pragma once

#include "delta/checkpoint_writer.h"
#include "delta/committer.h"
#include "delta/config.h"
#include "delta/data_files.h"
#include "delta/snapshot.h"
