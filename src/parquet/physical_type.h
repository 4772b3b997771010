// Parquet's physical types (parquet.thrift `Type`), shared by the writer and the reader. The
// writer never emits INT96 (deprecated; Delta timestamps are INT64 micros); the reader surfaces
// it as raw 12-byte values because Spark 3.3 wrote timestamps that way.
#pragma once

namespace nobus::parquet {

enum class PhysicalType {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

}  // namespace nobus::parquet
