// libFuzzer target for reading a data file back for compaction (untrusted bytes: any file in a
// table directory, written by any engine or damaged on disk). The input is opened as a Parquet
// file and its rows appended, row group by row group, to a batch of a fixed schema with every
// nesting kind (parquet::AppendRowGroupRows). Invariants: no crash or sanitizer report; a file
// that read back holds as many rows in the batch as its footer says, and the batch writes as a
// Parquet file that reads back with the same rows. Also compiled into
// delta_fuzz_regression_test (with NOBUS_FUZZ_REGRESSION) as a regression.
#include <cstdint>
#include <string>
#include <string_view>

#include "env/mem_env.h"
#include "fuzz_checks.h"
#include "parquet/read_rows.h"
#include "parquet/writer.h"
#include "schema/ddl.h"

using nobus::fuzz::Check;
using nobus::fuzz::OrDie;

// The schema the fuzz target reads files as (and the regression test writes good files with).
const nobus::schema::Schema& NobusDataFileFuzzSchema() {
  static const nobus::schema::Schema kSchema = OrDie(nobus::schema::ParseDdl(
      "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, s STRUCT<x: INT, y: DOUBLE>, "
      "m MAP<STRING, BIGINT>, d DECIMAL(30,2), flag BOOLEAN"));
  return kSchema;
}

int NobusDataFileFuzzOne(const uint8_t* bytes, size_t size) {
  using namespace nobus;
  auto file = parquet::FileReader::Open(std::string(reinterpret_cast<const char*>(bytes), size));
  if (!file.ok()) return 0;
  auto batch = OrDie(parquet::RowBatch::Create(NobusDataFileFuzzSchema()));
  if (!parquet::AppendFileRows(*file, batch.get()).ok()) return 0;
  Check(batch->num_rows() == file->num_rows());
  env::MemFileSystem fs;
  Check(parquet::WriteFileAt(&fs, "/again.parquet", *batch).ok());
  auto again = OrDie(parquet::FileReader::Open(OrDie(env::ReadFile(&fs, "/again.parquet"))));
  auto reread = OrDie(parquet::RowBatch::Create(NobusDataFileFuzzSchema()));
  Check(parquet::AppendFileRows(again, reread.get()).ok());
  Check(reread->num_rows() == batch->num_rows());
  for (size_t i = 0; i < batch->leaves().size(); ++i)
    Check(reread->leaf(i).values.view() == batch->leaf(i).values.view() &&
          reread->leaf(i).def_levels == batch->leaf(i).def_levels &&
          reread->leaf(i).rep_levels == batch->leaf(i).rep_levels);
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusDataFileFuzzOne(bytes, size);
}
#endif
