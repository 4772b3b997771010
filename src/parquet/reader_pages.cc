#include "parquet/reader_pages.h"

#include <snappy.h>
#include <zstd.h>

#include <cstring>

namespace nobus::parquet::internal {
namespace {

constexpr int32_t kMaxPageBytes = 512 << 20;
constexpr int64_t kMaxEntries = int64_t{1} << 28;

enum Encoding { kPlain = 0, kPlainDictionary = 2, kRle = 3, kRleDictionary = 8 };

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(Cat("corrupt Parquet column chunk: ", what));
}

// State while decoding one chunk: the output and the dictionary, if any.
struct Chunk {
  const ColumnDescriptor& column;
  int codec;
  ColumnValues out;
  std::optional<ColumnValues> dictionary;
};

absl::StatusOr<std::string> Decompress(int codec, std::string_view in, int32_t size) {
  if (size < 0 || size > kMaxPageBytes) return Corrupt("page size out of range");
  std::string out(static_cast<size_t>(size), '\0');
  switch (codec) {
    case 0:
      if (in.size() != out.size()) return Corrupt("uncompressed page size mismatch");
      out.assign(in);
      return out;
    case 1: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n) || n != out.size() ||
          !snappy::RawUncompress(in.data(), in.size(), out.data()))
        return Corrupt("bad SNAPPY page");
      return out;
    }
    case 6: {
      size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(n) || n != out.size()) return Corrupt("bad ZSTD page");
      return out;
    }
    default:
      return absl::UnimplementedError(
          Cat("Parquet compression codec ", codec, " is not supported"));
  }
}

int BitWidth(int64_t max_value) {
  int w = 0;
  while (max_value > 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

absl::StatusOr<uint64_t> ReadUleb(std::string_view data, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*pos >= data.size()) return Corrupt("truncated run header");
    auto b = static_cast<uint8_t>(data[(*pos)++]);
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return v;
  }
  return Corrupt("run header too long");
}

absl::Status UnpackBits(std::string_view data, size_t pos, int bit_width, size_t n,
                        std::vector<int32_t>* out) {
  if ((n * bit_width + 7) / 8 > data.size() - pos) return Corrupt("bit-packed run past the end");
  uint64_t acc = 0;
  int acc_bits = 0;
  const uint64_t mask = (uint64_t{1} << bit_width) - 1;
  for (size_t i = 0; i < n; ++i) {
    while (acc_bits < bit_width) {
      acc |= static_cast<uint64_t>(static_cast<uint8_t>(data[pos++])) << acc_bits;
      acc_bits += 8;
    }
    out->push_back(static_cast<int32_t>(acc & mask));
    acc >>= bit_width;
    acc_bits -= bit_width;
  }
  return absl::OkStatus();
}

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Cuts a u32-length-prefixed section off the front of `rest`.
absl::StatusOr<std::string_view> TakePrefixed(std::string_view* rest) {
  if (rest->size() < 4) return Corrupt("truncated length prefix");
  uint32_t len = LoadU32(rest->data());
  if (len > rest->size() - 4) return Corrupt("length prefix past the end of the page");
  std::string_view out = rest->substr(4, len);
  rest->remove_prefix(4 + len);
  return out;
}

absl::Status DecodeLevels(std::string_view data, int16_t max_level, size_t n,
                          std::vector<int16_t>* out) {
  std::vector<int32_t> tmp;
  NOBUS_RETURN_IF_ERROR(DecodeHybrid(data, BitWidth(max_level), n, &tmp));
  for (int32_t v : tmp) {
    if (v > max_level) return Corrupt("level above the column's maximum");
    out->push_back(static_cast<int16_t>(v));
  }
  return absl::OkStatus();
}

