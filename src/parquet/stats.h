// Column statistics of the Parquet writer: one accumulator type feeds both the footer Statistics
// of every column chunk (PLAIN-encoded min_value/max_value under TypeDefinedOrder, null_count) and
// the whole-file LeafStats that DeltaStatsJson (delta_stats.cc) turns into Delta's `add.stats`.
// Order rules: signed integers (dates, timestamps, decimals included), unsigned bytewise for
// byte arrays, numeric for decimals (equal to the sign-flipped FLBA order), NaN never a bound,
// -0.0 as min and +0.0 as max whenever a zero is a bound. Not thread-safe; plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "parquet/row_batch.h"
#include "parquet/writer.h"

namespace nobus::parquet {

class StatsAccumulator {
 public:
  explicit StatsAccumulator(const LeafDescriptor& leaf);

  void AddNulls(int64_t n) { null_count_ += n; }
  // `n` values laid out as in LeafBuffer::values (fixed-width physical types only).
  void AddFixed(const char* data, int64_t n);
  // One byte-array value; `v` must stay valid until Finish.
  void AddBytes(std::string_view v);
  LeafStats Finish() const;

 private:
  void AddDecimal(__int128 v);
  void AddIntRange(int64_t mn, int64_t mx);
  template <typename T>
  void AddIntegers(const char* data, int64_t n, bool decimal);

  const LeafDescriptor& leaf_;
  int64_t null_count_ = 0;
  int64_t nan_count_ = 0;
  bool has_value_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  __int128 cmin_ = 0, cmax_ = 0;
  std::string_view bmin_, bmax_;
};

// Folds chunk statistics into file statistics of the same leaf.
void MergeStats(const LeafStats& from, LeafStats* into);

// The PLAIN encoding of a bound for Statistics.min_value/max_value (byte arrays without length).
std::string EncodeStatBound(const LeafDescriptor& leaf, const StatValue& v);

}  // namespace nobus::parquet
