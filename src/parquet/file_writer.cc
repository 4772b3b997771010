// FileWriter (and WriteFile / WriteFileAt on top of it): cuts RowBatches into row groups, writes
// every column chunk through a ColumnWriter, then the footer. File layout: doc/parquet.md.
#include <algorithm>
#include <memory>

#include "common/coding.h"
#include "parquet/column_writer.h"
#include "parquet/footer.h"
#include "parquet/schema_mapping.h"
#include "parquet/stats.h"
#include "parquet/writer.h"

namespace nobus::parquet {
namespace {

constexpr char kMagic[] = "PAR1";

std::string DefaultCreatedBy() {
  return Cat("nobus version ", NOBUS_VERSION, " (build ", NOBUS_GIT_SHA, ")");
}

// The range covering `rows` rows from `cursor`, advancing the cursor past it.
ChunkRange NextRange(const LeafDescriptor& leaf, const LeafBuffer& buf, int64_t rows,
                     FileWriter::Cursor* cursor) {
  ChunkRange r;
  r.level_begin = cursor->level;
  r.value_begin = cursor->value;
  int64_t end = r.level_begin;
  if (leaf.max_rep == 0) {
    end = std::min(buf.num_levels, r.level_begin + rows);
  } else {
    const int16_t* rep = buf.rep_levels.data();
    int64_t starts = 0;
    while (end < buf.num_levels) {
      if (rep[end] == 0 && ++starts > rows) break;
      ++end;
    }
  }
  int64_t values = 0;
  const int16_t* def = buf.def_levels.data();
  for (int64_t i = r.level_begin; i < end; ++i) values += def[i] == leaf.max_def;
  r.level_end = end;
  r.value_end = r.value_begin + values;
  cursor->level = r.level_end;
  cursor->value = r.value_end;
  return r;
}

int64_t RowsPerGroup(const RowBatch& batch, const WriterOptions& options) {
  int64_t row_bytes =
      std::max<int64_t>(1, batch.ByteSize() / std::max<int64_t>(1, batch.num_rows()));
  return std::max<int64_t>(1, options.row_group_size_bytes / row_bytes);
}

// Null counts of array/map fields: rows whose first entry in the field's first leaf is below the
// field's "present" definition level (the field, or a struct above it, is null).
std::vector<FieldNullCount> RepeatedFieldNulls(const ColumnTree& tree, const RowBatch& batch) {
  std::vector<FieldNullCount> out;
  for (const RepeatedFieldRef& ref : tree.repeated_fields) {
    const ColumnNode& node = tree.nodes[ref.node];
    FieldNullCount f{ref.path, 0};
    if (node.leaf_begin < node.leaf_end) {
      const LeafBuffer& buf = batch.leaf(node.leaf_begin);
      for (int64_t i = 0; i < buf.num_levels; ++i) {
        f.null_count += buf.rep_levels[i] == 0 && buf.def_levels[i] < node.def;
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

FileWriter::FileWriter(env::File* file, const schema::Schema& schema, const WriterOptions& options)
    : file_(file), options_(options), tree_(std::make_unique<ColumnTree>(BuildColumnTree(schema))), schema_(schema) {
  if (options_.created_by.empty()) options_.created_by = DefaultCreatedBy();
  for (const LeafDescriptor& leaf : tree_->leaves) {
    writers_.push_back(std::make_unique<ColumnWriter>(leaf, options_));
  }
  result_.leaves.resize(tree_->leaves.size());
  for (const RepeatedFieldRef& ref : tree_->repeated_fields)
    result_.repeated_fields.push_back(FieldNullCount{ref.path, 0});
}

FileWriter::~FileWriter() = default;

absl::StatusOr<std::unique_ptr<FileWriter>> FileWriter::Open(env::File* file,
                                                             const schema::Schema& schema,
                                                             const WriterOptions& options) {
  if (options.codec != Codec::kUncompressed && options.codec != Codec::kSnappy &&
      options.codec != Codec::kZstd) {
    return absl::InvalidArgumentError(Cat("unsupported codec ", static_cast<int>(options.codec)));
  }
  NOBUS_ASSIGN_OR_RETURN(uint64_t size, file->Size());
  if (size != 0) return absl::FailedPreconditionError("Parquet output file is not empty");
  std::unique_ptr<FileWriter> w(new FileWriter(file, schema, options));
  NOBUS_RETURN_IF_ERROR(w->Append(std::string_view(kMagic, 4)));
  return w;
}

absl::Status FileWriter::Append(std::string_view data) {
  pending_.append(data);
  offset_ += static_cast<int64_t>(data.size());
  return pending_.size() >= kWriteChunkBytes ? WritePending() : absl::OkStatus();
}

absl::Status FileWriter::WritePending() {
  const uint64_t at = static_cast<uint64_t>(offset_) - pending_.size();
  NOBUS_RETURN_IF_ERROR(file_->WriteAt(at, pending_));
  pending_.clear();
  return absl::OkStatus();
}

absl::Status FileWriter::WriteRowGroup(const RowBatch& batch, int64_t rows,
                                       std::vector<Cursor>* cursors) {
  RowGroupResult rg;
  rg.num_rows = rows;
  rg.chunks.resize(tree_->leaves.size());
  for (size_t i = 0; i < tree_->leaves.size(); ++i) {
    ChunkRange range = NextRange(tree_->leaves[i], batch.leaf(i), rows, &(*cursors)[i]);
    NOBUS_RETURN_IF_ERROR(writers_[i]->WriteChunk(
        batch.leaf(i), range, offset_, [this](std::string_view b) { return Append(b); },
        &rg.chunks[i]));
    MergeStats(rg.chunks[i].stats, &result_.leaves[i]);
  }
  row_groups_.push_back(std::move(rg));
  return absl::OkStatus();
}

absl::Status FileWriter::Add(const RowBatch& batch) {
  if (finished_) return absl::FailedPreconditionError("Parquet file already finished");
  if (batch.schema() != schema_ || batch.leaves().size() != tree_->leaves.size()) {
    return absl::InvalidArgumentError("RowBatch schema differs from the file's schema");
  }
  std::vector<Cursor> cursors(tree_->leaves.size());
  const int64_t per_group = RowsPerGroup(batch, options_);
  for (int64_t row = 0; row < batch.num_rows(); row += per_group) {
    NOBUS_RETURN_IF_ERROR(WriteRowGroup(batch, std::min(per_group, batch.num_rows() - row), &cursors));
  }
  std::vector<FieldNullCount> nulls = RepeatedFieldNulls(*tree_, batch);
  for (size_t i = 0; i < nulls.size(); ++i) result_.repeated_fields[i].null_count += nulls[i].null_count;
  result_.num_rows += batch.num_rows();
  return absl::OkStatus();
}

absl::StatusOr<FileResult> FileWriter::Finish() {
  if (finished_) return absl::FailedPreconditionError("Parquet file already finished");
  finished_ = true;
  std::string footer;
  EncodeFileMetaData(*tree_, row_groups_, options_.codec, options_.created_by, &footer);
  PutFixed32(&footer, static_cast<uint32_t>(footer.size()));
  footer.append(kMagic, 4);
  NOBUS_RETURN_IF_ERROR(Append(footer));
  NOBUS_RETURN_IF_ERROR(WritePending());
  result_.size_bytes = static_cast<uint64_t>(offset_);
  result_.num_row_groups = static_cast<int>(row_groups_.size());
  return std::move(result_);
}

absl::StatusOr<FileResult> WriteFile(env::File* file, const RowBatch& batch,
                                     const WriterOptions& options) {
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<FileWriter> writer,
                         FileWriter::Open(file, batch.schema(), options));
  NOBUS_RETURN_IF_ERROR(writer->Add(batch));
  return writer->Finish();
}

absl::StatusOr<FileResult> WriteFileAt(env::FileSystem* fs, const std::string& path,
                                       const RowBatch& batch, const WriterOptions& options) {
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<env::File> file,
                         fs->Open(path, env::OpenMode::kCreateNew));
  absl::StatusOr<FileResult> result = WriteFile(file.get(), batch, options);
  absl::Status st = result.status();
  if (st.ok()) st = file->Sync();
  absl::Status close = file->Close();
  if (st.ok()) st = close;
  if (!st.ok()) {
    fs->Delete(path).IgnoreError();
    return st;
  }
  return result;
}

}  // namespace nobus::parquet
