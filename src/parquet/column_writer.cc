#include "parquet/column_writer.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "common/coding.h"
#include "parquet/encoding.h"
#include "parquet/stats.h"
#include "parquet/thrift_compact.h"

namespace nobus::parquet {
namespace {

// After this many values a dictionary holding more than half of them as distinct entries is
// abandoned: it would not pay for itself and building it costs time.
constexpr int64_t kDictionaryProbeValues = 4096;
constexpr int32_t kPageTypeData = 0;
constexpr int32_t kPageTypeDictionary = 2;

int ValueWidth(const LeafDescriptor& leaf) {
  switch (leaf.physical) {
    case PhysicalType::kBoolean:
      return 1;
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      return 4;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      return 8;
    case PhysicalType::kFixedLenByteArray:
      return leaf.type_length;
    case PhysicalType::kInt96:  // never written (schema_mapping never chooses it)
    case PhysicalType::kByteArray:
      return 0;
  }
  return 0;
}

bool GiveUp(int64_t seen, int64_t distinct) {
  return seen == kDictionaryProbeValues && distinct * 2 > seen;
}

}  // namespace

ColumnWriter::ColumnWriter(const LeafDescriptor& leaf, const WriterOptions& options)
    : leaf_(leaf),
      options_(options),
      compressor_(options.codec, options.zstd_level),
      value_width_(ValueWidth(leaf)) {}

template <typename Key>
bool ColumnWriter::BuildFixedDictionary(const char* data, int64_t n) {
  absl::flat_hash_map<Key, uint32_t> map;
  map.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
  const auto limit = static_cast<size_t>(options_.dictionary_page_size_limit_bytes);
  for (int64_t i = 0; i < n; ++i) {
    Key k;
    std::memcpy(&k, data + i * sizeof(Key), sizeof(Key));
    auto [it, inserted] = map.try_emplace(k, static_cast<uint32_t>(dict_size_));
    if (inserted) {
      dict_page_.append(reinterpret_cast<const char*>(&k), sizeof(Key));
      ++dict_size_;
      if (dict_page_.size() > limit) return false;
    }
    indices_[i] = it->second;
    if (GiveUp(i + 1, dict_size_)) return false;
  }
  return true;
}

bool ColumnWriter::BuildBytesDictionary(const LeafBuffer& buffer, const ChunkRange& range) {
  absl::flat_hash_map<std::string_view, uint32_t, absl::Hash<std::string_view>> map;
  int64_t n = range.value_end - range.value_begin;
  map.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
  const auto limit = static_cast<size_t>(options_.dictionary_page_size_limit_bytes);
  const char* base = buffer.values.data();
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = range.value_begin + i;
    std::string_view key =
        value_width_ > 0
            ? std::string_view(base + v * value_width_, value_width_)
            : std::string_view(base + buffer.offsets[v], buffer.offsets[v + 1] - buffer.offsets[v]);
    auto [it, inserted] = map.try_emplace(key, static_cast<uint32_t>(dict_size_));
    if (inserted) {
      if (value_width_ == 0) PutFixed32(&dict_page_, static_cast<uint32_t>(key.size()));
      dict_page_.append(key.data(), key.size());
      dict_entries_.push_back(key);
      ++dict_size_;
      if (dict_page_.size() > limit) return false;
    }
    indices_[i] = it->second;
    if (GiveUp(i + 1, dict_size_)) return false;
  }
  return true;
}

bool ColumnWriter::BuildDictionary(const LeafBuffer& buffer, const ChunkRange& range) {
  dict_page_.clear();
  dict_entries_.clear();
  dict_size_ = 0;
  int64_t n = range.value_end - range.value_begin;
  indices_.resize(static_cast<size_t>(n));
  const char* data = buffer.values.data() + range.value_begin * value_width_;
  if (value_width_ == 4 && leaf_.physical != PhysicalType::kFixedLenByteArray) {
    return BuildFixedDictionary<uint32_t>(data, n);
  }
  if (value_width_ == 8 && leaf_.physical != PhysicalType::kFixedLenByteArray) {
    return BuildFixedDictionary<uint64_t>(data, n);
  }
  return BuildBytesDictionary(buffer, range);
}

void ColumnWriter::AccumulateStats(const LeafBuffer& buffer, const ChunkRange& range,
                                   bool dictionary, LeafStats* stats) {
  StatsAccumulator acc(leaf_);
  int64_t n = range.value_end - range.value_begin;
  acc.AddNulls((range.level_end - range.level_begin) - n);
  if (value_width_ > 0) {
    if (dictionary) {
      acc.AddFixed(dict_page_.data(), dict_size_);
    } else {
      acc.AddFixed(buffer.values.data() + range.value_begin * value_width_, n);
    }
  } else if (dictionary) {
    for (std::string_view e : dict_entries_) acc.AddBytes(e);
  } else {
    const char* base = buffer.values.data();
    for (int64_t v = range.value_begin; v < range.value_end; ++v) {
      acc.AddBytes(
          std::string_view(base + buffer.offsets[v], buffer.offsets[v + 1] - buffer.offsets[v]));
    }
  }
  *stats = acc.Finish();
}

int64_t ColumnWriter::NextPageEnd(const LeafBuffer& buffer, int64_t level, int64_t level_end,
                                  int64_t* value) {
  const int16_t* def = buffer.def_levels.data();
  const int16_t* rep = leaf_.max_rep > 0 ? buffer.rep_levels.data() : nullptr;
  const uint32_t* offsets = buffer.offsets.data();
  const int16_t max_def = leaf_.max_def;
  const int64_t limit = std::max<int64_t>(1, options_.page_size_bytes);
  int64_t bytes = 0;
  int64_t v = *value;
  while (level < level_end) {
    if (def[level] == max_def) {
      bytes += value_width_ > 0 ? value_width_ : offsets[v + 1] - offsets[v] + 4;
      ++v;
    }
    ++level;
    if (bytes >= limit && (rep == nullptr || level == level_end || rep[level] == 0)) break;
  }
  *value = v;
  return level;
}

