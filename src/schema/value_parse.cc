#include "schema/value_parse.h"

namespace nobus::schema {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipDigits(std::string_view s, size_t i) {
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i;
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool ParseInt64Text(std::string_view text, int64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && text[i] == '-') neg = true, ++i;
  if (i == text.size()) return false;
  uint64_t limit = neg ? static_cast<uint64_t>(INT64_MAX) + 1 : INT64_MAX;
  uint64_t v = 0;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
    uint64_t d = text[i] - '0';
    if (v > (limit - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

DecimalParse ParseDecimalText(std::string_view text, int precision, int scale, __int128* out) {
  size_t i = 0;
  bool neg = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) neg = text[i] == '-', ++i;
  size_t int_begin = i, int_end = SkipDigits(text, i);
  size_t frac_begin = int_end, frac_end = int_end;
  if (frac_begin < text.size() && text[frac_begin] == '.') {
    ++frac_begin;
    frac_end = SkipDigits(text, frac_begin);
  }
  if (int_end == int_begin && frac_end == frac_begin) return DecimalParse::kSyntax;
  i = frac_end;
  int64_t exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_neg = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) exp_neg = text[i] == '-', ++i;
    size_t exp_end = SkipDigits(text, i);
    if (exp_end == i) return DecimalParse::kSyntax;
    for (; i < exp_end; ++i) exp = exp < 100000 ? exp * 10 + (text[i] - '0') : exp;
    if (exp_neg) exp = -exp;
  }
  if (i != text.size()) return DecimalParse::kSyntax;
  // Significant digits: the integer digits then the fraction digits, without leading zeros
  // (across both parts) or trailing zeros; `shift` is where the value's last kept digit sits
  // relative to the target scale.
  std::string_view int_digits = text.substr(int_begin, int_end - int_begin);
  std::string_view frac_digits = text.substr(frac_begin, frac_end - frac_begin);
  std::string digits;
  digits.reserve(int_digits.size() + frac_digits.size());
  digits.append(int_digits.data(), int_digits.size());
  digits.append(frac_digits.data(), frac_digits.size());
  int64_t shift = exp - static_cast<int64_t>(frac_digits.size()) + scale;
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) {
    *out = 0;
    return DecimalParse::kOk;
  }
  size_t last = digits.find_last_not_of('0');
  shift += static_cast<int64_t>(digits.size() - 1 - last);
  std::string_view sig = std::string_view(digits).substr(first, last - first + 1);
  if (shift < 0) return DecimalParse::kScale;
  if (static_cast<int64_t>(sig.size()) + shift > precision) return DecimalParse::kPrecision;
  __int128 v = 0;
  for (char c : sig) v = v * 10 + (c - '0');
  for (int64_t k = 0; k < shift; ++k) v *= 10;
  *out = neg ? -v : v;
  return DecimalParse::kOk;
}

bool Base64Decode(std::string_view text, std::string* out) {
  size_t n = text.size();
  size_t pad = 0;
  while (pad < 2 && n > 0 && text[n - 1] == '=') --n, ++pad;
  if (pad > 0 && text.size() % 4 != 0) return false;
  if (n % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < n; ++i) {
    int v = Base64Value(text[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (canonical encoding), and padding must complete a quantum.
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return false;
  return pad == 0 || (n + pad) % 4 == 0;
}

}  // namespace nobus::schema
