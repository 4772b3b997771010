// Value and level encodings of Parquet data pages: the RLE/bit-packed hybrid (definition and
// repetition levels, dictionary indices) and PLAIN booleans. Other PLAIN types are copied straight
// from RowBatch buffers by column_writer.cc (little-endian host assumed, as x86-64 and arm64 are).
// Pure functions appending to caller-owned strings; thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace nobus::parquet {

// Bits needed for values 0..max_value: 0 -> 0, 1 -> 1, 2..3 -> 2, 4..7 -> 3, ...
int BitWidth(uint64_t max_value);

// Appends `values[0, n)` as RLE/bit-packed hybrid runs of `bit_width` bits (no length prefix).
// Runs of 8 or more equal values become RLE runs, everything else bit-packed groups of 8 (the
// last group zero-padded).
void EncodeHybrid(const int16_t* values, int64_t n, int bit_width, std::string* out);
void EncodeHybrid(const uint32_t* values, int64_t n, int bit_width, std::string* out);

// Data page v1 levels: u32 little-endian byte length, then the hybrid runs.
void EncodeLevelsV1(const int16_t* levels, int64_t n, int bit_width, std::string* out);

// PLAIN booleans: bit-packed, least significant bit first; `values` holds one byte (0/1) each.
void EncodePlainBooleans(const uint8_t* values, int64_t n, std::string* out);

}  // namespace nobus::parquet
