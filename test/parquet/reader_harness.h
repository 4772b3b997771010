// Independent-reader harness for the Parquet writer: writes rows through the public API
// (RowBuilder + WriteFileAt) into a per-test temporary directory, reads the files back with
// test/readers/read_parquet.mjs (DuckDB, parquet-wasm, hyparquet; one node process for many
// files), and checks with gtest expectations that every reader returns exactly the rows written
// and that the footer statistics (and the writer's FileResult) match statistics recomputed from
// the values. See test/README.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "parquet/writer.h"
#include "values.h"

namespace nobus::parquet::testing {

struct WrittenFile {
  std::string path;
  FileResult result;
};

// Owns a mkdtemp directory (removed with everything in it on destruction). Not thread-safe.
class ReaderHarness {
 public:
  ReaderHarness();
  ~ReaderHarness();
  ReaderHarness(const ReaderHarness&) = delete;
  ReaderHarness& operator=(const ReaderHarness&) = delete;

  const std::string& dir() const { return dir_; }
  // A fresh file name inside dir().
  std::string NewPath();
  // Appends every row (each must be accepted) and writes the batch to a new file.
  absl::StatusOr<WrittenFile> Write(const schema::Schema& schema, const std::vector<Row>& rows,
                                    const WriterOptions& options = {});
  absl::StatusOr<WrittenFile> WriteBatch(const RowBatch& batch, const WriterOptions& options = {});
  // Runs the three readers over `paths`; one document per path, in order. A reader error
  // becomes an error status carrying the reader's name and message.
  absl::StatusOr<std::vector<nlohmann::json>> Read(const std::vector<std::string>& paths);

 private:
  std::string dir_;
  int next_file_ = 0;
};

// Every reader returned exactly `rows` (canonical form, order preserved).
void ExpectRows(const nlohmann::json& doc, const schema::Schema& schema,
                const std::vector<Row>& rows);
// Footer statistics seen by DuckDB and hyparquet equal, per row group and leaf, the statistics
// recomputed from `rows`: null_count exactly, min/max exactly (strings and binary may be
// truncated, but then must still bound the values).
void ExpectFooterStats(const nlohmann::json& doc, const schema::Schema& schema,
                       const std::vector<Row>& rows);
// The writer's own FileResult (row count, per-leaf null counts and bounds) matches the values.
void ExpectFileResult(const FileResult& result, const schema::Schema& schema,
                      const std::vector<Row>& rows);
// All three checks.
void ExpectFileMatches(const nlohmann::json& doc, const WrittenFile& file,
                       const schema::Schema& schema, const std::vector<Row>& rows);

// "Uncompressed", "Snappy" or "Zstd": names for codec-parameterized tests.
std::string CodecName(Codec codec);

// Writes `rows` with `options`, reads the file with every reader and checks everything; returns
// the reader document for further checks (null on failure, which is already reported).
nlohmann::json RoundTrip(ReaderHarness* harness, const schema::Schema& schema,
                         const std::vector<Row>& rows, const WriterOptions& options = {});

}  // namespace nobus::parquet::testing
