#include "parquet/read_rows.h"

#include <cstring>
#include <vector>

namespace nobus::parquet {
namespace {

absl::Status CheckLayout(const ColumnDescriptor& c, const LeafDescriptor& leaf) {
  if (c.path != leaf.path) {
    std::string got, want;
    for (const std::string& p : c.path) got += (got.empty() ? "" : ".") + p;
    for (const std::string& p : leaf.path) want += (want.empty() ? "" : ".") + p;
    return absl::FailedPreconditionError(
        Cat("file column '", got, "' is not the table's column '", want, "'"));
  }
  if (c.type != leaf.physical || (c.type == PhysicalType::kFixedLenByteArray &&
                                  c.type_length != leaf.type_length))
    return absl::FailedPreconditionError(
        Cat("file column '", leaf.display_path, "' has another physical type"));
  if (c.max_def_level != leaf.max_def || c.max_rep_level != leaf.max_rep)
    return absl::FailedPreconditionError(
        Cat("file column '", leaf.display_path, "' has other definition/repetition levels"));
  return absl::OkStatus();
}

// Rows in a decoded column: entries starting a new row (repetition level 0).
int64_t RowsOf(const ColumnValues& v, const LeafDescriptor& leaf) {
  if (leaf.max_rep == 0) return static_cast<int64_t>(v.num_entries);
  int64_t rows = 0;
  for (int16_t r : v.rep_levels) rows += r == 0;
  return rows;
}

size_t ValueCount(const ColumnValues& v, PhysicalType type) {
  switch (type) {
    case PhysicalType::kFloat:
    case PhysicalType::kDouble:
      return v.doubles.size();
    case PhysicalType::kByteArray:
    case PhysicalType::kFixedLenByteArray:
    case PhysicalType::kInt96:
      return v.bytes.size();
    default:
      return v.ints.size();
  }
}

template <typename T>
void PutFixed(ByteBuffer* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

void AppendValues(const ColumnValues& v, const LeafDescriptor& leaf, LeafBuffer* out) {
  out->def_levels.insert(out->def_levels.end(), v.def_levels.begin(), v.def_levels.end());
  out->rep_levels.insert(out->rep_levels.end(), v.rep_levels.begin(), v.rep_levels.end());
  out->num_levels += static_cast<int64_t>(v.num_entries);
  out->num_values += static_cast<int64_t>(ValueCount(v, leaf.physical));
  switch (leaf.physical) {
    case PhysicalType::kBoolean:
      for (int64_t x : v.ints) out->values.push_back(static_cast<char>(x != 0));
      break;
    case PhysicalType::kInt32:
      for (int64_t x : v.ints) PutFixed(&out->values, static_cast<int32_t>(x));
      break;
    case PhysicalType::kInt64:
      for (int64_t x : v.ints) PutFixed(&out->values, x);
      break;
    case PhysicalType::kFloat:
      for (double x : v.doubles) PutFixed(&out->values, static_cast<float>(x));
      break;
    case PhysicalType::kDouble:
      for (double x : v.doubles) PutFixed(&out->values, x);
      break;
    case PhysicalType::kFixedLenByteArray:
    case PhysicalType::kInt96:
      for (const std::string& b : v.bytes) out->values.append(b.data(), b.size());
      break;
    case PhysicalType::kByteArray:
      for (const std::string& b : v.bytes) {
        out->values.append(b.data(), b.size());
        out->offsets.push_back(static_cast<uint32_t>(out->values.size()));
      }
      break;
  }
}

}  // namespace

absl::Status AppendRowGroupRows(const FileReader& file, int row_group, RowBatch* batch) {
  const std::vector<LeafDescriptor>& leaves = batch->leaves();
  if (file.columns().size() != leaves.size())
    return absl::FailedPreconditionError(Cat("file has ", file.columns().size(),
                                             " leaf columns, the table ", leaves.size()));
  if (row_group < 0 || row_group >= file.num_row_groups())
    return absl::InvalidArgumentError(Cat("no row group ", row_group));
  const int64_t group_rows = file.metadata().row_groups[row_group].num_rows;
  std::vector<ColumnValues> columns;
  columns.reserve(leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    NOBUS_RETURN_IF_ERROR(CheckLayout(file.columns()[i], leaves[i]));
    NOBUS_ASSIGN_OR_RETURN(ColumnValues v, file.ReadColumnChunk(row_group, static_cast<int>(i)));
    const int64_t rows = RowsOf(v, leaves[i]);
    if (rows != group_rows)
      return absl::DataLossError(Cat("column '", leaves[i].display_path, "' holds ", rows,
                                     " rows in row group ", row_group, ", the footer says ",
                                     group_rows));
    size_t present = 0;
    if (leaves[i].max_def == 0) {
      present = v.num_entries;
    } else {
      for (int16_t d : v.def_levels) present += d == leaves[i].max_def;
    }
    if (present != ValueCount(v, leaves[i].physical))
      return absl::DataLossError(
          Cat("column '", leaves[i].display_path, "' has levels and values that disagree"));
    columns.push_back(std::move(v));
  }
  // The byte-array offsets are 32-bit: refuse growing a leaf past 4 GiB.
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].physical != PhysicalType::kByteArray) continue;
    uint64_t total = batch->leaf(i).values.size();
    for (const std::string& b : columns[i].bytes) total += b.size();
    if (total > UINT32_MAX)
      return absl::ResourceExhaustedError(
          Cat("column '", leaves[i].display_path, "' would exceed 4 GiB in one batch"));
  }
  for (size_t i = 0; i < leaves.size(); ++i)
    AppendValues(columns[i], leaves[i], &batch->mutable_leaf(i));
  batch->num_rows_ += group_rows;
  return absl::OkStatus();
}

absl::Status AppendFileRows(const FileReader& file, RowBatch* batch) {
  for (int rg = 0; rg < file.num_row_groups(); ++rg)
    NOBUS_RETURN_IF_ERROR(AppendRowGroupRows(file, rg, batch));
  return absl::OkStatus();
}

}  // namespace nobus::parquet
