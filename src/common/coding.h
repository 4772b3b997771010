// Byte coding shared by every on-disk and on-wire format of nobus: little-endian fixed-width
// integers, LEB128 varints, zigzag and percent-encoding. Pure functions, thread-safe. Decoders never trust their
// input: they return false (or nullptr) on truncated or overlong data instead of asserting.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace nobus {

constexpr int kMaxVarint32Bytes = 5;
constexpr int kMaxVarint64Bytes = 10;

inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }  // x86/arm64 are LE
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }
inline uint32_t DecodeFixed32(const char* src) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  return v;
}
inline uint64_t DecodeFixed64(const char* src) {
  uint64_t v;
  std::memcpy(&v, src, 8);
  return v;
}

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);

// Writes `v` as ULEB128 into `dst` (room for kMaxVarint64Bytes); returns one past the last byte.
char* EncodeVarint64(char* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
int VarintLength(uint64_t v);

// Decodes a varint from [p, limit). Returns the byte after it, or nullptr if truncated/overlong.
const char* GetVarint64Ptr(const char* p, const char* limit, uint64_t* value);
const char* GetVarint32Ptr(const char* p, const char* limit, uint32_t* value);
// Consumes a varint from the front of `input`; false if it is truncated or overlong.
bool GetVarint64(std::string_view* input, uint64_t* value);
bool GetVarint32(std::string_view* input, uint32_t* value);
bool GetFixed32(std::string_view* input, uint32_t* value);
bool GetFixed64(std::string_view* input, uint64_t* value);

inline uint64_t ZigZagEncode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode64(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// `text` with every byte `keep(byte)` rejects written as %XX (uppercase hex): URI paths and
// queries (objstore/sigv4), Hive partition directories (delta/data_files).
template <typename Keep>
std::string PercentEncode(std::string_view text, Keep keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (keep(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace nobus
