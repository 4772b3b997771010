#include "kafka/record_columns.h"

#include <openssl/evp.h>
#include <simdjson.h>

#include <map>

#include "schema/ddl.h"
#include "schema/json_splice.h"

namespace nobus::kafka {
namespace {

using schema::TypeKind;

bool Is(const schema::DataType& t, TypeKind k) { return t.kind == k; }

absl::Status WrongType(const schema::Field& f, std::string_view allowed) {
  return absl::InvalidArgumentError(
      Cat("column '", f.name, "' is ", schema::FormatDdlType(f.type), ", but a Kafka ", f.name,
          " column must be ", allowed, " (doc/kafka.md \"Key, headers, timestamp\")"));
}

// `bytes` as a JSON string: text (must be UTF-8) or standard base64; null for nullopt.
absl::Status AppendBytes(RecordColumns::Bytes as, const std::optional<std::string_view>& bytes,
                         std::string_view what, std::string* out) {
  if (!bytes) {
    out->append("null");
    return absl::OkStatus();
  }
  if (as == RecordColumns::Bytes::kText) {
    if (!simdjson::validate_utf8(bytes->data(), bytes->size()))
      return absl::InvalidArgumentError(
          Cat("the record's ", what, " is not UTF-8 text; make the column BINARY to keep any bytes"));
    schema::AppendJsonString(*bytes, out);
    return absl::OkStatus();
  }
  std::string b64(4 * ((bytes->size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                                reinterpret_cast<const unsigned char*>(bytes->data()),
                                static_cast<int>(bytes->size()));
  b64.resize(static_cast<size_t>(n));
  out->push_back('"');
  out->append(b64);
  out->push_back('"');
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RecordColumns> FindRecordColumns(const schema::Schema& schema) {
  RecordColumns c;
  for (const schema::Field& f : schema.fields) {
    const schema::DataType& t = f.type;
    if (f.name == kKeyColumn) {
      if (!Is(t, TypeKind::kString) && !Is(t, TypeKind::kBinary))
        return WrongType(f, "STRING or BINARY");
      c.key = Is(t, TypeKind::kString) ? RecordColumns::Bytes::kText : RecordColumns::Bytes::kBase64;
    } else if (f.name == kTimestampColumn) {
      if (Is(t, TypeKind::kLong)) c.timestamp = RecordColumns::Time::kMillis;
      else if (Is(t, TypeKind::kTimestamp) || Is(t, TypeKind::kTimestampNtz))
        c.timestamp = RecordColumns::Time::kMicros;
      else return WrongType(f, "TIMESTAMP, TIMESTAMP_NTZ or BIGINT (milliseconds)");
    } else if (f.name == kHeadersColumn) {
      const bool map = Is(t, TypeKind::kMap) && t.element && Is(*t.element, TypeKind::kString) &&
                       t.value && (Is(*t.value, TypeKind::kString) || Is(*t.value, TypeKind::kBinary));
      if (!map) return WrongType(f, "MAP<STRING, STRING> or MAP<STRING, BINARY>");
      c.headers = Is(*t.value, TypeKind::kString) ? RecordColumns::Bytes::kText
                                                  : RecordColumns::Bytes::kBase64;
    } else if (f.name == kPartitionColumn) {
      if (!Is(t, TypeKind::kInteger) && !Is(t, TypeKind::kLong)) return WrongType(f, "INT or BIGINT");
      c.partition = true;
    }
  }
  return c;
}

absl::Status WithRecordColumns(const RecordColumns& columns, const Record& record,
                               int32_t partition, std::string* out) {
  return schema::SpliceJsonMembers(record.value.value_or(""), out, [&](schema::JsonMembers& m) {
    if (columns.key != RecordColumns::Bytes::kNone)
      NOBUS_RETURN_IF_ERROR(AppendBytes(columns.key, record.key, "key", m.Member(kKeyColumn)));
    if (columns.timestamp != RecordColumns::Time::kNone) {
      const bool micros = columns.timestamp == RecordColumns::Time::kMicros;
      m.Member(kTimestampColumn)
          ->append(std::to_string(micros ? record.timestamp_ms * 1000 : record.timestamp_ms));
    }
    if (columns.headers != RecordColumns::Bytes::kNone) {
      std::string* out = m.Member(kHeadersColumn);
      std::map<std::string_view, std::optional<std::string_view>> last;  // repeated: last wins
      for (const RecordHeader& h : record.headers) last.insert_or_assign(h.key, h.value);
      out->push_back('{');
      bool first_header = true;
      for (const auto& [name, v] : last) {
        if (!first_header) out->push_back(',');
        first_header = false;
        if (!simdjson::validate_utf8(name.data(), name.size()))
          return absl::InvalidArgumentError("a header name of the record is not UTF-8 text");
        schema::AppendJsonString(name, out);
        out->push_back(':');
        NOBUS_RETURN_IF_ERROR(AppendBytes(columns.headers, v, Cat("header '", name, "'"), out));
      }
      out->push_back('}');
    }
    if (columns.partition) m.Member(kPartitionColumn)->append(std::to_string(partition));
    return absl::OkStatus();
  });
}

}  // namespace nobus::kafka
