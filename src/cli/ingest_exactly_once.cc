// `nobus ingest TABLE FILE --stream-id-file PATH | --stream-id ID`: exactly-once, resumable
// ingest (ingest.h). The n-th non-blank line of FILE is request n-1 of a persistent stream, one
// record per request, so an offset always names the same line. On start the stream is created
// (its id saved in PATH before any line is sent) or resumed; the server's watermark W says
// requests 0..W are stored, so the first W+1 non-blank lines are skipped without parsing and the
// rest are sent. The SDK resumes the same id after every reconnect, so nothing lands twice. The
// run stops at the first line that cannot land (not a JSON object, too large, rejected by the
// server) once everything before it is durable: an offset cannot be skipped, so the user fixes
// that line in place and runs the command again.
#include <chrono>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>

#include "cli/ingest.h"
#include "cli/ingest_lines.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "common/logging.h"
#include "nobus/client.h"

namespace nobus::cli {
namespace {

// Line numbers of the requests sent and not yet known durable, by offset (to name a rejected
// line). Main thread only.
class LineMap {
 public:
  void Push(int64_t offset, int64_t line) {
    if (lines_.empty()) first_ = offset;
    lines_.push_back(line);
  }
  void Forget(int64_t durable) {
    while (!lines_.empty() && first_ <= durable) {
      lines_.pop_front();
      ++first_;
    }
  }
  int64_t LineOf(int64_t offset) const {
    if (offset < first_ || offset >= first_ + static_cast<int64_t>(lines_.size())) return -1;
    return lines_[static_cast<size_t>(offset - first_)];
  }

 private:
  std::deque<int64_t> lines_;
  int64_t first_ = 0;
};

// Where a run stopped before the end of FILE, and why.
struct Stop {
  absl::Status failure;      // the stream's error, or a local one (then `line_problem` says it)
  std::string line_problem;  // why a line cannot be sent, or a local error, said as it is
  int64_t line = -1;         // the line to fix, when known
};

class ExactlyOnceRun {
 public:
  ExactlyOnceRun(const IngestFlags& flags, nobus::Stream* stream, LineSource* source)
      : flags_(flags), stream_(stream), source_(source) {}

  // Sends FILE after the watermark, flushes, waits for the commit report if asked, closes.
  Stop Run() {
    Stop stop = Send();
    if (stop.failure.ok() && stop.line_problem.empty()) stop.failure = stream_->Flush();
    if (stop.failure.ok() && stop.line_problem.empty() && flags_.wait_committed)
      WaitCommitted(&stop);
    absl::Status closed = stream_->Close();
    if (stop.failure.ok() && stop.line_problem.empty()) stop.failure = closed;
    // Lines before a bad one did not all land: report that; a rerun finds the bad line again.
    if (!closed.ok() && stop.failure.ok() && !stop.line_problem.empty()) {
      stop.failure = closed;
      stop.line_problem.clear();
      stop.line = -1;
    }
    if (!stop.failure.ok() && stop.line < 0) stop.line = RejectedLine(stop.failure);
    return stop;
  }

  int64_t skipped() const { return skipped_; }
  int64_t table_version() const { return table_version_; }
  bool sent_any() const { return last_sent_ >= 0; }

 private:
  Stop Send() {
    const int64_t watermark = stream_->resume_watermark();
    int64_t offset = -1, line_no = 0;
    std::string line;
    while (source_->NextNonBlank(&line_no, &line)) {
      if (++offset <= watermark) {
        ++skipped_;
        continue;
      }
      std::string problem = source_->Problem(line);
      if (!problem.empty()) return Stop{{}, Cat("line ", line_no, ": ", problem), line_no};
      absl::StatusOr<int64_t> sent = stream_->Ingest(line);
      if (!sent.ok()) return Stop{sent.status(), "", -1};
      if (*sent != offset) {
        std::string bug = Cat("line ", line_no, " got offset ", *sent, " instead of ", offset,
                              " (a bug in nobus ingest)");
        return Stop{absl::InternalError(bug), bug, -1};
      }
      lines_.Push(offset, line_no);
      last_sent_ = offset;
      if ((offset & 4095) == 0) lines_.Forget(stream_->Stats().durable_offset);
    }
    if (offset < watermark) {
      std::string shorter = Cat("stream ", stream_->stream_id(), " holds ", watermark + 1,
                                " lines but ", flags_.file, " has only ", offset + 1,
                                " non-blank lines: is this the file the stream was created for?");
      return Stop{absl::FailedPreconditionError(shorter), shorter, -1};
    }
    return Stop{};
  }

