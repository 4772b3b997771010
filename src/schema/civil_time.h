// Calendar arithmetic and strict text forms for DATE and TIMESTAMP values, shared by the record
// decoders (parsing what clients send) and the row codec (formatting Delta partition values).
// Proleptic Gregorian calendar, UTC; DATE = days since 1970-01-01, TIMESTAMP = microseconds since
// 1970-01-01T00:00:00Z. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nobus::schema {

struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

int64_t DaysFromCivil(const CivilDate& date);
CivilDate CivilFromDays(int64_t days);
bool IsValidCivil(const CivilDate& date);

// "YYYY-MM-DD" (exactly that shape, a real calendar day) -> days since epoch; nullopt otherwise.
std::optional<int64_t> ParseDate(std::string_view text);

// ISO-8601 "YYYY-MM-DD[T| ]HH:MM[:SS[.f{1,9}]][Z|+HH:MM|-HH:MM|+HHMM]" -> microseconds since epoch.
// An offset or Z is accepted only when `allow_offset` (TIMESTAMP); TIMESTAMP_NTZ takes local
// wall-clock text. Digits past microseconds must be zero (no silent rounding). nullopt when the
// text is malformed, not a real time of day, or out of int64 range.
std::optional<int64_t> ParseTimestampMicros(std::string_view text, bool allow_offset);

// "YYYY-MM-DD" (years outside 0..9999 printed with as many digits as needed and a '-' sign).
std::string FormatDate(int64_t days);
// "YYYY-MM-DD HH:MM:SS" plus ".ffffff" when the microseconds are not zero.
std::string FormatTimestampMicros(int64_t micros);

}  // namespace nobus::schema
