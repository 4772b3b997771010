// Encodes one leaf's slice of a RowBatch as a Parquet column chunk: an optional dictionary page,
// then data pages v1 (repetition levels, definition levels, values; compressed together), split
// at page_size_bytes of PLAIN value bytes and only where a row starts. Sits between file_writer.cc
// (which cuts row groups and writes the bytes) and encoding/compression/stats.
// One ColumnWriter per leaf per file, reused for every row group (scratch buffers and the ZSTD
// context are kept). Not thread-safe. Reads the batch, never modifies it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "parquet/compression.h"
#include "parquet/row_batch.h"
#include "parquet/writer.h"

namespace nobus::parquet {

// Parquet Encoding values.
enum class Encoding : int32_t { kPlain = 0, kRle = 3, kRleDictionary = 8 };

// A slice of a leaf buffer: level entries [level_begin, level_end) and the non-null values among
// them [value_begin, value_end). level_begin must be a row start.
struct ChunkRange {
  int64_t level_begin = 0, level_end = 0;
  int64_t value_begin = 0, value_end = 0;
};

// What the footer needs about one written chunk. Offsets are absolute file offsets.
struct ChunkResult {
  int64_t num_values = 0;  // level entries
  int num_data_pages = 0;
  int64_t uncompressed_size = 0;  // page headers included
  int64_t compressed_size = 0;    // page headers included
  int64_t chunk_offset = 0;       // first page (dictionary page if any)
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;  // -1: no dictionary page
  std::vector<Encoding> encodings;
  LeafStats stats;
};

class ColumnWriter {
 public:
  ColumnWriter(const LeafDescriptor& leaf, const WriterOptions& options);

  // Receives a chunk's bytes in file order, a page at a time (so a chunk is never held whole).
  using Sink = std::function<absl::Status(std::string_view bytes)>;

  // Writes the chunk for `range` of `buffer` to `sink`; `file_offset` is the file offset of the
  // first byte it writes.
  [[nodiscard]] absl::Status WriteChunk(const LeafBuffer& buffer, const ChunkRange& range,
                                        int64_t file_offset, const Sink& sink,
                                        ChunkResult* result);

 private:
  bool BuildDictionary(const LeafBuffer& buffer, const ChunkRange& range);
  template <typename Key>
  bool BuildFixedDictionary(const char* data, int64_t n);
  bool BuildBytesDictionary(const LeafBuffer& buffer, const ChunkRange& range);
  void AccumulateStats(const LeafBuffer& buffer, const ChunkRange& range, bool dictionary,
                       LeafStats* stats);
  int64_t NextPageEnd(const LeafBuffer& buffer, int64_t level, int64_t level_end, int64_t* value);
  void EncodeValues(const LeafBuffer& buffer, int64_t value_begin, int64_t value_end,
                    int64_t chunk_value_begin, bool dictionary);
  [[nodiscard]] absl::Status FlushPage(std::string_view body, bool dictionary_page,
                                       int64_t num_values, Encoding encoding, const Sink& sink,
                                       ChunkResult* result);

  const LeafDescriptor& leaf_;
  WriterOptions options_;
  Compressor compressor_;
  int value_width_;  // bytes per value in LeafBuffer::values; 0 for byte arrays
  // Dictionary of the current chunk: PLAIN page body, entries, index of every non-null value.
  std::string dict_page_;
  std::vector<std::string_view> dict_entries_;
  std::vector<uint32_t> indices_;
  int64_t dict_size_ = 0;
  std::string page_;
  std::string compressed_;
  std::string header_;
};

}  // namespace nobus::parquet
