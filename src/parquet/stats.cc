#include "parquet/stats.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace nobus::parquet {
namespace {

using schema::TypeKind;

template <typename T>
void MinMax(const char* data, int64_t n, T* mn, T* mx) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    if (v < *mn) *mn = v;
    if (v > *mx) *mx = v;
  }
}

template <typename T>
void FloatMinMax(const char* data, int64_t n, bool* has, double* mn, double* mx, int64_t* nans) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, data + i * sizeof(T), sizeof(T));
    if (std::isnan(v)) {
      ++*nans;
      continue;
    }
    double d = v;
    if (!*has) {
      *mn = *mx = d;
      *has = true;
    }
    if (d < *mn) *mn = d;
    if (d > *mx) *mx = d;
  }
}

__int128 ReadBigEndian(const unsigned char* p, int width) {
  unsigned __int128 u = (p[0] & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
  for (int i = 0; i < width; ++i) u = (u << 8) | p[i];
  return static_cast<__int128>(u);
}

void NormalizeZeros(LeafStats* s) {
  if (s->min.kind == StatValue::Kind::kDouble && s->min.d == 0) s->min.d = -0.0;
  if (s->max.kind == StatValue::Kind::kDouble && s->max.d == 0) s->max.d = 0.0;
}

// Negative when a < b (both of the same kind).
int Compare(const StatValue& a, const StatValue& b) {
  switch (a.kind) {
    case StatValue::Kind::kInt:
      return a.i < b.i ? -1 : a.i > b.i;
    case StatValue::Kind::kDouble:
      return a.d < b.d ? -1 : a.d > b.d;
    case StatValue::Kind::kDecimal:
      return a.dec < b.dec ? -1 : a.dec > b.dec;
    case StatValue::Kind::kBytes:
      return a.bytes.compare(b.bytes);
    case StatValue::Kind::kNone:
      break;
  }
  return 0;
}

}  // namespace

StatsAccumulator::StatsAccumulator(const LeafDescriptor& leaf) : leaf_(leaf) {}

void StatsAccumulator::AddDecimal(__int128 v) {
  if (!has_value_) {
    cmin_ = cmax_ = v;
    has_value_ = true;
  }
  if (v < cmin_) cmin_ = v;
  if (v > cmax_) cmax_ = v;
}

void StatsAccumulator::AddIntRange(int64_t mn, int64_t mx) {
  if (!has_value_) {
    imin_ = mn, imax_ = mx;
    has_value_ = true;
    return;
  }
  if (mn < imin_) imin_ = mn;
  if (mx > imax_) imax_ = mx;
}

template <typename T>
void StatsAccumulator::AddIntegers(const char* data, int64_t n, bool decimal) {
  T mn = std::numeric_limits<T>::max();
  T mx = std::numeric_limits<T>::min();
  MinMax<T>(data, n, &mn, &mx);
  if (decimal) {
    AddDecimal(mn);
    AddDecimal(mx);
  } else {
    AddIntRange(mn, mx);
  }
}

void StatsAccumulator::AddFixed(const char* data, int64_t n) {
  if (n == 0) return;
  bool decimal = leaf_.type.kind == TypeKind::kDecimal;
  switch (leaf_.physical) {
    case PhysicalType::kBoolean: {
      uint8_t mn = 1, mx = 0;
      MinMax<uint8_t>(data, n, &mn, &mx);
      AddIntRange(mn, mx);
      return;
    }
    case PhysicalType::kInt32:
      AddIntegers<int32_t>(data, n, decimal);
      return;
    case PhysicalType::kInt64:
      AddIntegers<int64_t>(data, n, decimal);
      return;
    case PhysicalType::kFloat:
      FloatMinMax<float>(data, n, &has_value_, &dmin_, &dmax_, &nan_count_);
      return;
    case PhysicalType::kDouble:
      FloatMinMax<double>(data, n, &has_value_, &dmin_, &dmax_, &nan_count_);
      return;
    case PhysicalType::kFixedLenByteArray:
      for (int64_t i = 0; i < n; ++i) {
        AddDecimal(
            ReadBigEndian(reinterpret_cast<const unsigned char*>(data) + i * leaf_.type_length,
                          leaf_.type_length));
      }
      return;
    case PhysicalType::kInt96:  // never written
    case PhysicalType::kByteArray:
      return;
  }
}

