// The type nibbles of the Thrift compact protocol, shared by our encoder (thrift_compact.h, for
// footers and page headers we write) and our decoder (thrift_decoder.h, for files we read).
#pragma once

#include <cstdint>

namespace nobus::parquet {

enum class CType : uint8_t {
  kStop = 0,  // ends a struct
  kBoolTrue = 1,
  kBoolFalse = 2,
  kI8 = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

}  // namespace nobus::parquet
