#include "schema/json_scalars.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "schema/civil_time.h"
#include "schema/row_encoding.h"
#include "schema/value_parse.h"

namespace nobus::schema::json {

using namespace row_encoding;  // NOLINT(build/namespaces): the tags are this file's vocabulary

namespace {

absl::Status Integer(int64_t v, const JsonColumn& n, std::string_view text, std::string* out);
absl::Status Floating(double v, const JsonColumn& n, std::string_view text, std::string* out);
absl::Status DecimalText(std::string_view text, const JsonColumn& n, bool from_string,
                         std::string* out);

// How a rejected value is shown in messages: number 1.5 / string "x".
std::string Describe(std::string_view text, bool is_string) {
  if (is_string) return Cat("string ", QuoteForMessage(text));
  return Cat("number ", text.size() > 40 ? Cat(text.substr(0, 40), "...") : std::string(text));
}

}  // namespace

absl::Status JsonMismatch(const JsonColumn& n, std::string_view got) {
  return absl::InvalidArgumentError(
      Cat("column '", n.path, "': expected ", n.type_name, ", got ", got));
}

absl::Status JsonProblem(const JsonColumn& n, std::string_view what) {
  return absl::InvalidArgumentError(Cat("column '", n.path, "': ", what));
}

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string QuoteForMessage(std::string_view s) {
  constexpr size_t kMax = 40;
  if (s.size() <= kMax) return Cat("\"", s, "\"");
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;  // whole chars
  return Cat("\"", s.substr(0, cut), "\"...");
}

absl::Status EncodeNumberText(std::string_view token, const JsonColumn& n, std::string* out) {
  auto got = [&] { return Describe(token, false); };
  switch (n.type->kind) {
    case TypeKind::kLong:
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte:
    case TypeKind::kDate:
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      int64_t i;
      if (!ParseInt64Text(token, &i)) {
        bool integral = token.find_first_of(".eE") == std::string_view::npos;
        return integral ? JsonProblem(n, Cat("value ", token, " out of range for ", n.type_name))
                        : JsonMismatch(n, got());
      }
      return Integer(i, n, token, out);
    }
    case TypeKind::kFloat:
    case TypeKind::kDouble: {
      double d;
      if (token.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
        return JsonMismatch(n, got());
      }
      auto res = std::from_chars(token.data(), token.data() + token.size(), d);
      if (res.ec == std::errc::result_out_of_range) {
        return JsonProblem(n, Cat("value ", token, " out of range for ", n.type_name));
      }
      if (res.ec != std::errc() || res.ptr != token.data() + token.size())
        return JsonMismatch(n, got());
      return Floating(d, n, token, out);
    }
    case TypeKind::kDecimal:
      return DecimalText(token, n, false, out);
    default:
      return JsonMismatch(n, got());
  }
}

absl::Status EncodeStringValue(std::string_view s, const JsonColumn& n, std::string* out) {
  auto got = [&] { return Describe(s, true); };
  int64_t i;
  switch (n.type->kind) {
    case TypeKind::kString:
      PutBytes(out, kString, s);
      return absl::OkStatus();
    case TypeKind::kLong:
      if (!ParseInt64Text(s, &i)) return JsonMismatch(n, got());
      PutInt64(out, i);
      return absl::OkStatus();
    case TypeKind::kFloat:
    case TypeKind::kDouble:
      if (s == "NaN") return Floating(std::numeric_limits<double>::quiet_NaN(), n, s, out);
      if (s == "Infinity") return Floating(HUGE_VAL, n, s, out);
      if (s == "-Infinity") return Floating(-HUGE_VAL, n, s, out);
      return JsonMismatch(n, got());
    case TypeKind::kBinary: {
      std::string bytes;
      if (!Base64Decode(s, &bytes))
        return JsonProblem(n, Cat("expected base64 for BINARY, got ", got()));
      PutBytes(out, kBinary, bytes);
      return absl::OkStatus();
    }
    case TypeKind::kDate: {
      auto days = ParseDate(s);
      if (!days)
        return JsonProblem(n,
                           Cat("expected DATE as \"YYYY-MM-DD\" or days since epoch, got ", got()));
      return Integer(*days, n, s, out);
    }
    case TypeKind::kTimestamp:
    case TypeKind::kTimestampNtz: {
      bool ntz = n.type->kind == TypeKind::kTimestampNtz;
      auto micros = ParseTimestampMicros(s, !ntz);
      if (!micros) {
        return JsonProblem(
            n, Cat("expected ", n.type_name, " as an ISO-8601 string", ntz ? " without offset" : "",
                   " or microseconds since epoch, got ", got()));
      }
      PutInt64(out, *micros);
      return absl::OkStatus();
    }
    case TypeKind::kDecimal:
      return DecimalText(s, n, true, out);
    default:
      return JsonMismatch(n, got());
  }
}

absl::Status EncodeMapKeyText(std::string_view s, const JsonColumn& n, std::string* out) {
  int64_t i;
  switch (n.type->kind) {
    case TypeKind::kInteger:
    case TypeKind::kShort:
    case TypeKind::kByte:
      if (!ParseInt64Text(s, &i)) return JsonMismatch(n, Cat("key ", QuoteForMessage(s)));
      return Integer(i, n, s, out);
    case TypeKind::kBoolean:
      if (s != "true" && s != "false") return JsonMismatch(n, Cat("key ", QuoteForMessage(s)));
      PutTag(out, s == "true" ? kTrue : kFalse);
      return absl::OkStatus();
    default:
      return EncodeStringValue(s, n, out);
  }
}

namespace {

absl::Status Integer(int64_t v, const JsonColumn& n, std::string_view text, std::string* out) {
  if (!PutInteger(out, n.type->kind, v))
    return JsonProblem(n, Cat("value ", text, " out of range for ", n.type_name));
  return absl::OkStatus();
}

absl::Status Floating(double v, const JsonColumn& n, std::string_view text, std::string* out) {
  if (n.type->kind == TypeKind::kDouble) {
    PutDouble(out, v);
    return absl::OkStatus();
  }
  if (std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()) {
    return JsonProblem(n, Cat("value ", text, " out of range for FLOAT"));
  }
  PutFloat(out, static_cast<float>(v));
  return absl::OkStatus();
}

absl::Status DecimalText(std::string_view text, const JsonColumn& n, bool from_string,
                         std::string* out) {
  __int128 unscaled;
  switch (ParseDecimalText(text, n.type->precision, n.type->scale, &unscaled)) {
    case DecimalParse::kOk:
      PutDecimal(out, unscaled);
      return absl::OkStatus();
    case DecimalParse::kScale:
      return JsonProblem(n, Cat("value ", text, " has more than ", n.type->scale,
                                " decimal places (", n.type_name, " would round it)"));
    case DecimalParse::kPrecision:
      return JsonProblem(n, Cat("value ", text, " does not fit ", n.type_name));
    default:
      return JsonMismatch(n, Describe(text, from_string));
  }
}

}  // namespace

}  // namespace nobus::schema::json
