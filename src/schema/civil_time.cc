#include "schema/civil_time.h"

#include <cstdio>

namespace nobus::schema {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Cursor over ASCII text; every Take* fails without moving on a mismatch.
struct Cursor {
  std::string_view s;
  size_t i = 0;
  bool AtEnd() const { return i == s.size(); }
  bool Peek(char c) const { return i < s.size() && s[i] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++i;
    return true;
  }
  // Exactly `n` decimal digits.
  bool Digits(int n, int64_t* out) {
    if (s.size() - i < static_cast<size_t>(n)) return false;
    int64_t v = 0;
    for (int k = 0; k < n; ++k) {
      char c = s[i + k];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    i += n;
    *out = v;
    return true;
  }
};

bool ParseDatePart(Cursor* c, int64_t* days) {
  int64_t y, m, d;
  if (!c->Digits(4, &y) || !c->Take('-') || !c->Digits(2, &m) || !c->Take('-') ||
      !c->Digits(2, &d)) {
    return false;
  }
  CivilDate date{y, static_cast<int>(m), static_cast<int>(d)};
  if (!IsValidCivil(date)) return false;
  *days = DaysFromCivil(date);
  return true;
}

// [.f{1,9}] -> microseconds; digits beyond the sixth must be zero.
bool ParseFraction(Cursor* c, int64_t* micros) {
  *micros = 0;
  if (!c->Take('.')) return true;
  int n = 0;
  while (c->i < c->s.size() && c->s[c->i] >= '0' && c->s[c->i] <= '9') {
    int digit = c->s[c->i] - '0';
    if (n < 6) {
      *micros = *micros * 10 + digit;
    } else if (digit != 0) {
      return false;
    }
    ++n;
    ++c->i;
  }
  if (n == 0 || n > 9) return false;
  for (int k = n; k < 6; ++k) *micros *= 10;
  return true;
}

// Z | +HH[:MM] | -HH[:MM] | +HHMM -> offset in seconds east of UTC.
bool ParseOffset(Cursor* c, int64_t* offset_s, bool* had_offset) {
  *offset_s = 0;
  *had_offset = false;
  if (c->Take('Z') || c->Take('z')) return true;
  int sign = c->Take('+') ? 1 : (c->Take('-') ? -1 : 0);
  if (sign == 0) return true;
  int64_t hh, mm = 0;
  if (!c->Digits(2, &hh)) return false;
  if (c->Take(':')) {
    if (!c->Digits(2, &mm)) return false;
  } else if (!c->AtEnd() && !c->Digits(2, &mm)) {
    return false;
  }
  if (hh > 18 || mm > 59) return false;
  *offset_s = sign * (hh * 3600 + mm * 60);
  *had_offset = true;
  return true;
}

void AppendYear(std::string* out, int64_t year) {
  char buf[32];
  int n = year >= 0 ? std::snprintf(buf, sizeof(buf), "%04lld", static_cast<long long>(year))
                    : std::snprintf(buf, sizeof(buf), "-%04lld", -static_cast<long long>(year));
  out->append(buf, n);
}

}  // namespace

int64_t DaysFromCivil(const CivilDate& date) {
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;                                    // [0, 399]
  int64_t mp = date.month > 2 ? date.month - 3 : date.month + 9;  // March = 0
  int64_t doy = (153 * mp + 2) / 5 + date.day - 1;                // [0, 365]
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  CivilDate out;
  out.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  out.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  out.year = yoe + era * 400 + (out.month <= 2 ? 1 : 0);
  return out;
}

bool IsValidCivil(const CivilDate& date) {
  return date.month >= 1 && date.month <= 12 && date.day >= 1 &&
         date.day <= DaysInMonth(date.year, date.month);
}

std::optional<int64_t> ParseDate(std::string_view text) {
  Cursor c{text};
  int64_t days;
  if (!ParseDatePart(&c, &days) || !c.AtEnd()) return std::nullopt;
  return days;
}

std::optional<int64_t> ParseTimestampMicros(std::string_view text, bool allow_offset) {
  Cursor c{text};
  int64_t days;
  if (!ParseDatePart(&c, &days)) return std::nullopt;
  int64_t hh = 0, mm = 0, ss = 0, frac = 0;
  if (c.Take('T') || c.Take('t') || c.Take(' ')) {
    if (!c.Digits(2, &hh) || !c.Take(':') || !c.Digits(2, &mm)) return std::nullopt;
    if (c.Take(':')) {
      if (!c.Digits(2, &ss) || !ParseFraction(&c, &frac)) return std::nullopt;
    }
    if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  }
  int64_t offset_s;
  bool had_offset;
  if (!ParseOffset(&c, &offset_s, &had_offset) || !c.AtEnd()) return std::nullopt;
  if (had_offset && !allow_offset) return std::nullopt;
  // Years are 4 digits, so days * kMicrosPerDay stays far inside int64.
  return days * kMicrosPerDay + ((hh * 60 + mm) * 60 + ss - offset_s) * kMicrosPerSecond + frac;
}

std::string FormatDate(int64_t days) {
  CivilDate d = CivilFromDays(days);
  std::string out;
  AppendYear(&out, d.year);
  char buf[16];
  int n = std::snprintf(buf, sizeof(buf), "-%02d-%02d", d.month, d.day);
  out.append(buf, n);
  return out;
}

std::string FormatTimestampMicros(int64_t micros) {
  int64_t days = FloorDiv(micros, kMicrosPerDay);
  int64_t rem = micros % kMicrosPerDay;  // days * kMicrosPerDay may not fit int64
  if (rem < 0) rem += kMicrosPerDay;
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  std::string out = FormatDate(days);
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), " %02d:%02d:%02d", static_cast<int>(secs / 3600),
                        static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
  out.append(buf, n);
  if (frac != 0) {
    n = std::snprintf(buf, sizeof(buf), ".%06d", static_cast<int>(frac));
    out.append(buf, n);
  }
  return out;
}

}  // namespace nobus::schema
