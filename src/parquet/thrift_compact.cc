#include "parquet/thrift_compact.h"

#include "common/coding.h"

namespace nobus::parquet {

void CompactWriter::BeginStruct() {
  last_ids_.push_back(last_id_);
  last_id_ = 0;
}

void CompactWriter::EndStruct() {
  out_->push_back('\0');
  if (!last_ids_.empty()) {
    last_id_ = last_ids_.back();
    last_ids_.pop_back();
  }
}

void CompactWriter::Varint(uint64_t v) {
  char buf[kMaxVarint64Bytes];
  char* end = EncodeVarint64(buf, v);
  out_->append(buf, end - buf);
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  int delta = id - last_id_;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZagEncode64(id));
  }
  last_id_ = id;
}

void CompactWriter::FieldI8(int16_t id, int8_t v) {
  FieldHeader(id, CType::kI8);
  out_->push_back(static_cast<char>(v));
}

void CompactWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, CType::kI16);
  Varint(ZigZagEncode64(v));
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, CType::kI32);
  Varint(ZigZagEncode64(v));
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, CType::kI64);
  Varint(ZigZagEncode64(v));
}

void CompactWriter::FieldBool(int16_t id, bool v) {
  FieldHeader(id, v ? CType::kBoolTrue : CType::kBoolFalse);
}

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, CType::kBinary);
  Binary(v);
}

void CompactWriter::FieldStruct(int16_t id) {
  FieldHeader(id, CType::kStruct);
  BeginStruct();
}

void CompactWriter::FieldList(int16_t id, CType element_type, uint32_t size) {
  FieldHeader(id, CType::kList);
  if (size <= 14) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<int>(element_type)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<int>(element_type)));
    Varint(size);
  }
}

void CompactWriter::I32(int32_t v) { Varint(ZigZagEncode64(v)); }

void CompactWriter::Binary(std::string_view v) {
  Varint(v.size());
  out_->append(v);
}

}  // namespace nobus::parquet
