#include "mqtt/wire.h"

namespace nobus::mqtt {
namespace {

std::string Describe(std::string_view field, std::string_view type, size_t at,
                     std::string_view problem) {
  if (type.empty()) return Cat(field, " at byte ", at, ": ", problem);
  return Cat(field, " (", type, ") at byte ", at, ": ", problem);
}

bool Continuation(uint8_t b) { return (b & 0xc0) == 0x80; }

// The length of the well-formed character at s[i] (RFC 3629 table 3-7), or 0 with `what` set.
size_t CharLength(std::string_view s, size_t i, std::string_view* what) {
  const auto at = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t b = at(0);
  if (b < 0x80) {
    if (b == 0) *what = "U+0000";
    return b == 0 ? 0 : 1;
  }
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;  // the range of the second byte
  if (b >= 0xc2 && b <= 0xdf) {
    n = 2;
  } else if (b >= 0xe0 && b <= 0xef) {
    n = 3;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
  } else if (b >= 0xf0 && b <= 0xf4) {
    n = 4;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
  } else {
    *what = Continuation(b) ? "unexpected continuation byte"
            : b >= 0xf5     ? "code point beyond U+10FFFF"
                            : "overlong encoding";
    return 0;
  }
  if (i + n > s.size()) {
    *what = "character cut short";
    return 0;
  }
  const uint8_t second = at(1);
  if (second < lo || second > hi) {
    if (!Continuation(second)) *what = "missing continuation byte";
    else if (b == 0xed) *what = "UTF-16 surrogate";
    else if (b == 0xf4) *what = "code point beyond U+10FFFF";
    else *what = "overlong encoding";
    return 0;
  }
  for (size_t k = 2; k < n; ++k) {
    if (!Continuation(at(k))) {
      *what = "missing continuation byte";
      return 0;
    }
  }
  return n;
}

}  // namespace

std::optional<Utf8Problem> FindUtf8Problem(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    std::string_view what;
    const size_t n = CharLength(s, i, &what);
    if (n == 0) return Utf8Problem{.offset = i, .what = what};
    i += n;
  }
  return std::nullopt;
}

bool IsValidTopicName(std::string_view name) {
  return !name.empty() && name.find_first_of("+#") == std::string_view::npos && IsMqttUtf8(name);
}

bool IsValidTopicFilter(std::string_view filter) {
  if (filter.empty() || !IsMqttUtf8(filter)) return false;
  size_t level_start = 0;
  for (size_t i = 0; i <= filter.size(); ++i) {
    if (i < filter.size() && filter[i] != '/') continue;
    const std::string_view level = filter.substr(level_start, i - level_start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    if (level == "#" && i != filter.size()) return false;  // '#' only in the last level
    level_start = i + 1;
  }
  return true;
}

size_t VariableByteIntSize(uint32_t v) {
  if (v < 128) return 1;
  if (v < 16'384) return 2;
  if (v < 2'097'152) return 3;
  return 4;
}

std::string Hex(uint32_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string digits;
  do {
    digits.insert(digits.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v != 0);
  if (digits.size() % 2 == 1) digits.insert(digits.begin(), '0');
  return "0x" + digits;
}

absl::Status Reader::Malformed(size_t at, std::string_view field, std::string_view type,
                               std::string_view problem) const {
  return absl::InvalidArgumentError(
      Cat("malformed ", packet_, ": ", Describe(field, type, at, problem)));
}

absl::Status Reader::ProtocolError(size_t at, std::string_view field, std::string_view type,
                                   std::string_view problem) const {
  return absl::FailedPreconditionError(
      Cat("protocol error in ", packet_, ": ", Describe(field, type, at, problem)));
}

absl::Status Reader::Need(size_t n, std::string_view field, std::string_view type) const {
  if (n <= remaining()) return absl::OkStatus();
  return Malformed(pos_, field, type, Cat("truncated, needs ", n, " bytes, ", remaining(), " left"));
}

absl::StatusOr<uint8_t> Reader::Byte(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(1, field, "Byte"));
  return static_cast<uint8_t>(data_[pos_++]);
}

absl::StatusOr<uint16_t> Reader::TwoByteInt(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(2, field, "Two Byte Integer"));
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  pos_ += 2;
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

absl::StatusOr<uint32_t> Reader::FourByteInt(std::string_view field) {
  NOBUS_RETURN_IF_ERROR(Need(4, field, "Four Byte Integer"));
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  pos_ += 4;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::StatusOr<uint32_t> Reader::VariableByteInt(std::string_view field) {
  static constexpr std::string_view kType = "Variable Byte Integer";
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i >= remaining()) return Malformed(pos_, field, kType, "truncated");
    const uint8_t b = static_cast<uint8_t>(data_[pos_ + i]);
    v |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) != 0) continue;
    if (i > 0 && b == 0) {
      return Malformed(pos_, field, kType, Cat("not in its shortest form (", i + 1, " bytes)"));
    }
    pos_ += i + 1;
    return v;
  }
  return Malformed(pos_, field, kType, "longer than 4 bytes");
}

