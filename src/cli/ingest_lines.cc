#include "cli/ingest_lines.h"

#include <simdjson.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace nobus::cli {
namespace {

std::string Snippet(const std::string& text) {
  return text.size() <= 80 ? text : text.substr(0, 77) + "...";
}

}  // namespace

std::string LineRange(const std::vector<int64_t>& lines) {
  if (lines.size() == 1) return Cat("line ", lines[0]);
  return Cat("lines ", lines.front(), "-", lines.back(), " (a batch of ", lines.size(),
             " records)");
}

struct LineSource::Parser {
  simdjson::dom::parser parser;
};

absl::StatusOr<std::unique_ptr<LineSource>> LineSource::Open(const std::string& path,
                                                             int64_t batch_size,
                                                             FailureLog* failures) {
  std::FILE* in = stdin;
  if (path != "-") {
    in = std::fopen(path.c_str(), "rb");
    if (in == nullptr)
      return absl::InvalidArgumentError(
          Cat("cannot open ", path, ": ", std::strerror(errno), " (pass a JSON-lines file, or - ",
              "for stdin)"));
  }
  struct stat st {};
  int64_t total = 0;
  if (::fstat(::fileno(in), &st) == 0 && S_ISREG(st.st_mode)) total = st.st_size;
  return std::unique_ptr<LineSource>(new LineSource(in, total, batch_size, failures));
}

LineSource::LineSource(std::FILE* in, int64_t total_bytes, int64_t batch_size,
                       FailureLog* failures)
    : in_(in),
      total_bytes_(total_bytes),
      batch_size_(batch_size),
      failures_(failures),
      parser_(std::make_unique<Parser>()) {}

LineSource::~LineSource() {
  if (in_ != stdin) std::fclose(in_);
  std::free(buf_);
}

bool LineSource::Next(Pending* out) {
  *out = Pending{};
  if (carry_) {
    Add(out, carry_->first, std::move(carry_->second));
    carry_.reset();
  }
  int64_t line_no = 0;
  std::string line;
  while (static_cast<int64_t>(out->records.size()) < batch_size_ && NextValid(&line_no, &line)) {
    if (!out->records.empty() && out->bytes + static_cast<int64_t>(line.size()) > kMaxBatchBytes) {
      carry_.emplace(line_no, std::move(line));
      break;
    }
    Add(out, line_no, std::move(line));
  }
  return !out->records.empty();
}

bool LineSource::ReadLine(std::string* line) {
  if (eof_) return false;
  ssize_t n = ::getline(&buf_, &cap_, in_);
  if (n < 0) {
    eof_ = true;
    return false;
  }
  ++line_no_;
  bytes_read_.fetch_add(n, std::memory_order_relaxed);
  line->assign(buf_, static_cast<size_t>(n));
  while (!line->empty() && (line->back() == '\n' || line->back() == '\r')) line->pop_back();
  return true;
}

bool LineSource::NextNonBlank(int64_t* line_no, std::string* line) {
  while (ReadLine(line)) {
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    *line_no = line_no_;
    return true;
  }
  return false;
}

bool LineSource::NextValid(int64_t* line_no, std::string* line) {
  while (NextNonBlank(line_no, line)) {
    if (Valid(*line)) return true;
  }
  return false;
}

std::string LineSource::Problem(std::string& line) {
  if (static_cast<int64_t>(line.size()) > kMaxRecordBytes)
    return Cat("record of ", line.size(), " bytes is larger than the 10 MiB message limit");
  line.reserve(line.size() + simdjson::SIMDJSON_PADDING);  // parse in place, no copy
  simdjson::dom::element doc;
  simdjson::error_code err = parser_->parser.parse(line).get(doc);
  if (err != simdjson::SUCCESS)
    return Cat("not a JSON object: ", simdjson::error_message(err), ": ", Snippet(line));
  if (doc.type() != simdjson::dom::element_type::OBJECT)
    return Cat("not a JSON object (expected one object per line): ", Snippet(line));
  return "";
}

bool LineSource::Valid(std::string& line) {
  std::string problem = Problem(line);
  if (problem.empty()) return true;
  ++invalid_;
  failures_->Add(line_no_, Cat("line ", line_no_, ": ", problem));
  return false;
}

void LineSource::Add(Pending* out, int64_t line_no, std::string line) {
  out->bytes += static_cast<int64_t>(line.size());
  out->lines.push_back(line_no);
  out->records.push_back(std::move(line));
}

}  // namespace nobus::cli
