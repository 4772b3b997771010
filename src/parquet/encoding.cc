#include "parquet/encoding.h"

#include <cstring>

#include "common/coding.h"

namespace nobus::parquet {
namespace {

constexpr int64_t kMinRepeatRun = 8;
constexpr int64_t kMaxGroupsPerLiteralRun = 1 << 20;

template <typename T>
int64_t RunLength(const T* v, int64_t i, int64_t n) {
  int64_t j = i + 1;
  while (j < n && v[j] == v[i]) ++j;
  return j - i;
}

template <typename T>
bool StartsRepeatRun(const T* v, int64_t i, int64_t n) {
  if (n - i < kMinRepeatRun) return false;
  for (int64_t k = 1; k < kMinRepeatRun; ++k) {
    if (v[i + k] != v[i]) return false;
  }
  return true;
}

template <typename T>
void PutRepeatRun(T value, int64_t count, int bit_width, std::string* out) {
  PutVarint64(out, static_cast<uint64_t>(count) << 1);
  uint32_t u = static_cast<uint32_t>(value);
  int bytes = (bit_width + 7) / 8;
  for (int b = 0; b < bytes; ++b) out->push_back(static_cast<char>((u >> (8 * b)) & 0xFF));
}

// Bit-packs `count` values (a multiple of 8 except possibly at the very end, zero-padded).
template <typename T>
void PutLiteralRun(const T* v, int64_t count, int bit_width, std::string* out) {
  int64_t groups = (count + 7) / 8;
  PutVarint64(out, (static_cast<uint64_t>(groups) << 1) | 1);
  size_t pos = out->size();
  out->resize(pos + static_cast<size_t>(groups) * bit_width);
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + pos);
  uint64_t acc = 0;
  int bits = 0;
  for (int64_t k = 0; k < groups * 8; ++k) {
    uint64_t x = k < count ? static_cast<uint64_t>(static_cast<uint32_t>(v[k])) : 0;
    acc |= x << bits;
    bits += bit_width;
    while (bits >= 8) {
      *dst++ = static_cast<unsigned char>(acc & 0xFF);
      acc >>= 8;
      bits -= 8;
    }
  }
}

template <typename T>
void EncodeHybridImpl(const T* v, int64_t n, int bit_width, std::string* out) {
  int64_t i = 0;
  while (i < n) {
    int64_t run = RunLength(v, i, n);
    if (run >= kMinRepeatRun || bit_width == 0) {
      PutRepeatRun(v[i], run, bit_width, out);
      i += run;
      continue;
    }
    int64_t start = i;
    int64_t groups = 0;
    while (i < n && groups < kMaxGroupsPerLiteralRun && (i == start || !StartsRepeatRun(v, i, n))) {
      i = i + 8 < n ? i + 8 : n;
      ++groups;
    }
    PutLiteralRun(v + start, i - start, bit_width, out);
  }
}

}  // namespace

int BitWidth(uint64_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

void EncodeHybrid(const int16_t* values, int64_t n, int bit_width, std::string* out) {
  EncodeHybridImpl(values, n, bit_width, out);
}

void EncodeHybrid(const uint32_t* values, int64_t n, int bit_width, std::string* out) {
  EncodeHybridImpl(values, n, bit_width, out);
}

void EncodeLevelsV1(const int16_t* levels, int64_t n, int bit_width, std::string* out) {
  size_t len_pos = out->size();
  out->append(4, '\0');
  EncodeHybrid(levels, n, bit_width, out);
  EncodeFixed32(out->data() + len_pos, static_cast<uint32_t>(out->size() - len_pos - 4));
}

void EncodePlainBooleans(const uint8_t* values, int64_t n, std::string* out) {
  size_t pos = out->size();
  out->resize(pos + static_cast<size_t>((n + 7) / 8), '\0');
  auto* dst = reinterpret_cast<unsigned char*>(out->data() + pos);
  for (int64_t k = 0; k < n; ++k) {
    if (values[k]) dst[k >> 3] |= static_cast<unsigned char>(1u << (k & 7));
  }
}

}  // namespace nobus::parquet
