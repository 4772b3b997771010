#include "schema/ddl.h"

#include <absl/strings/ascii.h>

#include <cctype>
#include <charconv>
#include <optional>

namespace nobus::schema {
namespace {

std::string Upper(std::string_view s) { return absl::AsciiStrToUpper(std::string(s)); }
std::string Lower(std::string_view s) { return absl::AsciiStrToLower(std::string(s)); }

// A recursive-descent parser over the DDL text; `pos_` is the next unread character.
class DdlParser {
 public:
  explicit DdlParser(std::string_view text) : text_(text) {}

  absl::StatusOr<Schema> ParseColumns() {
    Schema schema;
    do {
      NOBUS_ASSIGN_OR_RETURN(Field field, ParseField(/*in_struct=*/false));
      schema.fields.push_back(std::move(field));
    } while (Consume(','));
    SkipSpace();
    if (pos_ != text_.size()) return Error("expected ',' or the end of the column list");
    NOBUS_RETURN_IF_ERROR(Validate(schema));
    return schema;
  }

 private:
  absl::StatusOr<Field> ParseField(bool in_struct) {
    Field field;
    NOBUS_ASSIGN_OR_RETURN(field.name, ParseName());
    if (in_struct) Consume(':');
    NOBUS_ASSIGN_OR_RETURN(field.type, ParseType(field.name));
    if (ConsumeWord("NOT")) {
      if (!ConsumeWord("NULL")) return Error("expected NULL after NOT");
      field.nullable = false;
    }
    if (ConsumeWord("COMMENT")) NOBUS_RETURN_IF_ERROR(SkipQuoted());
    return field;
  }

  absl::StatusOr<std::string> ParseName() {
    SkipSpace();
    if (Consume('`')) {
      size_t end = text_.find('`', pos_);
      if (end == std::string_view::npos) return Error("unterminated `backquoted` name");
      std::string name(text_.substr(pos_, end - pos_));
      pos_ = end + 1;
      return name;
    }
    std::string_view word = PeekWord();
    if (word.empty()) return Error("expected a column name");
    pos_ += word.size();
    return std::string(word);
  }

  absl::StatusOr<DataType> ParseType(const std::string& column) {
    SkipSpace();
    size_t start = pos_;
    std::string word = Upper(PeekWord());
    pos_ += word.size();
    if (word == "ARRAY") return ParseArray(column);
    if (word == "MAP") return ParseMap(column);
    if (word == "STRUCT") return ParseStruct();
    if (word == "DECIMAL" || word == "DEC" || word == "NUMERIC") return ParseDecimal();
    if (word == "VARCHAR" || word == "CHAR") {
      NOBUS_RETURN_IF_ERROR(SkipLength());
      return Primitive(TypeKind::kString);
    }
    if (auto kind = PrimitiveKind(word)) return Primitive(*kind);
    pos_ = start;
    return Error(Cat("expected a type for column '", column, "', found '",
                     word.empty() ? std::string(text_.substr(pos_, 1)) : word, "'"));
  }

  static std::optional<TypeKind> PrimitiveKind(const std::string& w) {
    if (w == "BIGINT" || w == "LONG") return TypeKind::kLong;
    if (w == "INT" || w == "INTEGER") return TypeKind::kInteger;
    if (w == "SMALLINT" || w == "SHORT") return TypeKind::kShort;
    if (w == "TINYINT" || w == "BYTE") return TypeKind::kByte;
    if (w == "FLOAT" || w == "REAL") return TypeKind::kFloat;
    if (w == "DOUBLE") return TypeKind::kDouble;
    if (w == "BOOLEAN" || w == "BOOL") return TypeKind::kBoolean;
    if (w == "STRING") return TypeKind::kString;
    if (w == "BINARY") return TypeKind::kBinary;
    if (w == "DATE") return TypeKind::kDate;
    if (w == "TIMESTAMP" || w == "TIMESTAMP_LTZ") return TypeKind::kTimestamp;
    if (w == "TIMESTAMP_NTZ") return TypeKind::kTimestampNtz;
    return std::nullopt;
  }

  absl::StatusOr<DataType> ParseArray(const std::string& column) {
    if (!Consume('<')) return Error("expected '<' after ARRAY");
    NOBUS_ASSIGN_OR_RETURN(DataType element, ParseType(column + ".element"));
    if (!Consume('>')) return Error("expected '>' to close ARRAY<...>");
    return Array(std::move(element));
  }

  absl::StatusOr<DataType> ParseMap(const std::string& column) {
    if (!Consume('<')) return Error("expected '<' after MAP");
    NOBUS_ASSIGN_OR_RETURN(DataType key, ParseType(column + ".key"));
    if (!Consume(',')) return Error("expected ',' between the key and value types of MAP");
    NOBUS_ASSIGN_OR_RETURN(DataType value, ParseType(column + ".value"));
    if (!Consume('>')) return Error("expected '>' to close MAP<...>");
    return Map(std::move(key), std::move(value));
  }

  absl::StatusOr<DataType> ParseStruct() {
    if (!Consume('<')) return Error("expected '<' after STRUCT");
    std::vector<Field> fields;
    do {
      NOBUS_ASSIGN_OR_RETURN(Field field, ParseField(/*in_struct=*/true));
      fields.push_back(std::move(field));
    } while (Consume(','));
    if (!Consume('>')) return Error("expected ',' or '>' in STRUCT<...>");
    return Struct(std::move(fields));
  }