template <typename T>
T LoadLe(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

absl::Status DecodePlainFixed(std::string_view data, const ColumnDescriptor& c, size_t n,
                              ColumnValues* out) {
  size_t width = 0;
  switch (c.type) {
    case PhysicalType::kInt32:
    case PhysicalType::kFloat:
      width = 4;
      break;
    case PhysicalType::kInt64:
    case PhysicalType::kDouble:
      width = 8;
      break;
    case PhysicalType::kInt96:
      width = 12;
      break;
    default:
      width = static_cast<size_t>(c.type_length);
      break;
  }
  if (width == 0 || n > data.size() / width)
    return Corrupt("PLAIN values past the end of the page");
  for (size_t i = 0; i < n; ++i) {
    const char* p = data.data() + i * width;
    switch (c.type) {
      case PhysicalType::kInt32:
        out->ints.push_back(LoadLe<int32_t>(p));
        break;
      case PhysicalType::kInt64:
        out->ints.push_back(LoadLe<int64_t>(p));
        break;
      case PhysicalType::kFloat:
        out->doubles.push_back(LoadLe<float>(p));
        break;
      case PhysicalType::kDouble:
        out->doubles.push_back(LoadLe<double>(p));
        break;
      default:
        out->bytes.emplace_back(p, width);
        break;
    }
  }
  return absl::OkStatus();
}

absl::Status DecodePlain(std::string_view data, const ColumnDescriptor& c, size_t n,
                         ColumnValues* out) {
  if (c.type == PhysicalType::kBoolean) {
    if ((n + 7) / 8 > data.size()) return Corrupt("PLAIN booleans past the end of the page");
    for (size_t i = 0; i < n; ++i)
      out->ints.push_back((static_cast<uint8_t>(data[i / 8]) >> (i % 8)) & 1);
    return absl::OkStatus();
  }
  if (c.type != PhysicalType::kByteArray) return DecodePlainFixed(data, c, n, out);
  for (size_t i = 0; i < n; ++i) {
    NOBUS_ASSIGN_OR_RETURN(std::string_view v, TakePrefixed(&data));
    out->bytes.emplace_back(v);
  }
  return absl::OkStatus();
}

absl::Status DecodeDictionaryIndices(std::string_view data, size_t n, Chunk& chunk) {
  if (!chunk.dictionary) return Corrupt("dictionary-encoded page without a dictionary page");
  if (data.empty()) return n == 0 ? absl::OkStatus() : Corrupt("empty dictionary index data");
  int bit_width = static_cast<uint8_t>(data[0]);
  std::vector<int32_t> idx;
  NOBUS_RETURN_IF_ERROR(DecodeHybrid(data.substr(1), bit_width, n, &idx));
  const ColumnValues& d = *chunk.dictionary;
  size_t dict_size = std::max({d.ints.size(), d.doubles.size(), d.bytes.size()});
  for (int32_t i : idx) {
    if (i < 0 || static_cast<size_t>(i) >= dict_size)
      return Corrupt("dictionary index out of range");
    if (!d.ints.empty()) chunk.out.ints.push_back(d.ints[i]);
    if (!d.doubles.empty()) chunk.out.doubles.push_back(d.doubles[i]);
    if (!d.bytes.empty()) chunk.out.bytes.push_back(d.bytes[i]);
  }
  return absl::OkStatus();
}

absl::Status DecodeValues(Chunk& chunk, int encoding, std::string_view data, size_t n) {
  switch (encoding) {
    case kPlain:
      return DecodePlain(data, chunk.column, n, &chunk.out);
    case kPlainDictionary:
    case kRleDictionary:
      return DecodeDictionaryIndices(data, n, chunk);
    case kRle: {
      if (chunk.column.type != PhysicalType::kBoolean) break;
      NOBUS_ASSIGN_OR_RETURN(std::string_view runs, TakePrefixed(&data));
      std::vector<int32_t> bits;
      NOBUS_RETURN_IF_ERROR(DecodeHybrid(runs, 1, n, &bits));
      chunk.out.ints.insert(chunk.out.ints.end(), bits.begin(), bits.end());
      return absl::OkStatus();
    }
    default:
      break;
  }
  return absl::UnimplementedError(Cat("Parquet encoding ", encoding, " is not supported"));
}

size_t CountNonNull(const Chunk& chunk, size_t first_entry, size_t n) {
  if (chunk.column.max_def_level == 0) return n;
  size_t count = 0;
  for (size_t i = first_entry; i < first_entry + n; ++i)
    count += chunk.out.def_levels[i] == chunk.column.max_def_level;
  return count;
}

absl::Status DecodeDataPage(Chunk& chunk, const PageHeader& h, std::string_view body) {
  NOBUS_ASSIGN_OR_RETURN(std::string page, Decompress(chunk.codec, body, h.uncompressed_page_size));
  std::string_view rest = page;
  auto n = static_cast<size_t>(h.num_values);
  const ColumnDescriptor& c = chunk.column;
  if (c.max_rep_level > 0) {
    NOBUS_ASSIGN_OR_RETURN(std::string_view levels, TakePrefixed(&rest));
    NOBUS_RETURN_IF_ERROR(DecodeLevels(levels, c.max_rep_level, n, &chunk.out.rep_levels));
  }
  if (c.max_def_level > 0) {
    NOBUS_ASSIGN_OR_RETURN(std::string_view levels, TakePrefixed(&rest));
    NOBUS_RETURN_IF_ERROR(DecodeLevels(levels, c.max_def_level, n, &chunk.out.def_levels));
  }
  size_t first = chunk.out.num_entries;
  chunk.out.num_entries += n;
  return DecodeValues(chunk, h.encoding, rest, CountNonNull(chunk, first, n));
}

absl::Status DecodeDataPageV2(Chunk& chunk, const PageHeader& h, std::string_view body) {
  auto rep_len = static_cast<size_t>(h.repetition_levels_byte_length);
  auto def_len = static_cast<size_t>(h.definition_levels_byte_length);
  if (h.repetition_levels_byte_length < 0 || h.definition_levels_byte_length < 0 ||
      rep_len + def_len > body.size() ||
      static_cast<int64_t>(rep_len + def_len) > h.uncompressed_page_size)
    return Corrupt("v2 page level lengths out of range");
  auto n = static_cast<size_t>(h.num_values);
  const ColumnDescriptor& c = chunk.column;
  if (c.max_rep_level > 0)
    NOBUS_RETURN_IF_ERROR(
        DecodeLevels(body.substr(0, rep_len), c.max_rep_level, n, &chunk.out.rep_levels));
  if (c.max_def_level > 0)
    NOBUS_RETURN_IF_ERROR(
        DecodeLevels(body.substr(rep_len, def_len), c.max_def_level, n, &chunk.out.def_levels));
  std::string_view values = body.substr(rep_len + def_len);
  auto values_size = static_cast<int32_t>(h.uncompressed_page_size - rep_len - def_len);
  std::string decompressed;
  if (h.is_compressed && chunk.codec != 0) {
    NOBUS_ASSIGN_OR_RETURN(decompressed, Decompress(chunk.codec, values, values_size));
    values = decompressed;
  }
  size_t first = chunk.out.num_entries;
  chunk.out.num_entries += n;
  return DecodeValues(chunk, h.encoding, values, CountNonNull(chunk, first, n));
}

absl::Status DecodeDictionaryPage(Chunk& chunk, const PageHeader& h, std::string_view body) {
  if (chunk.dictionary) return Corrupt("second dictionary page in a column chunk");
  if (h.encoding != kPlain && h.encoding != kPlainDictionary)
    return absl::UnimplementedError(Cat("dictionary page encoding ", h.encoding));
  NOBUS_ASSIGN_OR_RETURN(std::string page, Decompress(chunk.codec, body, h.uncompressed_page_size));
  ColumnValues dict;
  NOBUS_RETURN_IF_ERROR(DecodePlain(page, chunk.column, static_cast<size_t>(h.num_values), &dict));
  chunk.dictionary = std::move(dict);
  return absl::OkStatus();
}

absl::Status DecodePage(Chunk& chunk, const PageHeader& h, std::string_view body,
                        int64_t remaining) {
  bool data_page = h.type == static_cast<int>(PageType::kDataPage) ||
                   h.type == static_cast<int>(PageType::kDataPageV2);
  if (h.num_values < 0 || (data_page && h.num_values > remaining) || h.num_values > kMaxEntries)
    return Corrupt("page value count out of range");
  switch (static_cast<PageType>(h.type)) {
    case PageType::kDictionaryPage:
      return DecodeDictionaryPage(chunk, h, body);
    case PageType::kDataPage:
      return DecodeDataPage(chunk, h, body);
    case PageType::kDataPageV2:
      return DecodeDataPageV2(chunk, h, body);
    default:
      return absl::OkStatus();  // index pages and unknown kinds carry no values
  }
}

}  // namespace

