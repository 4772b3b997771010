// Opt-in columns for what a Kafka record carries besides its value (doc/kafka.md "Key, headers,
// timestamp"). By default they are dropped, as Zerobus does; a table that has a top-level column of
// one of these names gets it filled from every record:
//
//   _kafka_key        STRING (the key as UTF-8 text) or BINARY (its bytes); null for a null key
//   _kafka_timestamp  TIMESTAMP / TIMESTAMP_NTZ, or BIGINT (milliseconds since the epoch): the
//                     record's timestamp (CreateTime as the producer set it)
//   _kafka_headers    MAP<STRING, STRING> or MAP<STRING, BINARY>: the headers (a repeated header
//                     name keeps its last value)
//   _kafka_partition  INT or BIGINT: the partition the record was produced to
//
// The record is then decoded as if its JSON object also held these fields, by the table's own JSON
// decoder: its rules (types, NOT NULL) and messages apply, and a value that names one of these
// columns itself is refused as a duplicate field. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "kafka/record_batch.h"
#include "schema/types.h"

namespace nobus::kafka {

inline constexpr std::string_view kKeyColumn = "_kafka_key";
inline constexpr std::string_view kTimestampColumn = "_kafka_timestamp";
inline constexpr std::string_view kHeadersColumn = "_kafka_headers";
inline constexpr std::string_view kPartitionColumn = "_kafka_partition";

struct RecordColumns {
  enum class Bytes { kNone, kText, kBase64 };  // how key / header values are written
  Bytes key = Bytes::kNone;
  Bytes headers = Bytes::kNone;
  enum class Time { kNone, kMicros, kMillis };
  Time timestamp = Time::kNone;
  bool partition = false;

  bool any() const {
    return key != Bytes::kNone || headers != Bytes::kNone || timestamp != Time::kNone || partition;
  }
};

// The columns of `schema` to fill; InvalidArgument naming the column, its type and the types it
// may have when one of the names has another type.
[[nodiscard]] absl::StatusOr<RecordColumns> FindRecordColumns(const schema::Schema& schema);

// `record`'s value with the fields of `columns` added to its top-level JSON object, into `out`.
// A value that is not a JSON object is copied as it is (the decoder names the problem).
// InvalidArgument naming the problem when a key or header must be text and is not UTF-8.
[[nodiscard]] absl::Status WithRecordColumns(const RecordColumns& columns, const Record& record,
                                             int32_t partition, std::string* out);

}  // namespace nobus::kafka
