// Internal to src/schema: strict text-to-value conversions used by the record decoders (integers
// and exact decimals from JSON number text or strings, base64). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace nobus::schema {

// "-?[0-9]+" (no sign '+', no spaces) within int64; false otherwise.
bool ParseInt64Text(std::string_view text, int64_t* out);

enum class DecimalParse {
  kOk,
  kSyntax,     // not "[+-]?digits[.digits][(e|E)[+-]digits]" (or ".digits" / "digits.")
  kScale,      // more significant fractional digits than the scale: would lose precision
  kPrecision,  // more integer digits than precision - scale
};

// Exact decimal text -> unscaled value at `scale` (e.g. "1.50" at scale 1 -> 15). Never rounds.
DecimalParse ParseDecimalText(std::string_view text, int precision, int scale, __int128* out);

// RFC 4648 base64 (standard alphabet; '=' padding optional but, if present, correct); appends
// the bytes to `out`. False on any other character or a bad length.
bool Base64Decode(std::string_view text, std::string* out);

}  // namespace nobus::schema