absl::Status DecodeHybrid(std::string_view data, int bit_width, size_t count,
                          std::vector<int32_t>* out) {
  if (bit_width < 0 || bit_width > 32) return Corrupt("bit width out of range");
  size_t target = out->size() + count;
  if (bit_width == 0) {
    out->resize(target, 0);
    return absl::OkStatus();
  }
  size_t pos = 0;
  while (out->size() < target) {
    NOBUS_ASSIGN_OR_RETURN(uint64_t header, ReadUleb(data, &pos));
    size_t want = target - out->size();
    if (header & 1) {
      uint64_t groups = header >> 1;
      if (groups == 0 || groups > data.size()) return Corrupt("bad bit-packed run length");
      size_t n = std::min<uint64_t>(groups * 8, want);
      NOBUS_RETURN_IF_ERROR(UnpackBits(data, pos, bit_width, n, out));
      pos += std::min<uint64_t>(groups * bit_width, data.size() - pos);
    } else {
      uint64_t run = header >> 1;
      size_t value_bytes = (bit_width + 7) / 8;
      if (run == 0 || value_bytes > data.size() - pos) return Corrupt("bad RLE run");
      uint32_t v = 0;
      for (size_t i = 0; i < value_bytes; ++i)
        v |= static_cast<uint32_t>(static_cast<uint8_t>(data[pos + i])) << (8 * i);
      pos += value_bytes;
      out->insert(out->end(), std::min<uint64_t>(run, want), static_cast<int32_t>(v));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ColumnValues> DecodeColumnChunk(std::string_view file, const ColumnMetaData& meta,
                                               const ColumnDescriptor& column) {
  int64_t start = meta.data_page_offset;
  if (meta.dictionary_page_offset && *meta.dictionary_page_offset > 0 &&
      *meta.dictionary_page_offset < start)
    start = *meta.dictionary_page_offset;
  auto file_size = static_cast<int64_t>(file.size());
  if (start < 0 || meta.total_compressed_size < 0 || start > file_size ||
      meta.total_compressed_size > file_size - start || meta.num_values < 0 ||
      meta.num_values > kMaxEntries)
    return Corrupt("column chunk offsets or sizes out of range");
  std::string_view bytes = file.substr(start, meta.total_compressed_size);
  Chunk chunk{column, meta.codec, {}, std::nullopt};
  size_t pos = 0;
  while (static_cast<int64_t>(chunk.out.num_entries) < meta.num_values) {
    if (pos >= bytes.size())
      return Corrupt(
          Cat("chunk ends after ", chunk.out.num_entries, " of ", meta.num_values, " values"));
    size_t header_size = 0;
    NOBUS_ASSIGN_OR_RETURN(PageHeader h, DecodePageHeader(bytes.substr(pos), &header_size));
    pos += header_size;
    if (h.compressed_page_size < 0 ||
        static_cast<size_t>(h.compressed_page_size) > bytes.size() - pos)
      return Corrupt("page extends past the column chunk");
    std::string_view body = bytes.substr(pos, h.compressed_page_size);
    pos += h.compressed_page_size;
    int64_t remaining = meta.num_values - static_cast<int64_t>(chunk.out.num_entries);
    NOBUS_RETURN_IF_ERROR(DecodePage(chunk, h, body, remaining));
  }
  return std::move(chunk.out);
}

}  // namespace nobus::parquet::internal
