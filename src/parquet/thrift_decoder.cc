#include "parquet/thrift_decoder.h"

namespace nobus::parquet {
namespace {

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(Cat("corrupt Thrift data: ", what));
}

bool IsInt(CType t) {
  return t == CType::kI8 || t == CType::kI16 || t == CType::kI32 || t == CType::kI64;
}

// Calls on_field(id, type) for each field of a struct; on_field returns false to skip the field.
template <typename F>
absl::Status ReadStruct(ThriftDecoder& d, F&& on_field) {
  NOBUS_RETURN_IF_ERROR(d.BeginStruct());
  while (true) {
    int16_t id = 0;
    CType type = CType::kStop;
    NOBUS_ASSIGN_OR_RETURN(bool more, d.NextField(&id, &type));
    if (!more) break;
    NOBUS_ASSIGN_OR_RETURN(bool handled, on_field(id, type));
    if (!handled) NOBUS_RETURN_IF_ERROR(d.Skip(type));
  }
  return d.EndStruct();
}

template <typename T>
absl::StatusOr<bool> ReadIntInto(ThriftDecoder& d, CType type, T* out) {
  if (!IsInt(type)) return Corrupt("integer field of another type");
  NOBUS_ASSIGN_OR_RETURN(int64_t v, d.ReadInt(type));
  *out = static_cast<T>(v);
  return true;
}

template <typename T>
absl::StatusOr<bool> ReadOptIntInto(ThriftDecoder& d, CType type, std::optional<T>* out) {
  T v{};
  NOBUS_ASSIGN_OR_RETURN(bool ok, ReadIntInto(d, type, &v));
  *out = v;
  return ok;
}

absl::StatusOr<bool> ReadStringInto(ThriftDecoder& d, CType type, std::string* out) {
  if (type != CType::kBinary) return Corrupt("string field of another type");
  NOBUS_ASSIGN_OR_RETURN(std::string_view v, d.ReadBinary());
  *out = std::string(v);
  return true;
}

// Reads a list field, calling read_element(decoder, element_type) per element.
template <typename F>
absl::StatusOr<bool> ReadList(ThriftDecoder& d, CType type, F&& read_element) {
  if (type != CType::kList && type != CType::kSet) return Corrupt("list field of another type");
  NOBUS_ASSIGN_OR_RETURN(auto header, d.ReadListHeader());
  for (uint32_t i = 0; i < header.second; ++i) NOBUS_RETURN_IF_ERROR(read_element(d, header.first));
  return true;
}

absl::Status ReadSchemaElement(ThriftDecoder& d, SchemaElement* e) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    switch (id) {
      case 1:
        return ReadOptIntInto(d, t, &e->type);
      case 2:
        return ReadIntInto(d, t, &e->type_length);
      case 3:
        return ReadOptIntInto(d, t, &e->repetition);
      case 4:
        return ReadStringInto(d, t, &e->name);
      case 5:
        return ReadIntInto(d, t, &e->num_children);
      case 6:
        return ReadOptIntInto(d, t, &e->converted_type);
      case 7:
        return ReadIntInto(d, t, &e->scale);
      case 8:
        return ReadIntInto(d, t, &e->precision);
      default:
        return false;
    }
  });
}

absl::Status ReadColumnMetaData(ThriftDecoder& d, ColumnMetaData* m) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    switch (id) {
      case 1:
        return ReadIntInto(d, t, &m->type);
      case 3:
        return ReadList(d, t, [&](ThriftDecoder& d2, CType et) -> absl::Status {
          if (et != CType::kBinary) return Corrupt("path_in_schema element is not a string");
          NOBUS_ASSIGN_OR_RETURN(std::string_view s, d2.ReadBinary());
          m->path_in_schema.emplace_back(s);
          return absl::OkStatus();
        });
      case 4:
        return ReadIntInto(d, t, &m->codec);
      case 5:
        return ReadIntInto(d, t, &m->num_values);
      case 7:
        return ReadIntInto(d, t, &m->total_compressed_size);
      case 9:
        return ReadIntInto(d, t, &m->data_page_offset);
      case 11:
        return ReadOptIntInto(d, t, &m->dictionary_page_offset);
      default:
        return false;
    }
  });
}

absl::Status ReadColumnChunk(ThriftDecoder& d, ColumnMetaData* m, bool* has_meta) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    if (id != 3) return false;
    if (t != CType::kStruct) return Corrupt("ColumnChunk.meta_data is not a struct");
    *has_meta = true;
    NOBUS_RETURN_IF_ERROR(ReadColumnMetaData(d, m));
    return true;
  });
}