void StatsAccumulator::AddBytes(std::string_view v) {
  if (!has_value_) {
    bmin_ = bmax_ = v;
    has_value_ = true;
    return;
  }
  if (v < bmin_) bmin_ = v;
  if (v > bmax_) bmax_ = v;
}

LeafStats StatsAccumulator::Finish() const {
  LeafStats s;
  s.null_count = null_count_;
  s.has_nan = nan_count_ > 0;
  if (!has_value_) return s;
  StatValue::Kind kind;
  if (leaf_.type.kind == TypeKind::kDecimal) {
    kind = StatValue::Kind::kDecimal;
  } else if (leaf_.physical == PhysicalType::kFloat || leaf_.physical == PhysicalType::kDouble) {
    kind = StatValue::Kind::kDouble;
  } else if (leaf_.physical == PhysicalType::kByteArray) {
    kind = StatValue::Kind::kBytes;
  } else {
    kind = StatValue::Kind::kInt;
  }
  s.min.kind = s.max.kind = kind;
  s.min.i = imin_, s.max.i = imax_;
  s.min.d = dmin_, s.max.d = dmax_;
  s.min.dec = cmin_, s.max.dec = cmax_;
  if (kind == StatValue::Kind::kBytes) {
    s.min.bytes.assign(bmin_.data(), bmin_.size());
    s.max.bytes.assign(bmax_.data(), bmax_.size());
  }
  NormalizeZeros(&s);
  return s;
}

void MergeStats(const LeafStats& from, LeafStats* into) {
  into->null_count += from.null_count;
  into->has_nan = into->has_nan || from.has_nan;
  if (from.min.kind == StatValue::Kind::kNone) return;
  if (into->min.kind == StatValue::Kind::kNone) {
    into->min = from.min;
    into->max = from.max;
    return;
  }
  if (Compare(from.min, into->min) < 0) into->min = from.min;
  if (Compare(from.max, into->max) > 0) into->max = from.max;
  NormalizeZeros(into);
}

std::string EncodeStatBound(const LeafDescriptor& leaf, const StatValue& v) {
  std::string out;
  bool decimal = v.kind == StatValue::Kind::kDecimal;
  switch (leaf.physical) {
    case PhysicalType::kBoolean:
      out.push_back(v.i != 0 ? 1 : 0);
      break;
    case PhysicalType::kInt32: {
      int32_t x = static_cast<int32_t>(decimal ? static_cast<int64_t>(v.dec) : v.i);
      out.append(reinterpret_cast<const char*>(&x), 4);
      break;
    }
    case PhysicalType::kInt64: {
      int64_t x = decimal ? static_cast<int64_t>(v.dec) : v.i;
      out.append(reinterpret_cast<const char*>(&x), 8);
      break;
    }
    case PhysicalType::kFloat: {
      float x = static_cast<float>(v.d);
      out.append(reinterpret_cast<const char*>(&x), 4);
      break;
    }
    case PhysicalType::kDouble:
      out.append(reinterpret_cast<const char*>(&v.d), 8);
      break;
    case PhysicalType::kByteArray:
      out = v.bytes;
      break;
    case PhysicalType::kFixedLenByteArray: {
      auto u = static_cast<unsigned __int128>(v.dec);
      for (int b = leaf.type_length - 1; b >= 0; --b) {
        out.push_back(static_cast<char>(static_cast<uint8_t>(u >> (8 * b))));
      }
      break;
    }
    case PhysicalType::kInt96:  // never written
      break;
  }
  return out;
}

}  // namespace nobus::parquet