  void WaitCommitted(Stop* stop) {
    if (!sent_any()) return;  // nothing new: no commit of this run to report
    absl::StatusOr<int64_t> version = stream_->WaitForCommit(last_sent_);
    if (version.ok()) {
      table_version_ = *version;
    } else {
      stop->failure = version.status();
    }
  }

  // The line of the first unacknowledged request when the server rejected it.
  int64_t RejectedLine(const absl::Status& st) const {
    if (st.code() != absl::StatusCode::kInvalidArgument || !IsNonRetriable(st)) return -1;
    std::vector<nobus::UnackedBatch> unacked = stream_->GetUnackedBatches();
    return unacked.empty() ? -1 : lines_.LineOf(unacked.front().offset);
  }

  const IngestFlags& flags_;
  nobus::Stream* const stream_;
  LineSource* const source_;
  LineMap lines_;
  int64_t skipped_ = 0;
  int64_t last_sent_ = -1;
  int64_t table_version_ = -1;
};

std::string StopAdvice(const Stop& stop, const IngestFlags& flags, const std::string& id) {
  const std::string again =
      "run the same command again to continue: lines the server already has are not sent again";
  if (!stop.failure.ok() && !stop.line_problem.empty()) return stop.line_problem;  // local
  if (stop.failure.ok())
    return Cat(stop.line_problem, "\n  every line before it landed. Fix line ", stop.line, " in ",
               flags.file, " (keep every line where it is) and ", again);
  const absl::Status& st = stop.failure;
  const std::string message(st.message());
  if (stop.line > 0 && st.code() == absl::StatusCode::kInvalidArgument)
    return Cat("line ", stop.line, ": rejected by the server: ", message,
               "\n  every line before it landed. Fix line ", stop.line, " in ", flags.file,
               " (keep every line where it is) and ", again);
  if (st.code() == absl::StatusCode::kAborted)
    return Cat(message, "\n  another producer (another `nobus ingest` with stream ", id,
               "?) took the stream over, or it was retired; this run stopped");
  if (st.code() == absl::StatusCode::kFailedPrecondition)
    return Cat(message, "\n  stream ", id, " cannot continue. A new stream (delete ",
               flags.stream_id_file.empty() ? "the id" : flags.stream_id_file,
               ") sends ", flags.file, " from its first line: rows that landed would land again");
  std::string explained = ExplainIngestError(st, flags);
  return IsNonRetriable(st) ? explained : Cat(explained, "\n  ", again);
}

// Bytes of the records acknowledged so far (exact once every record is).
int64_t LandedBytes(const nobus::StreamStats& st) {
  return st.records_ingested > 0 ? st.bytes_ingested * st.records_durable / st.records_ingested
                                 : 0;
}

// Opens the stream: resumes --stream-id or the id in --stream-id-file, or creates one and saves
// its id first.
absl::StatusOr<std::unique_ptr<nobus::Stream>> OpenPersistent(const nobus::Client& client,
                                                             const IngestFlags& flags,
                                                             const nobus::StreamOptions& options) {
  std::string id = flags.stream_id;
  if (id.empty()) {
    NOBUS_ASSIGN_OR_RETURN(id, ReadStreamIdFile(env::PosixFileSystem(), flags.stream_id_file));
  }
  const auto table = nobus::TableProperties::Json(flags.table);
  if (!id.empty()) return client.ResumePersistentStream(table, id, options);
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<nobus::Stream> stream,
                         client.CreatePersistentStream(table, options));
  absl::Status saved =
      WriteStreamIdFile(env::PosixFileSystem(), flags.stream_id_file, stream->stream_id());
  if (!saved.ok())
    return nobus::MakeNonRetriable(
        Annotate(saved, Cat("saving the new stream's id in ", flags.stream_id_file)));
  std::fprintf(stderr, "nobus ingest: created persistent stream %s (id saved in %s)\n",
               stream->stream_id().c_str(), flags.stream_id_file.c_str());
  return stream;
}

}  // namespace

