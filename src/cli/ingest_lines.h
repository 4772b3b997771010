// Input side of `nobus ingest` (ingest_command.cc): reads a JSON-lines file or stdin, skips blank
// lines, checks that every other line is one JSON object (simdjson; lines that are not are
// reported by number and skipped), and packs the valid lines into request-sized batches.
//
// Lifecycle: one LineSource per input, read to the end by one thread. Thread-safety: only
// bytes_read() may be called from other threads (the progress display). FailureLog is
// thread-compatible (used from the main thread only).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/progress.h"
#include "common/status.h"

namespace nobus::cli {

// Lines to send as one ingest_record_batch request, or (when `single`) as one request per line.
struct Pending {
  std::vector<int64_t> lines;  // 1-based line numbers, parallel to records
  std::vector<std::string> records;
  int64_t bytes = 0;  // sum of the records' sizes
  bool single = false;
};

// Lines that did not land, each reported once with its reason (on stderr, above the progress bar).
class FailureLog {
 public:
  explicit FailureLog(Progress* progress) : progress_(progress) {}
  void Add(int64_t line, const std::string& message) {
    lines_.push_back(line);
    progress_->Message(message);
  }
  void Note(const std::string& message) { progress_->Message(message); }
  const std::vector<int64_t>& lines() const { return lines_; }

 private:
  Progress* progress_;
  std::vector<int64_t> lines_;
};

// "line 17" or "lines 1001-2000 (a batch of 1000 records)".
std::string LineRange(const std::vector<int64_t>& lines);

class LineSource {
 public:
  // Records larger than this cannot be sent (the server's 10 MiB message limit, minus framing).
  static constexpr int64_t kMaxRecordBytes = (10 << 20) - 1024;
  static constexpr int64_t kMaxBatchBytes = 1 << 20;

  // `path` "-" reads stdin. InvalidArgument when the file cannot be opened (a usage error).
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<LineSource>> Open(const std::string& path,
                                                                        int64_t batch_size,
                                                                        FailureLog* failures);
  ~LineSource();
  LineSource(const LineSource&) = delete;
  LineSource& operator=(const LineSource&) = delete;

  // The next batch of valid lines (up to batch_size records and kMaxBatchBytes, at least one
  // record); false at the end of the input.
  bool Next(Pending* out);

  // Exactly-once mode (ingest_exactly_once.h) reads line by line instead: the next line that is
  // not blank, unchecked (not counted as invalid, not reported); false at the end of the input.
  // Do not mix with Next.
  bool NextNonBlank(int64_t* line_no, std::string* line);
  // Why `line` cannot be sent as a record (not a JSON object, too large); empty when it can. May
  // grow `line`'s capacity (the parser's padding).
  std::string Problem(std::string& line);

  int64_t bytes_read() const { return bytes_read_.load(std::memory_order_relaxed); }
  int64_t total_bytes() const { return total_bytes_; }  // 0 when unknown (a pipe)
  int64_t lines_read() const { return line_no_; }
  int64_t invalid_lines() const { return invalid_; }

 private:
  LineSource(std::FILE* in, int64_t total_bytes, int64_t batch_size, FailureLog* failures);
  bool NextValid(int64_t* line_no, std::string* line);
  bool ReadLine(std::string* line);  // false at the end; strips the line ending
  bool Valid(std::string& line);
  void Add(Pending* out, int64_t line_no, std::string line);

  struct Parser;
  std::FILE* in_;
  const int64_t total_bytes_;
  const int64_t batch_size_;
  FailureLog* failures_;
  std::unique_ptr<Parser> parser_;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  bool eof_ = false;
  int64_t line_no_ = 0;
  std::atomic<int64_t> bytes_read_{0};
  int64_t invalid_ = 0;
  std::optional<std::pair<int64_t, std::string>> carry_;  // read, did not fit the last batch
};

}  // namespace nobus::cli
