// Thrift compact-protocol decoding of the Parquet footer (FileMetaData) and page headers, for the
// Parquet reader (reader.h). Input is untrusted bytes: every length is checked against the buffer,
// unknown fields are skipped by type, nesting is bounded, and errors are DataLoss, never a crash.
// The structs below keep only the fields the reader uses. Stateless apart from the cursor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "parquet/thrift_types.h"

namespace nobus::parquet {

// A cursor over compact-protocol bytes. Not thread-safe; borrows the bytes.
class ThriftDecoder {
 public:
  static constexpr int kMaxDepth = 32;

  explicit ThriftDecoder(std::string_view data) : data_(data) {}

  [[nodiscard]] absl::Status BeginStruct();
  [[nodiscard]] absl::Status EndStruct();
  // Reads the next field header of the current struct; false at the stop byte.
  [[nodiscard]] absl::StatusOr<bool> NextField(int16_t* id, CType* type);
  // An integer of type i8/i16/i32/i64 (zigzag varint, or one raw byte for i8).
  [[nodiscard]] absl::StatusOr<int64_t> ReadInt(CType type);
  // A bool field (value in the type nibble) or a bool list element (one byte).
  [[nodiscard]] absl::StatusOr<bool> ReadBool(CType type);
  [[nodiscard]] absl::StatusOr<std::string_view> ReadBinary();
  // List or set header: element type and count (count bounded by the remaining bytes).
  [[nodiscard]] absl::StatusOr<std::pair<CType, uint32_t>> ReadListHeader();
  // Skips one value of `type`, recursing into containers up to kMaxDepth.
  [[nodiscard]] absl::Status Skip(CType type);

  size_t position() const { return pos_; }

 private:
  [[nodiscard]] absl::StatusOr<uint64_t> ReadVarint();
  [[nodiscard]] absl::Status SkipDepth(CType type, int depth);

  std::string_view data_;
  size_t pos_ = 0;
  std::vector<int16_t> last_field_ids_;
};

struct SchemaElement {
  std::optional<int> type;  // physical Type enum; absent for groups
  int type_length = 0;
  std::optional<int> repetition;  // FieldRepetitionType; absent for the root
  std::string name;
  int num_children = 0;
  std::optional<int> converted_type;
  int scale = 0;
  int precision = 0;
};

struct ColumnMetaData {
  int type = 0;
  std::vector<std::string> path_in_schema;
  int codec = 0;
  int64_t num_values = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
};

struct RowGroup {
  std::vector<ColumnMetaData> columns;
  int64_t num_rows = 0;
};

struct FileMetaData {
  int version = 0;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  std::string created_by;
};

enum class PageType { kDataPage = 0, kIndexPage = 1, kDictionaryPage = 2, kDataPageV2 = 3 };

struct PageHeader {
  int type = 0;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  int32_t num_values = 0;  // data (v1, v2) and dictionary pages
  int encoding = 0;
  int32_t num_nulls = 0;                      // v2
  int32_t definition_levels_byte_length = 0;  // v2
  int32_t repetition_levels_byte_length = 0;  // v2
  bool is_compressed = true;                  // v2
};

[[nodiscard]] absl::StatusOr<FileMetaData> DecodeFileMetaData(std::string_view bytes);
// Decodes the header at the start of `bytes`; `*header_size` = its encoded length.
[[nodiscard]] absl::StatusOr<PageHeader> DecodePageHeader(std::string_view bytes,
                                                          size_t* header_size);

}  // namespace nobus::parquet
