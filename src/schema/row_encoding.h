// Internal to src/schema: the value encoding of row blobs (doc/wal.md "Row encoding"), shared by
// RowBlobWriter and the record decoders, which encode values into scratch buffers and splice them
// into a blob in schema order (RowBlobWriter::AppendEncoded). Not a front door: other folders
// use row_codec.h. Pure inline functions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "schema/types.h"

namespace nobus::schema::row_encoding {

enum Tag : uint8_t {
  kNull = 0x00,
  kFalse = 0x01,
  kTrue = 0x02,
  kInt32 = 0x03,
  kInt64 = 0x04,
  kFloat = 0x05,
  kDouble = 0x06,
  kString = 0x07,
  kBinary = 0x08,
  kDecimal = 0x09,
  kStruct = 0x0a,
  kEnd = 0x0b,
  kList = 0x0c,
  kMap = 0x0d,
};

inline void PutTag(std::string* out, Tag tag) { out->push_back(static_cast<char>(tag)); }

inline void PutInt32(std::string* out, int32_t v) {
  PutTag(out, kInt32);
  PutVarint64(out, ZigZagEncode64(v));
}

inline void PutInt64(std::string* out, int64_t v) {
  PutTag(out, kInt64);
  PutVarint64(out, ZigZagEncode64(v));
}

// An integer for a column of `kind`: INT64 for BIGINT and the timestamps, else INT32 once it is
// known to fit the column (INT, SMALLINT or TINYINT). False, with nothing written, when it does
// not fit.
[[nodiscard]] inline bool PutInteger(std::string* out, TypeKind kind, int64_t v) {
  int64_t lo = INT32_MIN, hi = INT32_MAX;
  switch (kind) {
    case TypeKind::kLong:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz:
      PutInt64(out, v);
      return true;
    case TypeKind::kShort:
      lo = INT16_MIN, hi = INT16_MAX;
      break;
    case TypeKind::kByte:
      lo = INT8_MIN, hi = INT8_MAX;
      break;
    default:
      break;
  }
  if (v < lo || v > hi) return false;
  PutInt32(out, static_cast<int32_t>(v));
  return true;
}

inline void PutFloat(std::string* out, float v) {
  PutTag(out, kFloat);
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  PutFixed32(out, bits);
}

inline void PutDouble(std::string* out, double v) {
  PutTag(out, kDouble);
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  PutFixed64(out, bits);
}

inline void PutBytes(std::string* out, Tag tag, std::string_view v) {
  PutTag(out, tag);
  PutVarint64(out, v.size());
  out->append(v.data(), v.size());
}

// Fewest little-endian two's-complement bytes that sign-extend back to `v` (1..16).
inline int DecimalWidth(__int128 v) {
  for (int n = 1; n < 16; ++n) {
    int shift = 128 - 8 * n;
    __int128 back = static_cast<__int128>(static_cast<unsigned __int128>(v) << shift) >> shift;
    if (back == v) return n;
  }
  return 16;
}

inline void PutDecimal(std::string* out, __int128 unscaled) {
  PutTag(out, kDecimal);
  int n = DecimalWidth(unscaled);
  out->push_back(static_cast<char>(n));
  auto bits = static_cast<unsigned __int128>(unscaled);
  for (int i = 0; i < n; ++i) out->push_back(static_cast<char>(bits >> (8 * i)));
}

// LIST / MAP header: tag and element (entry) count.
inline void PutCount(std::string* out, Tag tag, uint64_t count) {
  PutTag(out, tag);
  PutVarint64(out, count);
}

}  // namespace nobus::schema::row_encoding
