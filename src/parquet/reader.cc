#include "parquet/reader.h"

#include <cstring>

#include "parquet/reader_pages.h"

namespace nobus::parquet {
namespace {

constexpr size_t kMagicSize = 4;
constexpr int kMaxSchemaDepth = 64;

struct SchemaWalk {
  const std::vector<SchemaElement>& elements;
  std::vector<ColumnDescriptor>* columns;
  size_t next = 1;  // element 0 is the root
};

absl::Status WalkChildren(SchemaWalk& w, int num_children, std::vector<std::string>& path,
                          int16_t def, int16_t rep, int depth) {
  if (depth > kMaxSchemaDepth) return absl::DataLossError("Parquet schema nested too deeply");
  for (int i = 0; i < num_children; ++i) {
    if (w.next >= w.elements.size())
      return absl::DataLossError("Parquet schema has fewer elements than num_children promises");
    const SchemaElement& e = w.elements[w.next++];
    int repetition = e.repetition.value_or(0);
    int16_t d = static_cast<int16_t>(def + (repetition != 0 ? 1 : 0));
    int16_t r = static_cast<int16_t>(rep + (repetition == 2 ? 1 : 0));
    path.push_back(e.name);
    if (e.num_children > 0) {
      NOBUS_RETURN_IF_ERROR(WalkChildren(w, e.num_children, path, d, r, depth + 1));
    } else {
      if (!e.type || *e.type < 0 || *e.type > 7)
        return absl::DataLossError(Cat("Parquet leaf '", e.name, "' has no valid physical type"));
      ColumnDescriptor c{
          path, static_cast<PhysicalType>(*e.type), e.type_length, d, r, e.converted_type};
      if (c.type == PhysicalType::kFixedLenByteArray && c.type_length <= 0)
        return absl::DataLossError(Cat("Parquet leaf '", e.name, "' has no type_length"));
      w.columns->push_back(std::move(c));
    }
    path.pop_back();
  }
  return absl::OkStatus();
}

void AppendValues(ColumnValues* dst, ColumnValues&& src) {
  dst->num_entries += src.num_entries;
  dst->def_levels.insert(dst->def_levels.end(), src.def_levels.begin(), src.def_levels.end());
  dst->rep_levels.insert(dst->rep_levels.end(), src.rep_levels.begin(), src.rep_levels.end());
  dst->ints.insert(dst->ints.end(), src.ints.begin(), src.ints.end());
  dst->doubles.insert(dst->doubles.end(), src.doubles.begin(), src.doubles.end());
  for (std::string& s : src.bytes) dst->bytes.push_back(std::move(s));
}

}  // namespace

absl::StatusOr<FileReader> FileReader::Open(std::string bytes) {
  if (bytes.size() < 2 * kMagicSize + 4 || std::memcmp(bytes.data(), "PAR1", kMagicSize) != 0 ||
      std::memcmp(bytes.data() + bytes.size() - kMagicSize, "PAR1", kMagicSize) != 0)
    return absl::DataLossError("not a Parquet file (missing PAR1 magic)");
  const auto* len_bytes = reinterpret_cast<const uint8_t*>(bytes.data() + bytes.size() - 8);
  uint32_t footer_len = len_bytes[0] | (len_bytes[1] << 8) | (len_bytes[2] << 16) |
                        (static_cast<uint32_t>(len_bytes[3]) << 24);
  if (footer_len > bytes.size() - 2 * kMagicSize - 4)
    return absl::DataLossError("Parquet footer length exceeds the file");
  std::string_view footer(bytes.data() + bytes.size() - 8 - footer_len, footer_len);
  FileReader reader;
  auto md = DecodeFileMetaData(footer);
  if (!md.ok()) return Annotate(md.status(), "Parquet footer");
  reader.metadata_ = std::move(*md);
  reader.bytes_ = std::move(bytes);
  NOBUS_RETURN_IF_ERROR(reader.BuildColumns());
  return reader;
}

absl::Status FileReader::BuildColumns() {
  const auto& elements = metadata_.schema;
  if (elements.empty()) return absl::DataLossError("Parquet footer has no schema");
  SchemaWalk walk{elements, &columns_};
  std::vector<std::string> path;
  NOBUS_RETURN_IF_ERROR(WalkChildren(walk, elements[0].num_children, path, 0, 0, 0));
  if (walk.next != elements.size())
    return absl::DataLossError("Parquet schema has elements outside the root's tree");
  for (const RowGroup& rg : metadata_.row_groups) {
    if (rg.columns.size() != columns_.size())
      return absl::DataLossError(Cat("Parquet row group has ", rg.columns.size(),
                                     " column chunks for ", columns_.size(), " leaf columns"));
  }
  return absl::OkStatus();
}

std::optional<int> FileReader::FindColumn(const std::vector<std::string>& path) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].path == path) return static_cast<int>(i);
  return std::nullopt;
}

absl::StatusOr<ColumnValues> FileReader::ReadColumnChunk(int row_group, int column) const {
  if (row_group < 0 || row_group >= num_row_groups() || column < 0 ||
      column >= static_cast<int>(columns_.size()))
    return absl::InvalidArgumentError(Cat("no column chunk (", row_group, ", ", column, ")"));
  return internal::DecodeColumnChunk(bytes_, metadata_.row_groups[row_group].columns[column],
                                     columns_[column]);
}

absl::StatusOr<ColumnValues> FileReader::ReadColumn(int column) const {
  ColumnValues all;
  for (int rg = 0; rg < num_row_groups(); ++rg) {
    NOBUS_ASSIGN_OR_RETURN(ColumnValues part, ReadColumnChunk(rg, column));
    AppendValues(&all, std::move(part));
  }
  return all;
}

}  // namespace nobus::parquet
