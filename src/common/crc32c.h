// CRC32C (Castagnoli), the checksum of WAL records. Uses the SSE4.2 crc32 instruction when the CPU
// has it (detected once at run time) and a portable slicing table otherwise; both give identical
// results. Thread-safe, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nobus::crc32c {

// Returns the CRC32C of data[0, n) continuing from `init_crc` (the CRC of the bytes before).
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// The portable implementation, exposed so tests can compare it with the accelerated one.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);
bool HardwareAccelerated();

// A CRC stored next to the data it covers is masked, so that the CRC of a string containing
// embedded CRCs stays well distributed (the LevelDB convention).
constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace nobus::crc32c
