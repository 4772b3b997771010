// A writer process for the Delta concurrency and crash tests. Usage:
//   delta_append_child TABLE_ROOT APP_ID FIRST LAST
// Opens the table (created beforehand by the test) and appends batches txn{APP_ID, v} for v in
// [FIRST, LAST] with AppendOnce, so a re-run after a crash skips batches that already landed.
// Batch v of app a holds kRowsPerBatch rows: id = v * 1000 + i, name = a. Prints "committed v" or
// "skipped v" per batch. Exit 0 = every batch is in the table; 1 = an error (on stderr).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "delta/table.h"
#include "env/env.h"

namespace {

constexpr int kRowsPerBatch = 5;

absl::Status Run(const std::string& root, const std::string& app_id, int64_t first, int64_t last) {
  using nobus::delta::Committer;
  nobus::delta::CommitterOptions options;
  options.max_attempts = 1000;
  NOBUS_ASSIGN_OR_RETURN(auto committer, Committer::Open(nobus::env::PosixFileSystem(),
                                                         nobus::env::SystemClock(), root, options));
  for (int64_t v = first; v <= last; ++v) {
    NOBUS_ASSIGN_OR_RETURN(auto rows, committer->NewRows());
    NOBUS_ASSIGN_OR_RETURN(nobus::parquet::RowBuilder * b, rows->Builder({}));
    for (int i = 0; i < kRowsPerBatch; ++i) {
      b->BeginRow();
      b->Int64(v * 1000 + i);
      b->String(app_id);
      NOBUS_RETURN_IF_ERROR(b->EndRow());
    }
    NOBUS_ASSIGN_OR_RETURN(auto result, committer->AppendOnce(app_id, v, *rows));
    std::printf("%s %lld\n", result.already_committed ? "skipped" : "committed",
                static_cast<long long>(v));
    std::fflush(stdout);
  }
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s TABLE_ROOT APP_ID FIRST LAST\n", argv[0]);
    return 2;
  }
  absl::Status s = Run(argv[1], argv[2], std::atoll(argv[3]), std::atoll(argv[4]));
  if (!s.ok()) {
    std::fprintf(stderr, "delta_append_child: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  return 0;
}