int RunExactlyOnceIngest(const IngestFlags& flags) {
  if (flags.file == "-") {
    std::fprintf(stderr, "nobus ingest: --stream-id-file/--stream-id need a FILE, not stdin (a "
                 "resumed run reads it again from the start)\n");
    return 2;
  }
  absl::StatusOr<std::unique_ptr<nobus::Client>> client = SdkClient(flags.server);
  Progress quiet([] { return ProgressSample{}; }, false);
  FailureLog unused(&quiet);
  absl::StatusOr<std::unique_ptr<LineSource>> source =
      client.ok() ? LineSource::Open(flags.file, 1, &unused) : client.status();
  if (!source.ok()) {
    std::fprintf(stderr, "nobus ingest: %s\n", std::string(source.status().message()).c_str());
    return 2;
  }
  nobus::StreamOptions options;
  options.recovery_backoff_ms = 1000;
  options.commit_acks = flags.wait_committed;
  if (!flags.token.empty())
    options.headers_provider = nobus::BearerTokenHeaders(flags.token, flags.table);
  absl::StatusOr<std::unique_ptr<nobus::Stream>> stream = OpenPersistent(**client, flags, options);
  if (!stream.ok()) {
    Stop stop{stream.status(), "", -1};
    std::fprintf(stderr, "nobus ingest: %s\n",
                 StopAdvice(stop, flags, flags.stream_id).c_str());
    return 1;
  }
  nobus::Stream* s = stream->get();
  const std::string id = s->stream_id();
  if (s->resume_watermark() >= 0)
    std::fprintf(stderr, "nobus ingest: resumed stream %s: the server has the first %s "
                 "non-blank lines; sending the rest\n", id.c_str(),
                 WithThousands(s->resume_watermark() + 1).c_str());
  Progress progress(
      [&] {
        nobus::StreamStats st = s->Stats();
        ProgressSample p;
        p.records = st.records_durable;
        p.bytes = LandedBytes(st);
        p.input_done = (*source)->bytes_read();
        p.input_total = (*source)->total_bytes();
        return p;
      },
      Progress::StderrIsTerminal());
  ExactlyOnceRun run(flags, s, source->get());
  const auto start = std::chrono::steady_clock::now();
  progress.Start();
  Stop stop = run.Run();
  progress.Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const nobus::StreamStats st = s->Stats();
  std::printf("%s records (%s) landed in %s in %.2f s exactly once (stream %s)",
              WithThousands(st.records_durable).c_str(),
              HumanBytes(static_cast<double>(LandedBytes(st))).c_str(),
              flags.table.c_str(), seconds, id.c_str());
  if (run.skipped() > 0)
    std::printf("; %s lines had landed in earlier runs", WithThousands(run.skipped()).c_str());
  std::printf("\n");
  const bool finished = stop.failure.ok() && stop.line_problem.empty();
  if (finished && flags.wait_committed) {
    if (run.sent_any()) {
      std::printf("committed to the table at version %lld\n",
                  static_cast<long long>(run.table_version()));
    } else {
      std::printf("nothing new to send; the server reports commits only of rows sent on a "
                  "connected stream\n");
    }
  }
  if (finished) return 0;
  std::fprintf(stderr, "nobus ingest: %s\n", StopAdvice(stop, flags, id).c_str());
  std::printf("stopped early (see the error above)\n");
  return 1;
}

absl::StatusOr<std::string> ReadStreamIdFile(env::FileSystem* fs, const std::string& path) {
  if (!fs->Exists(path)) return std::string();
  NOBUS_ASSIGN_OR_RETURN(std::string text, env::ReadFile(fs, path));
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return std::string();
  const size_t end = text.find_last_not_of(" \t\r\n");
  std::string id = text.substr(begin, end - begin + 1);
  if (id.find_first_of(" \t\r\n") != std::string::npos)
    return absl::InvalidArgumentError(
        Cat(path, " does not hold one stream id (it has several words); it should contain just "
                  "the id an earlier run saved"));
  return id;
}

absl::Status WriteStreamIdFile(env::FileSystem* fs, const std::string& path,
                               const std::string& id) {
  return fs->PutAtomically(path, Cat(id, "\n"));
}

}  // namespace nobus::cli
