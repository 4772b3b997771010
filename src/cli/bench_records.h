// Records for `nobus bench` (bench_command.cc): the bench table's schema and a generator of JSON
// or protobuf records of an exact size. Each record carries its stream number, a per-stream
// sequence number, optionally the same number again as `probe` (only the first stream of each
// table sets it: the Delta file statistics of `probe` then say exactly which commit holds which of
// that stream's records, see bench_watch.h), and a payload of printable pseudo-random text (so the
// Parquet files compress like real text, not like a run of one byte).
//
// Thread-safety: a RecordMaker is used by one thread at a time; the schema helpers are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "nobus/table.h"

namespace nobus::cli::bench {

enum class Format { kJson, kProto };

// Columns of every bench table, as SQL (for `nobus table create`) and in creation order.
inline constexpr const char* kBenchColumnsDdl =
    "stream INT NOT NULL, seq BIGINT NOT NULL, probe BIGINT, payload STRING NOT NULL";

// Stream properties for `table`: JSON, or protobuf with the descriptor of the bench message.
TableProperties BenchTableProperties(const std::string& table, Format format);

class RecordMaker {
 public:
  // `record_bytes`: the size of every record (JSON text or protobuf encoding); records cannot be
  // smaller than their fixed fields (about 80 bytes for JSON), smaller sizes get that minimum.
  RecordMaker(Format format, int64_t record_bytes, int32_t stream, bool probe);

  // The record with sequence number `seq`. Valid until the next call.
  std::string_view Make(int64_t seq);

 private:
  std::string_view MakeJson(int64_t seq);
  std::string_view MakeProto(int64_t seq);
  // Where a payload of `len` bytes for `seq` starts in text_.
  size_t TextOffset(int64_t seq, size_t len) const;

  const Format format_;
  const int64_t record_bytes_;
  const int32_t stream_;
  const bool probe_;
  const std::string& text_;  // payload source (shared by all makers), read at a moving offset
  const uint64_t text_shift_;
  std::string json_;      // JSON template; numbers are rewritten in place
  size_t seq_at_ = 0;     // where seq's fixed-width field starts in json_
  size_t probe_at_ = 0;
  size_t payload_at_ = 0;
  size_t payload_len_ = 0;
  std::string proto_;
};

}  // namespace nobus::cli::bench