absl::Status ReadRowGroup(ThriftDecoder& d, RowGroup* rg) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    if (id == 3) return ReadIntInto(d, t, &rg->num_rows);
    if (id != 1) return false;
    return ReadList(d, t, [&](ThriftDecoder& d2, CType et) -> absl::Status {
      if (et != CType::kStruct) return Corrupt("RowGroup.columns element is not a struct");
      bool has_meta = false;
      NOBUS_RETURN_IF_ERROR(ReadColumnChunk(d2, &rg->columns.emplace_back(), &has_meta));
      return has_meta ? absl::OkStatus() : Corrupt("ColumnChunk without meta_data");
    });
  });
}

absl::Status ReadKeyValue(ThriftDecoder& d, std::pair<std::string, std::string>* kv) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    if (id == 1) return ReadStringInto(d, t, &kv->first);
    if (id == 2) return ReadStringInto(d, t, &kv->second);
    return false;
  });
}

template <typename T, typename F>
auto StructElements(std::vector<T>* out, F read) {
  return [out, read](ThriftDecoder& d, CType et) -> absl::Status {
    if (et != CType::kStruct) return Corrupt("list element is not a struct");
    return read(d, &out->emplace_back());
  };
}

absl::Status ReadDataPageHeader(ThriftDecoder& d, PageHeader* h) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    if (id == 1) return ReadIntInto(d, t, &h->num_values);
    if (id == 2) return ReadIntInto(d, t, &h->encoding);
    return false;
  });
}

absl::Status ReadDataPageHeaderV2(ThriftDecoder& d, PageHeader* h) {
  return ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    switch (id) {
      case 1:
        return ReadIntInto(d, t, &h->num_values);
      case 2:
        return ReadIntInto(d, t, &h->num_nulls);
      case 4:
        return ReadIntInto(d, t, &h->encoding);
      case 5:
        return ReadIntInto(d, t, &h->definition_levels_byte_length);
      case 6:
        return ReadIntInto(d, t, &h->repetition_levels_byte_length);
      case 7: {
        NOBUS_ASSIGN_OR_RETURN(h->is_compressed, d.ReadBool(t));
        return true;
      }
      default:
        return false;
    }
  });
}

}  // namespace

absl::Status ThriftDecoder::BeginStruct() {
  if (last_field_ids_.size() >= kMaxDepth) return Corrupt("structs nested too deeply");
  last_field_ids_.push_back(0);
  return absl::OkStatus();
}

