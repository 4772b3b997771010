// The header payload of an ingest WAL record. Every accepted IngestService::Append is one WAL
// record of two payloads, {header, row blob}; the header names the table the rows belong to, so
// recovery can route them without any other state. Byte layout (doc/ingest.md "WAL record"):
//
//   u8 format version (1 or 2) | varint len, table name "catalog.schema.table" | varint len,
//   table id (Delta metaData.id) | varint num_rows
//   version 2 only (a persistent stream's request): | varint len, stream id | varint offset
//
// Records without a stream are written as version 1, so a WAL without persistent streams stays
// readable by older nobus.
//
// Pure functions, thread-safe. The decoder never trusts its input (payloads come from disk).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace nobus::table {

inline constexpr uint8_t kRecordHeaderVersion = 2;  // the newest this build reads

// Which persistent stream a request belongs to, and its offset (empty: an ephemeral request).
struct StreamMark {
  std::string stream_id;
  int64_t offset = -1;
  bool empty() const { return stream_id.empty(); }
};

struct RecordHeader {
  std::string table_name;  // "catalog.schema.table"
  std::string table_id;
  int64_t num_rows = 0;
  StreamMark stream;  // empty in version 1
};

std::string EncodeRecordHeader(std::string_view table_name, std::string_view table_id,
                               int64_t num_rows, const StreamMark& stream = {});
// DataLoss for malformed bytes; FailedPrecondition for a newer format version than this build
// understands (upgrade nobus).
[[nodiscard]] absl::StatusOr<RecordHeader> DecodeRecordHeader(std::string_view payload);

}  // namespace nobus::table