  absl::StatusOr<DataType> ParseDecimal() {
    int precision = 10, scale = 0;
    if (Consume('(')) {
      NOBUS_ASSIGN_OR_RETURN(precision, ParseInt());
      if (Consume(',')) {
        NOBUS_ASSIGN_OR_RETURN(scale, ParseInt());
      }
      if (!Consume(')')) return Error("expected ')' to close DECIMAL(p, s)");
    }
    return Decimal(precision, scale);
  }

  absl::Status SkipLength() {
    if (!Consume('(')) return absl::OkStatus();
    NOBUS_ASSIGN_OR_RETURN(int n, ParseInt());
    (void)n;
    if (!Consume(')')) return Error("expected ')' after the length");
    return absl::OkStatus();
  }

  absl::StatusOr<int> ParseInt() {
    SkipSpace();
    int value = 0;
    auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + text_.size(), value);
    if (ec != std::errc()) return Error("expected a number");
    pos_ = end - text_.data();
    return value;
  }

  absl::Status SkipQuoted() {
    if (!Consume('\'')) return Error("expected a 'quoted' comment");
    size_t end = text_.find('\'', pos_);
    if (end == std::string_view::npos) return Error("unterminated 'quoted' comment");
    pos_ = end + 1;
    return absl::OkStatus();
  }

  std::string_view PeekWord() {
    size_t end = pos_;
    while (end < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_'))
      ++end;
    return text_.substr(pos_, end - pos_);
  }

  bool ConsumeWord(std::string_view upper_word) {
    SkipSpace();
    std::string_view word = PeekWord();
    if (Upper(word) != upper_word) return false;
    pos_ += word.size();
    return true;
  }

  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  absl::Status Error(std::string_view what) {
    SkipSpace();
    return absl::InvalidArgumentError(Cat("column list at character ", pos_ + 1, ": ", what));
  }

  std::string_view text_;
  size_t pos_ = 0;
};

std::string FormatName(const std::string& name) {
  bool plain = !name.empty();
  for (char c : name) plain &= std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  return plain ? name : Cat("`", name, "`");
}

// How a type is spelled: DDL ("STRUCT<a: INT NOT NULL>") or Spark's catalogString
// ("struct<a:int>": lowercase, no spaces, no nullability).
enum class TypeStyle { kDdl, kCatalog };

std::string FormatType(const DataType& t, TypeStyle style);

std::string FormatField(const Field& f, std::string_view separator, TypeStyle style) {
  bool not_null = !f.nullable && style == TypeStyle::kDdl;
  return Cat(FormatName(f.name), separator, FormatType(f.type, style), not_null ? " NOT NULL" : "");
}

}  // namespace

const char* DdlKeyword(TypeKind kind) {
  switch (kind) {
    case TypeKind::kString:
      return "STRING";
    case TypeKind::kLong:
      return "BIGINT";
    case TypeKind::kInteger:
      return "INT";
    case TypeKind::kShort:
      return "SMALLINT";
    case TypeKind::kByte:
      return "TINYINT";
    case TypeKind::kFloat:
      return "FLOAT";
    case TypeKind::kDouble:
      return "DOUBLE";
    case TypeKind::kBoolean:
      return "BOOLEAN";
    case TypeKind::kBinary:
      return "BINARY";
    case TypeKind::kDate:
      return "DATE";
    case TypeKind::kTimestamp:
      return "TIMESTAMP";
    case TypeKind::kTimestampNtz:
      return "TIMESTAMP_NTZ";
    case TypeKind::kDecimal:
      return "DECIMAL";
    case TypeKind::kArray:
      return "ARRAY";
    case TypeKind::kMap:
      return "MAP";
    case TypeKind::kStruct:
      return "STRUCT";
  }
  return "?";
}

namespace {

std::string FormatType(const DataType& t, TypeStyle style) {
  bool ddl = style == TypeStyle::kDdl;
  std::string word = ddl ? std::string(DdlKeyword(t.kind)) : Lower(DdlKeyword(t.kind));
  switch (t.kind) {
    case TypeKind::kDecimal:
      return Cat(word, "(", t.precision, ",", t.scale, ")");
    case TypeKind::kArray:
      return Cat(word, "<", FormatType(*t.element, style), ">");
    case TypeKind::kMap:
      return Cat(word, "<", FormatType(*t.element, style), ",", FormatType(*t.value, style), ">");
    case TypeKind::kStruct: {
      std::string out = word + "<";
      for (size_t i = 0; i < t.fields.size(); ++i)
        out += Cat(i ? (ddl ? ", " : ",") : "", FormatField(t.fields[i], ddl ? ": " : ":", style));
      return out + ">";
    }
    default:
      return word;
  }
}

}  // namespace

absl::StatusOr<Schema> ParseDdl(std::string_view text) { return DdlParser(text).ParseColumns(); }

std::string FormatDdlType(const DataType& t) { return FormatType(t, TypeStyle::kDdl); }

std::string FormatCatalogType(const DataType& t) { return FormatType(t, TypeStyle::kCatalog); }

std::string FormatDdl(const Schema& schema) {
  std::string out;
  for (size_t i = 0; i < schema.fields.size(); ++i)
    out += Cat(i ? ", " : "", FormatField(schema.fields[i], " ", TypeStyle::kDdl));
  return out;
}

}  // namespace nobus::schema
