// A small Thrift compact-protocol encoder, just enough for the Parquet footer (FileMetaData) and
// page headers. No generated code: the file and page writers call it field by field, in ascending
// field-id order, so a field that is not written is simply absent (no isset flags to forget).
// Sits at the very end of the write path: column_writer.cc (page headers) and file_writer.cc
// (footer). Not thread-safe; appends to a caller-owned std::string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parquet/thrift_types.h"

namespace nobus::parquet {

class CompactWriter {
 public:
  // Appends to `out`; the writer starts outside any struct (call BeginStruct for the top level).
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Opens a struct (top level or list element): field ids restart at 0.
  void BeginStruct();
  // Writes the stop byte and returns to the enclosing struct's field-id sequence.
  void EndStruct();

  void FieldI8(int16_t id, int8_t v);
  void FieldI16(int16_t id, int16_t v);
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);  // the value is the type nibble, no payload
  void FieldBinary(int16_t id, std::string_view v);
  // Field header of a nested struct, then BeginStruct; close it with EndStruct.
  void FieldStruct(int16_t id);
  // Field header plus list header; then write `size` bare elements (I32, Binary, BeginStruct...).
  void FieldList(int16_t id, CType element_type, uint32_t size);

  // Bare values (list elements).
  void I32(int32_t v);
  void Binary(std::string_view v);

 private:
  void FieldHeader(int16_t id, CType type);
  void Varint(uint64_t v);

  std::string* out_;
  std::vector<int16_t> last_ids_;
  int16_t last_id_ = 0;
};

}  // namespace nobus::parquet