void ColumnWriter::EncodeValues(const LeafBuffer& buffer, int64_t value_begin, int64_t value_end,
                                int64_t chunk_value_begin, bool dictionary) {
  int64_t n = value_end - value_begin;
  if (dictionary) {
    int width = std::max(1, BitWidth(static_cast<uint64_t>(std::max<int64_t>(dict_size_ - 1, 0))));
    page_.push_back(static_cast<char>(width));
    EncodeHybrid(indices_.data() + (value_begin - chunk_value_begin), n, width, &page_);
    return;
  }
  const char* base = buffer.values.data();
  if (leaf_.physical == PhysicalType::kBoolean) {
    EncodePlainBooleans(reinterpret_cast<const uint8_t*>(base) + value_begin, n, &page_);
  } else if (value_width_ > 0) {
    page_.append(base + value_begin * value_width_, static_cast<size_t>(n * value_width_));
  } else {
    const uint32_t* offsets = buffer.offsets.data();
    size_t pos = page_.size();
    page_.resize(pos + (offsets[value_end] - offsets[value_begin]) + 4 * static_cast<size_t>(n));
    char* dst = page_.data() + pos;
    for (int64_t v = value_begin; v < value_end; ++v) {
      uint32_t len = offsets[v + 1] - offsets[v];
      EncodeFixed32(dst, len);
      std::memcpy(dst + 4, base + offsets[v], len);
      dst += 4 + len;
    }
  }
}

absl::Status ColumnWriter::FlushPage(std::string_view body, bool dictionary_page,
                                     int64_t num_values, Encoding encoding, const Sink& sink,
                                     ChunkResult* result) {
  if (body.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      num_values > std::numeric_limits<int32_t>::max()) {
    return absl::ResourceExhaustedError(
        Cat("page of column '", leaf_.display_path, "' exceeds 2 GiB or 2^31 values"));
  }
  NOBUS_RETURN_IF_ERROR(compressor_.Compress(body, &compressed_));
  header_.clear();
  CompactWriter w(&header_);
  w.BeginStruct();
  w.FieldI32(1, dictionary_page ? kPageTypeDictionary : kPageTypeData);
  w.FieldI32(2, static_cast<int32_t>(body.size()));
  w.FieldI32(3, static_cast<int32_t>(compressed_.size()));
  w.FieldStruct(dictionary_page ? 7 : 5);
  w.FieldI32(1, static_cast<int32_t>(num_values));
  w.FieldI32(2, static_cast<int32_t>(encoding));
  if (!dictionary_page) {
    w.FieldI32(3, static_cast<int32_t>(Encoding::kRle));
    w.FieldI32(4, static_cast<int32_t>(Encoding::kRle));
  }
  w.EndStruct();
  w.EndStruct();
  NOBUS_RETURN_IF_ERROR(sink(header_));
  NOBUS_RETURN_IF_ERROR(sink(compressed_));
  if (!dictionary_page) ++result->num_data_pages;
  result->uncompressed_size += static_cast<int64_t>(header_.size() + body.size());
  result->compressed_size += static_cast<int64_t>(header_.size() + compressed_.size());
  return absl::OkStatus();
}

absl::Status ColumnWriter::WriteChunk(const LeafBuffer& buffer, const ChunkRange& range,
                                      int64_t file_offset, const Sink& sink,
                                      ChunkResult* result) {
  *result = ChunkResult{};
  // Every byte written so far is a page header or a compressed page body.
  auto offset_now = [&] { return file_offset + result->compressed_size; };
  result->chunk_offset = file_offset;
  bool dictionary = options_.enable_dictionary && leaf_.physical != PhysicalType::kBoolean &&
                    range.value_end > range.value_begin && BuildDictionary(buffer, range);
  AccumulateStats(buffer, range, dictionary, &result->stats);
  if (dictionary) {
    result->dictionary_page_offset = offset_now();
    NOBUS_RETURN_IF_ERROR(FlushPage(dict_page_, true, dict_size_, Encoding::kPlain, sink, result));
  }
  result->data_page_offset = offset_now();
  const int rep_width = BitWidth(static_cast<uint64_t>(leaf_.max_rep));
  const int def_width = BitWidth(static_cast<uint64_t>(leaf_.max_def));
  int64_t level = range.level_begin;
  int64_t value = range.value_begin;
  while (level < range.level_end) {
    int64_t page_level = level, page_value = value;
    level = NextPageEnd(buffer, level, range.level_end, &value);
    page_.clear();
    if (leaf_.max_rep > 0) {
      EncodeLevelsV1(buffer.rep_levels.data() + page_level, level - page_level, rep_width, &page_);
    }
    if (leaf_.max_def > 0) {
      EncodeLevelsV1(buffer.def_levels.data() + page_level, level - page_level, def_width, &page_);
    }
    EncodeValues(buffer, page_value, value, range.value_begin, dictionary);
    NOBUS_RETURN_IF_ERROR(FlushPage(page_, false, level - page_level,
                                    dictionary ? Encoding::kRleDictionary : Encoding::kPlain, sink,
                                    result));
  }
  result->num_values = range.level_end - range.level_begin;
  result->encodings = {Encoding::kPlain, Encoding::kRle};
  if (dictionary) result->encodings.push_back(Encoding::kRleDictionary);
  return absl::OkStatus();
}

}  // namespace nobus::parquet
