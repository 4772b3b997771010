#include "parquet/footer.h"

#include "parquet/stats.h"
#include "parquet/thrift_compact.h"

namespace nobus::parquet {
namespace {

void EncodeLogical(const SchemaElementSpec& e, CompactWriter* w) {
  w->FieldStruct(10);
  switch (e.logical) {
    case Logical::kString:
      w->FieldStruct(1);
      break;
    case Logical::kMap:
      w->FieldStruct(2);
      break;
    case Logical::kList:
      w->FieldStruct(3);
      break;
    case Logical::kDecimal:
      w->FieldStruct(5);
      w->FieldI32(1, e.scale);
      w->FieldI32(2, e.precision);
      break;
    case Logical::kDate:
      w->FieldStruct(6);
      break;
    case Logical::kTimestamp:
      w->FieldStruct(8);
      w->FieldBool(1, e.utc);
      w->FieldStruct(2);  // TimeUnit
      w->FieldStruct(2);  // MICROS
      w->EndStruct();
      w->EndStruct();
      break;
    case Logical::kInteger:
      w->FieldStruct(10);
      w->FieldI8(1, static_cast<int8_t>(e.bit_width));
      w->FieldBool(2, true);
      break;
    case Logical::kNone:
      break;
  }
  w->EndStruct();  // the member
  w->EndStruct();  // the union
}

void EncodeSchemaElement(const SchemaElementSpec& e, CompactWriter* w) {
  w->BeginStruct();
  if (e.type >= 0) w->FieldI32(1, e.type);
  if (e.type_length > 0) w->FieldI32(2, e.type_length);
  if (e.repetition != Repetition::kNone) w->FieldI32(3, static_cast<int32_t>(e.repetition));
  w->FieldBinary(4, e.name);
  if (e.num_children >= 0) w->FieldI32(5, e.num_children);
  if (e.converted_type >= 0) w->FieldI32(6, e.converted_type);
  if (e.scale >= 0) w->FieldI32(7, e.scale);
  if (e.precision >= 0) w->FieldI32(8, e.precision);
  if (e.logical != Logical::kNone) EncodeLogical(e, w);
  w->EndStruct();
}

void EncodeStatistics(const LeafDescriptor& leaf, const LeafStats& s, CompactWriter* w) {
  w->FieldStruct(12);
  w->FieldI64(3, s.null_count);
  if (s.max.kind != StatValue::Kind::kNone) {
    w->FieldBinary(5, EncodeStatBound(leaf, s.max));
    w->FieldBinary(6, EncodeStatBound(leaf, s.min));
  }
  w->EndStruct();
}

void EncodeColumnChunk(const LeafDescriptor& leaf, const ChunkResult& c, Codec codec,
                       CompactWriter* w) {
  w->BeginStruct();
  w->FieldI64(2, c.chunk_offset);
  w->FieldStruct(3);
  w->FieldI32(1, static_cast<int32_t>(leaf.physical));
  w->FieldList(2, CType::kI32, static_cast<uint32_t>(c.encodings.size()));
  for (Encoding e : c.encodings) w->I32(static_cast<int32_t>(e));
  w->FieldList(3, CType::kBinary, static_cast<uint32_t>(leaf.path.size()));
  for (const std::string& p : leaf.path) w->Binary(p);
  w->FieldI32(4, static_cast<int32_t>(codec));
  w->FieldI64(5, c.num_values);
  w->FieldI64(6, c.uncompressed_size);
  w->FieldI64(7, c.compressed_size);
  w->FieldI64(9, c.data_page_offset);
  if (c.dictionary_page_offset >= 0) w->FieldI64(11, c.dictionary_page_offset);
  EncodeStatistics(leaf, c.stats, w);
  w->EndStruct();
  w->EndStruct();
}

void EncodeRowGroup(const ColumnTree& tree, const RowGroupResult& rg, int ordinal, Codec codec,
                    CompactWriter* w) {
  int64_t uncompressed = 0, compressed = 0;
  for (const ChunkResult& c : rg.chunks) {
    uncompressed += c.uncompressed_size;
    compressed += c.compressed_size;
  }
  w->BeginStruct();
  w->FieldList(1, CType::kStruct, static_cast<uint32_t>(rg.chunks.size()));
  for (size_t i = 0; i < rg.chunks.size(); ++i) {
    EncodeColumnChunk(tree.leaves[i], rg.chunks[i], codec, w);
  }
  w->FieldI64(2, uncompressed);
  w->FieldI64(3, rg.num_rows);
  w->FieldI64(5, rg.chunks.empty() ? 0 : rg.chunks[0].chunk_offset);
  w->FieldI64(6, compressed);
  w->FieldI16(7, static_cast<int16_t>(ordinal));
  w->EndStruct();
}

}  // namespace

void EncodeFileMetaData(const ColumnTree& tree, const std::vector<RowGroupResult>& row_groups,
                        Codec codec, const std::string& created_by, std::string* out) {
  CompactWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldList(2, CType::kStruct, static_cast<uint32_t>(tree.elements.size()));
  for (const SchemaElementSpec& e : tree.elements) EncodeSchemaElement(e, &w);
  int64_t num_rows = 0;
  for (const RowGroupResult& rg : row_groups) num_rows += rg.num_rows;
  w.FieldI64(3, num_rows);
  w.FieldList(4, CType::kStruct, static_cast<uint32_t>(row_groups.size()));
  for (size_t i = 0; i < row_groups.size(); ++i) {
    EncodeRowGroup(tree, row_groups[i], static_cast<int>(i), codec, &w);
  }
  w.FieldBinary(6, created_by);
  w.FieldList(7, CType::kStruct, static_cast<uint32_t>(tree.leaves.size()));
  for (size_t i = 0; i < tree.leaves.size(); ++i) {
    w.BeginStruct();
    w.FieldStruct(1);
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
}

}  // namespace nobus::parquet