absl::StatusOr<std::string_view> Reader::Sized(std::string_view field, std::string_view type) {
  NOBUS_RETURN_IF_ERROR(Need(2, field, type));
  const auto* p = reinterpret_cast<const uint8_t*>(data_.data() + pos_);
  const size_t n = (size_t{p[0]} << 8) | p[1];
  if (n > remaining() - 2) {
    return Malformed(pos_, field, type,
                     Cat("length ", n, " exceeds the ", remaining() - 2, " bytes left"));
  }
  return data_.substr(pos_ + 2, n);
}

absl::StatusOr<std::string_view> Reader::Utf8String(std::string_view field) {
  static constexpr std::string_view kType = "UTF-8 String";
  NOBUS_ASSIGN_OR_RETURN(std::string_view s, Sized(field, kType));
  if (auto problem = FindUtf8Problem(s)) {
    return Malformed(pos_ + 2 + problem->offset, field, kType, Cat("invalid UTF-8: ", problem->what));
  }
  pos_ += 2 + s.size();
  return s;
}

absl::StatusOr<std::string_view> Reader::Binary(std::string_view field) {
  NOBUS_ASSIGN_OR_RETURN(std::string_view b, Sized(field, "Binary Data"));
  pos_ += 2 + b.size();
  return b;
}

std::string_view Reader::Rest() {
  std::string_view rest = data_.substr(pos_, end_ - pos_);
  pos_ = end_;
  return rest;
}

absl::StatusOr<Reader> Reader::Section(size_t n, std::string_view field) {
  if (n > remaining()) {
    return Malformed(pos_, field, "",
                     Cat("length ", n, " exceeds the ", remaining(), " bytes left"));
  }
  Reader section = *this;
  section.end_ = pos_ + n;
  pos_ += n;
  return section;
}

absl::Status Reader::ExpectEnd(std::string_view after) const {
  if (empty()) return absl::OkStatus();
  return Malformed(pos_, Cat(remaining(), " bytes after the ", after), "", "unexpected");
}

void Writer::TwoByteInt(uint16_t v) {
  Byte(static_cast<uint8_t>(v >> 8));
  Byte(static_cast<uint8_t>(v));
}

void Writer::FourByteInt(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) Byte(static_cast<uint8_t>(v >> shift));
}

void Writer::VariableByteInt(uint32_t v) {
  if (v > kMaxVariableByteInt) v = kMaxVariableByteInt;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v != 0) b |= 0x80;
    Byte(b);
  } while (v != 0);
}

void Writer::Utf8String(std::string_view s) {
  if (s.size() > kMaxStringBytes) {
    size_t cut = kMaxStringBytes;
    while (cut > 0 && Continuation(static_cast<uint8_t>(s[cut]))) --cut;
    s = s.substr(0, cut);
  }
  TwoByteInt(static_cast<uint16_t>(s.size()));
  Raw(s);
}

void Writer::Binary(std::string_view b) {
  if (b.size() > kMaxStringBytes) b = b.substr(0, kMaxStringBytes);
  TwoByteInt(static_cast<uint16_t>(b.size()));
  Raw(b);
}

}  // namespace nobus::mqtt
