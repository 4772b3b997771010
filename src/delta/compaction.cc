#include "delta/compaction.h"

#include <algorithm>
#include <map>

#include "delta/config.h"
#include "parquet/read_rows.h"
#include "parquet/writer.h"

namespace nobus::delta {
namespace {

// The live files of each partition, smallest first (ties by path, so plans are deterministic).
std::map<PartitionValues, std::vector<const AddFile*>> ByPartition(
    const Snapshot& snapshot, int64_t below_bytes, const std::set<std::string>& skip) {
  std::map<PartitionValues, std::vector<const AddFile*>> out;
  for (const auto& [path, add] : snapshot.files())
    if (add.size_bytes < below_bytes && !skip.contains(path))
      out[add.partition_values].push_back(&add);
  for (auto& [values, files] : out) {
    std::sort(files.begin(), files.end(), [](const AddFile* a, const AddFile* b) {
      return a->size_bytes != b->size_bytes ? a->size_bytes < b->size_bytes : a->path < b->path;
    });
  }
  return out;
}

void Take(CompactionBin* bin, const AddFile& f) {
  bin->inputs.push_back(f);
  bin->input_bytes += f.size_bytes;
}

}  // namespace

int64_t CountSmallFiles(const Snapshot& snapshot) {
  const int64_t small = TargetFileSize(snapshot.metadata()) / 2;
  int64_t n = 0;
  for (const auto& [path, add] : snapshot.files()) n += add.size_bytes < small;
  return n;
}

std::vector<CompactionBin> PlanCompaction(const Snapshot& snapshot, CompactionMode mode,
                                          const std::set<std::string>& skip) {
  const int64_t target = TargetFileSize(snapshot.metadata());
  std::vector<CompactionBin> bins;
  if (mode == CompactionMode::kFull) {
    for (const auto& [values, files] : ByPartition(snapshot, target, skip)) {
      CompactionBin bin{values, {}, 0};
      for (const AddFile* f : files) {
        if (!bin.inputs.empty() && bin.input_bytes + f->size_bytes > target) {
          if (bin.inputs.size() > 1) bins.push_back(std::move(bin));
          bin = CompactionBin{values, {}, 0};
        }
        Take(&bin, *f);
      }
      if (bin.inputs.size() > 1) bins.push_back(std::move(bin));
    }
    return bins;
  }
  const size_t min_files = static_cast<size_t>(AutoCompactMinFiles(snapshot.metadata()));
  for (const auto& [values, files] : ByPartition(snapshot, target / 2, skip)) {
    if (files.size() < min_files) continue;
    CompactionBin bin{values, {}, 0};
    for (const AddFile* f : files) {
      bool forced = bin.inputs.size() < min_files;
      if (!forced && f->size_bytes > bin.input_bytes) break;
      if (!bin.inputs.empty() && bin.input_bytes + f->size_bytes > target) break;
      Take(&bin, *f);
    }
    if (bin.inputs.size() > 1) bins.push_back(std::move(bin));
  }
  return bins;
}

absl::StatusOr<AddFile> RewriteFiles(env::FileSystem* fs, env::Clock* clock,
                                     const std::string& table_root, const schema::Schema& schema,
                                     const Metadata& metadata, const CompactionBin& bin,
                                     const DataFileOptions& options,
                                     const std::function<bool()>& pause,
                                     std::string* bad_input) {
  NOBUS_ASSIGN_OR_RETURN(
      std::unique_ptr<PartitionedRows> layout,
      PartitionedRows::Create(schema, metadata.partition_columns));
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<parquet::RowBatch> batch,
                         parquet::RowBatch::Create(layout->data_schema()));
  int64_t expected_rows = 0;
  for (const AddFile& f : bin.inputs) {
    std::optional<int64_t> n = NumRecords(f.stats);
    if (!n) {
      if (bad_input != nullptr) *bad_input = f.path;
      return absl::FailedPreconditionError(Cat("data file ", f.path, " has no numRecords"));
    }
    expected_rows += *n;
  }
  const std::string dir = PartitionDir(metadata.partition_columns, bin.partition);
  NOBUS_RETURN_IF_ERROR(CreateDirDurably(fs, table_root, dir));
  const std::string rel = NewDataFilePath(dir, options.writer);
  const std::string full = env::JoinPath(table_root, rel);
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<env::File> file, fs->Open(full, env::OpenMode::kCreateNew));
  auto write = [&]() -> absl::StatusOr<parquet::FileResult> {
    NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<parquet::FileWriter> writer,
                           parquet::FileWriter::Open(file.get(), layout->data_schema(),
                                                     options.writer));
    for (const AddFile& f : bin.inputs) {
      if (pause && !pause()) return absl::CancelledError("compaction cancelled");
      NOBUS_ASSIGN_OR_RETURN(std::string bytes, env::ReadFile(fs, env::JoinPath(table_root, f.path)));
      absl::StatusOr<parquet::FileReader> reader = parquet::FileReader::Open(std::move(bytes));
      absl::Status st = reader.status();
      // One row group at a time, so memory holds one input file's bytes and about one row group
      // of decoded rows, whatever the input files' sizes.
      for (int rg = 0; st.ok() && rg < reader->num_row_groups(); ++rg) {
        st = parquet::AppendRowGroupRows(*reader, rg, batch.get());
        if (!st.ok()) break;
        if (batch->ByteSize() >= options.writer.row_group_size_bytes) {
          NOBUS_RETURN_IF_ERROR(writer->Add(*batch));
          batch->Clear();
        }
      }
      if (!st.ok()) {
        if (bad_input != nullptr) *bad_input = f.path;  // not readable as a file of this table
        return Annotate(st, Cat("reading data file ", f.path));
      }
    }
    if (batch->num_rows() > 0) NOBUS_RETURN_IF_ERROR(writer->Add(*batch));
    NOBUS_ASSIGN_OR_RETURN(parquet::FileResult result, writer->Finish());
    if (result.num_rows != expected_rows)
      return absl::DataLossError(Cat("compaction read ", result.num_rows,
                                     " rows from files whose statistics say ", expected_rows));
    NOBUS_RETURN_IF_ERROR(file->Sync());
    NOBUS_RETURN_IF_ERROR(file->Close());
    NOBUS_RETURN_IF_ERROR(fs->SyncDir(dir.empty() ? table_root : env::JoinPath(table_root, dir)));
    return result;
  };
  absl::StatusOr<parquet::FileResult> result = write();
  if (!result.ok()) {
    (void)file->Close();
    (void)fs->Delete(full);
    return result.status();
  }
  AddFile add;
  add.path = rel;
  add.partition_values = bin.partition;
  add.size_bytes = static_cast<int64_t>(result->size_bytes);
  add.modification_time_ms = clock->NowMillis();
  add.data_change = false;
  add.stats = parquet::DeltaStatsJson(*batch, *result, {.num_indexed_cols = options.num_indexed_cols});
  return add;
}

}  // namespace nobus::delta
