#include "table/wal_record.h"

#include "common/coding.h"

namespace nobus::table {
namespace {

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

bool GetLengthPrefixed(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  if (!GetVarint64(in, &n) || n > in->size()) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

}  // namespace

std::string EncodeRecordHeader(std::string_view table_name, std::string_view table_id,
                               int64_t num_rows, const StreamMark& stream) {
  std::string out;
  out.reserve(3 + table_name.size() + table_id.size() + stream.stream_id.size() +
              2 * kMaxVarint64Bytes);
  out.push_back(static_cast<char>(stream.empty() ? 1 : 2));
  PutLengthPrefixed(&out, table_name);
  PutLengthPrefixed(&out, table_id);
  PutVarint64(&out, static_cast<uint64_t>(num_rows));
  if (!stream.empty()) {
    PutLengthPrefixed(&out, stream.stream_id);
    PutVarint64(&out, static_cast<uint64_t>(stream.offset));
  }
  return out;
}

absl::StatusOr<RecordHeader> DecodeRecordHeader(std::string_view payload) {
  if (payload.empty()) return absl::DataLossError("empty ingest record header");
  uint8_t version = static_cast<uint8_t>(payload[0]);
  if (version == 0 || version > kRecordHeaderVersion) {
    return absl::FailedPreconditionError(
        Cat("ingest record header has format version ", static_cast<int>(version),
            "; this nobus reads versions 1 to ", static_cast<int>(kRecordHeaderVersion),
            " (a newer nobus wrote this WAL: upgrade)"));
  }
  payload.remove_prefix(1);
  RecordHeader h;
  uint64_t rows = 0;
  uint64_t offset = 0;
  if (!GetLengthPrefixed(&payload, &h.table_name) || !GetLengthPrefixed(&payload, &h.table_id) ||
      !GetVarint64(&payload, &rows) || rows > INT64_MAX ||
      (version == 2 && (!GetLengthPrefixed(&payload, &h.stream.stream_id) ||
                        h.stream.stream_id.empty() || !GetVarint64(&payload, &offset) ||
                        offset > INT64_MAX)) ||
      !payload.empty()) {
    return absl::DataLossError("malformed ingest record header");
  }
  h.num_rows = static_cast<int64_t>(rows);
  if (version == 2) h.stream.offset = static_cast<int64_t>(offset);
  return h;
}

}  // namespace nobus::table