absl::Status ThriftDecoder::EndStruct() {
  if (last_field_ids_.empty()) return absl::InternalError("EndStruct without BeginStruct");
  last_field_ids_.pop_back();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ThriftDecoder::ReadVarint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return Corrupt("truncated varint");
    auto b = static_cast<uint8_t>(data_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Corrupt("varint longer than 10 bytes");
}

absl::StatusOr<bool> ThriftDecoder::NextField(int16_t* id, CType* type) {
  if (last_field_ids_.empty()) return absl::InternalError("NextField outside a struct");
  if (pos_ >= data_.size()) return Corrupt("truncated struct");
  auto b = static_cast<uint8_t>(data_[pos_++]);
  if (b == 0) return false;
  *type = static_cast<CType>(b & 0x0F);
  if (*type > CType::kStruct)
    return Corrupt(Cat("unknown field type ", static_cast<int>(b & 0x0F)));
  int delta = b >> 4;
  if (delta != 0) {
    *id = static_cast<int16_t>(last_field_ids_.back() + delta);
  } else {
    NOBUS_ASSIGN_OR_RETURN(int64_t v, ReadInt(CType::kI16));
    *id = static_cast<int16_t>(v);
  }
  last_field_ids_.back() = *id;
  return true;
}

absl::StatusOr<int64_t> ThriftDecoder::ReadInt(CType type) {
  if (type == CType::kI8) {
    if (pos_ >= data_.size()) return Corrupt("truncated i8");
    return static_cast<int8_t>(data_[pos_++]);
  }
  NOBUS_ASSIGN_OR_RETURN(uint64_t u, ReadVarint());
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

absl::StatusOr<bool> ThriftDecoder::ReadBool(CType type) {
  if (type == CType::kBoolTrue) return true;
  if (type == CType::kBoolFalse) return false;
  return Corrupt("bool field of another type");
}

absl::StatusOr<std::string_view> ThriftDecoder::ReadBinary() {
  NOBUS_ASSIGN_OR_RETURN(uint64_t len, ReadVarint());
  if (len > data_.size() - pos_) return Corrupt("binary length past the end of the data");
  std::string_view out = data_.substr(pos_, len);
  pos_ += len;
  return out;
}

absl::StatusOr<std::pair<CType, uint32_t>> ThriftDecoder::ReadListHeader() {
  if (pos_ >= data_.size()) return Corrupt("truncated list header");
  auto b = static_cast<uint8_t>(data_[pos_++]);
  auto elem = static_cast<CType>(b & 0x0F);
  uint64_t size = b >> 4;
  if (size == 15) {
    NOBUS_ASSIGN_OR_RETURN(size, ReadVarint());
  }
  // Every element takes at least one byte (bools, empty structs), so the count is bounded.
  if (size > data_.size() - pos_) return Corrupt("list size past the end of the data");
  if (elem > CType::kStruct) return Corrupt("unknown list element type");
  return std::make_pair(elem, static_cast<uint32_t>(size));
}

absl::Status ThriftDecoder::Skip(CType type) { return SkipDepth(type, 0); }

absl::Status ThriftDecoder::SkipDepth(CType type, int depth) {
  if (depth > kMaxDepth) return Corrupt("values nested too deeply");
  switch (type) {
    case CType::kBoolTrue:
    case CType::kBoolFalse:
      return absl::OkStatus();
    case CType::kI8:
    case CType::kI16:
    case CType::kI32:
    case CType::kI64:
      return ReadInt(type).status();
    case CType::kDouble:
      if (data_.size() - pos_ < 8) return Corrupt("truncated double");
      pos_ += 8;
      return absl::OkStatus();
    case CType::kBinary:
      return ReadBinary().status();
    case CType::kList:
    case CType::kSet: {
      NOBUS_ASSIGN_OR_RETURN(auto header, ReadListHeader());
      for (uint32_t i = 0; i < header.second; ++i) {
        if (header.first == CType::kBoolTrue || header.first == CType::kBoolFalse) {
          NOBUS_RETURN_IF_ERROR(SkipDepth(CType::kI8, depth + 1));
        } else {
          NOBUS_RETURN_IF_ERROR(SkipDepth(header.first, depth + 1));
        }
      }
      return absl::OkStatus();
    }
    case CType::kMap: {
      NOBUS_ASSIGN_OR_RETURN(uint64_t size, ReadVarint());
      if (size == 0) return absl::OkStatus();
      if (pos_ >= data_.size() || size > data_.size() - pos_)
        return Corrupt("map size past the end");
      auto kv = static_cast<uint8_t>(data_[pos_++]);
      auto key = static_cast<CType>(kv >> 4), value = static_cast<CType>(kv & 0x0F);
      for (uint64_t i = 0; i < size; ++i) {
        NOBUS_RETURN_IF_ERROR(
            SkipDepth(key == CType::kBoolTrue || key == CType::kBoolFalse ? CType::kI8 : key, depth + 1));
        NOBUS_RETURN_IF_ERROR(SkipDepth(
            value == CType::kBoolTrue || value == CType::kBoolFalse ? CType::kI8 : value, depth + 1));
      }
      return absl::OkStatus();
    }
    case CType::kStruct: {
      if (last_field_ids_.size() >= kMaxDepth) return Corrupt("structs nested too deeply");
      NOBUS_RETURN_IF_ERROR(BeginStruct());
      while (true) {
        int16_t id = 0;
        CType t = CType::kStop;
        NOBUS_ASSIGN_OR_RETURN(bool more, NextField(&id, &t));
        if (!more) break;
        NOBUS_RETURN_IF_ERROR(SkipDepth(t, depth + 1));
      }
      return EndStruct();
    }
    default:
      return Corrupt(Cat("cannot skip type ", static_cast<int>(type)));
  }
}

absl::StatusOr<FileMetaData> DecodeFileMetaData(std::string_view bytes) {
  ThriftDecoder d(bytes);
  FileMetaData md;
  NOBUS_RETURN_IF_ERROR(ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    switch (id) {
      case 1:
        return ReadIntInto(d, t, &md.version);
      case 2:
        return ReadList(d, t, StructElements(&md.schema, ReadSchemaElement));
      case 3:
        return ReadIntInto(d, t, &md.num_rows);
      case 4:
        return ReadList(d, t, StructElements(&md.row_groups, ReadRowGroup));
      case 5:
        return ReadList(d, t, StructElements(&md.key_value_metadata, ReadKeyValue));
      case 6:
        return ReadStringInto(d, t, &md.created_by);
      default:
        return false;
    }
  }));
  return md;
}

absl::StatusOr<PageHeader> DecodePageHeader(std::string_view bytes, size_t* header_size) {
  ThriftDecoder d(bytes);
  PageHeader h;
  NOBUS_RETURN_IF_ERROR(ReadStruct(d, [&](int16_t id, CType t) -> absl::StatusOr<bool> {
    switch (id) {
      case 1:
        return ReadIntInto(d, t, &h.type);
      case 2:
        return ReadIntInto(d, t, &h.uncompressed_page_size);
      case 3:
        return ReadIntInto(d, t, &h.compressed_page_size);
      case 5:
      case 7:
      case 8: {
        if (t != CType::kStruct) return Corrupt("page sub-header is not a struct");
        if (id == 8)
          NOBUS_RETURN_IF_ERROR(ReadDataPageHeaderV2(d, &h));
        else
          NOBUS_RETURN_IF_ERROR(ReadDataPageHeader(d, &h));  // dictionary: same ids 1, 2
        return true;
      }
      default:
        return false;
    }
  }));
  *header_size = d.position();
  return h;
}

}  // namespace nobus::parquet
