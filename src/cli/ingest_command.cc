// `nobus ingest TABLE [FILE]`: streams a JSON-lines file (or stdin) into a table of a running
// nobusd (or any Zerobus endpoint) with the nobus SDK. Lines are checked locally (ingest_lines.h),
// packed into ingest_record_batch requests (up to --batch-size records or 1 MiB) and sent on one
// JSON stream. A line the server rejects (wrong type, missing NOT NULL column, ...) fails the
// stream with INVALID_ARGUMENT; the command then reports the batch, opens a new stream and sends
// that batch's lines one per request (which pins down the bad line, reported by number) followed
// by every later unacknowledged request, so one bad line never loses the others. The SDK itself
// reconnects and re-sends after retriable failures (delivery is at-least-once). With
// --stream-id-file / --stream-id the command runs the exactly-once mode instead
// (ingest_exactly_once.cc).
// Exit code: 0 = every line landed (durable), 1 = some lines failed or the server was unusable,
// 2 = usage error. A progress bar runs on stderr when it is a terminal.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/ingest.h"
#include "cli/ingest_lines.h"
#include "cli/progress.h"
#include "cli/remote.h"
#include "common/logging.h"
#include "common/status.h"
#include "nobus/client.h"

namespace nobus::cli {
namespace {

struct Totals {
  std::atomic<int64_t> landed_records{0};
  std::atomic<int64_t> landed_bytes{0};
};

// One request as sent on a stream: its lines, until it is acknowledged.
struct Sent {
  int64_t offset = -1;
  std::vector<int64_t> lines;
  int64_t bytes = 0;
  bool single = false;
};

// What one stream was sent and not yet acknowledged, in offset order. The ack callback (a gRPC
// thread) moves acknowledged requests into `totals`; the main thread pushes each request after
// Ingest handed out its offset (an ack may already cover it). Thread-safe.
class SentLog {
 public:
  explicit SentLog(Totals* totals) : totals_(totals) {}

  void Push(Sent sent) {
    std::lock_guard<std::mutex> lock(mu_);
    entries_.push_back(std::move(sent));
    DrainLocked();
  }
  void OnAck(int64_t durable_offset) {
    std::lock_guard<std::mutex> lock(mu_);
    durable_ = std::max(durable_, durable_offset);
    DrainLocked();
  }
  // The unacknowledged requests by offset (after the stream failed).
  std::map<int64_t, Sent> TakeUnacked() {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<int64_t, Sent> out;
    for (Sent& s : entries_) out.emplace(s.offset, std::move(s));
    entries_.clear();
    return out;
  }

 private:
  void DrainLocked() {
    while (!entries_.empty() && entries_.front().offset <= durable_) {
      totals_->landed_records += static_cast<int64_t>(entries_.front().lines.size());
      totals_->landed_bytes += entries_.front().bytes;
      entries_.pop_front();
    }
  }

  std::mutex mu_;
  Totals* const totals_;
  int64_t durable_ = -1;
  std::deque<Sent> entries_;
};

}  // namespace

std::string ExplainIngestError(const absl::Status& st, const IngestFlags& flags) {
  const std::string message(st.message());
  switch (st.code()) {
    case absl::StatusCode::kNotFound:
      return Cat(message, "\n  create the table first: nobus table create ", flags.table,
                 " --columns \"id BIGINT NOT NULL, ...\"");
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return Cat(message, "\n  pass --token (or set NOBUS_TOKEN) with a token that covers ",
                 flags.table);
    default:
      break;
  }
  if (IsNonRetriable(st)) return message;
  return Cat("cannot reach nobusd at ", flags.server, " (", message, ")\n  ",
             ReachHint(flags.server, message), " (see doc/server.md)");
}

namespace {

class IngestRun {
 public:
  IngestRun(const IngestFlags& flags, LineSource* source, FailureLog* failures)
      : flags_(flags), source_(source), failures_(failures) {}

  // Ingests everything; true when every line that was read landed.
  bool Run(const nobus::Client& client) {
    while (true) {
      absl::Status st = OneStream(client);
      if (st.ok()) return true;
      if (!Recover(st)) return false;
    }
  }

  const Totals& totals() const { return totals_; }
  int64_t rejected_by_server() const { return rejected_by_server_; }
  int64_t not_landed() const { return not_landed_; }

 private:
  // Opens a stream; sends the retry queue, then the rest of the input; closes. OK when all of it
  // landed. On failure the requests that were not acknowledged are in unacked_ and unsent_.
  absl::Status OneStream(const nobus::Client& client) {
    auto log = std::make_shared<SentLog>(&totals_);
    nobus::StreamOptions options;
    options.coalesce_records = false;  // one Ingest = one request: a rejection names one line
    options.recovery_backoff_ms = 1000;
    if (!flags_.token.empty())
      options.headers_provider = nobus::BearerTokenHeaders(flags_.token, flags_.table);
    options.ack_callback = [log](const nobus::AckEvent& ack) { log->OnAck(ack.durable_offset); };
    absl::StatusOr<std::unique_ptr<nobus::Stream>> stream =
        client.CreateStream(nobus::TableProperties::Json(flags_.table), options);
    if (!stream.ok()) return stream.status();
    Pending p;
    bool sent_all = true;
    while (sent_all && NextPending(&p)) sent_all = Send(**stream, *log, std::move(p));
    absl::Status st = sent_all ? (*stream)->Close() : (*stream)->status();
    if (st.ok()) return st;
    unacked_ = (*stream)->GetUnackedBatches();
    unacked_lines_ = log->TakeUnacked();
    return st;
  }

  bool NextPending(Pending* p) {
    if (retry_.empty()) return source_->Next(p);
    *p = std::move(retry_.front());
    retry_.pop_front();
    return true;
  }

  // Sends `p` (one request, or one per line). False when the stream failed; what was not sent
  // is then in unsent_.
  bool Send(nobus::Stream& stream, SentLog& log, Pending p) {
    const size_t requests = p.single ? p.records.size() : 1;
    for (size_t i = 0; i < requests; ++i) {
      absl::StatusOr<int64_t> offset =
          p.single ? stream.Ingest(p.records[i]) : stream.IngestBatch(std::span(p.records));
      if (!offset.ok() && stream.status().ok()) {  // refused locally; the stream is fine
        RejectedLocally(p, i, offset.status());
        continue;
      }
      if (!offset.ok()) {
        const size_t from = p.single ? i : 0;
        unsent_ = Rest(std::move(p), from);
        return false;
      }
      Sent sent{*offset, p.lines, p.bytes, p.single};
      if (p.single) {
        sent.lines = {p.lines[i]};
        sent.bytes = static_cast<int64_t>(p.records[i].size());
      }
      log.Push(std::move(sent));
    }
    return true;
  }

  static Pending Rest(Pending p, size_t from) {
    Pending rest;
    rest.single = p.single;
    for (size_t i = from; i < p.records.size(); ++i) {
      rest.lines.push_back(p.lines[i]);
      rest.bytes += static_cast<int64_t>(p.records[i].size());
      rest.records.push_back(std::move(p.records[i]));
    }
    return rest;
  }

  void RejectedLocally(Pending& p, size_t i, const absl::Status& st) {
    if (p.single) {
      failures_->Add(p.lines[i], Cat("line ", p.lines[i], ": ", st.message()));
    } else {  // a batch the SDK refused (cannot happen with 1 MiB batches): try line by line
      p.single = true;
      retry_.push_front(std::move(p));
    }
  }

  bool Recover(const absl::Status& st);
  void Abort(const absl::Status& st);

  const IngestFlags& flags_;
  LineSource* source_;
  FailureLog* failures_;
  Totals totals_;
  std::deque<Pending> retry_;  // to send before reading on
  Pending unsent_;
  std::vector<nobus::UnackedBatch> unacked_;
  std::map<int64_t, Sent> unacked_lines_;
  int64_t rejected_by_server_ = 0;
  int64_t not_landed_ = 0;
};

// After a failed stream: queues every unacknowledged request again, in order. A record rejection
// (INVALID_ARGUMENT) blames the first unacknowledged request: one line is reported and dropped, a
// batch is split into one request per line. True = open a new stream and go on.
bool IngestRun::Recover(const absl::Status& st) {
  const bool rejection = st.code() == absl::StatusCode::kInvalidArgument && IsNonRetriable(st) &&
                         !unacked_.empty();
  std::deque<Pending> again;
  for (nobus::UnackedBatch& b : unacked_) {
    auto it = unacked_lines_.find(b.offset);
    if (it == unacked_lines_.end() || it->second.lines.size() != b.records.size()) {
      Abort(absl::InternalError(Cat("request ", b.offset, " is unknown to nobus ingest (a bug)")));
      return false;
    }
    Pending p{std::move(it->second.lines), std::move(b.records), it->second.bytes,
              it->second.single};
    if (rejection && &b == &unacked_.front()) {
      if (p.lines.size() == 1) {
        ++rejected_by_server_;
        failures_->Add(p.lines[0], Cat("line ", p.lines[0], ": rejected by the server: ",
                                       st.message()));
        continue;
      }
      failures_->Note(Cat(LineRange(p.lines), ": rejected by the server: ", st.message(),
                          "\n  sending these lines one per request to find the bad one(s)"));
      p.single = true;
    }
    again.push_back(std::move(p));
  }
  if (!unsent_.records.empty()) again.push_back(std::move(unsent_));
  unsent_ = Pending{};
  unacked_.clear();
  unacked_lines_.clear();
  for (Pending& p : retry_) again.push_back(std::move(p));
  retry_ = std::move(again);
  if (rejection) return true;
  Abort(st);
  return false;
}

void IngestRun::Abort(const absl::Status& st) {
  int64_t first = -1;
  for (const Pending& p : retry_) {
    not_landed_ += static_cast<int64_t>(p.lines.size());
    for (int64_t line : p.lines) first = first < 0 ? line : std::min(first, line);
  }
  std::string what = Cat("nobus ingest: ", ExplainIngestError(st, flags_));
  if (not_landed_ > 0) {
    what += Cat("\n  ", not_landed_, " lines read were not acknowledged (from line ", first,
                "); the input was read up to line ", source_->lines_read(),
                ". Lines sent but not acknowledged may still have landed: ingesting them again "
                "can duplicate them.");
  }
  failures_->Note(what);
}

std::string Rate(double count, double seconds) {
  return seconds > 0 ? WithThousands(static_cast<int64_t>(count / seconds)) : "-";
}

// Prints the summary on stdout; returns the exit code.
int PrintSummary(const IngestFlags& flags, const IngestRun& run, const LineSource& source,
                 const FailureLog& failures, bool finished, double seconds) {
  const double records = static_cast<double>(run.totals().landed_records.load());
  const double bytes = static_cast<double>(run.totals().landed_bytes.load());
  std::printf("%s records (%s) landed in %s in %.2f s: %s records/s, %s/s\n",
              WithThousands(static_cast<int64_t>(records)).c_str(), HumanBytes(bytes).c_str(),
              flags.table.c_str(), seconds, Rate(records, seconds).c_str(),
              HumanBytes(seconds > 0 ? bytes / seconds : 0).c_str());
  std::vector<int64_t> lines = failures.lines();
  std::sort(lines.begin(), lines.end());
  if (!lines.empty()) {
    std::string list;
    for (size_t i = 0; i < lines.size() && i < 20; ++i) list += Cat(i ? ", " : "", lines[i]);
    if (lines.size() > 20) list += ", ...";
    std::printf("%zu %s failed (%lld not a JSON object, %lld rejected by the server): %s\n",
                lines.size(), lines.size() == 1 ? "line" : "lines",
                static_cast<long long>(source.invalid_lines()),
                static_cast<long long>(run.rejected_by_server()), list.c_str());
    if (flags.file != "-" && lines.size() <= 20) {
      std::string script;
      for (int64_t l : lines) script += Cat(script.empty() ? "" : ";", l, "p");
      std::printf("fix them in %s, then ingest just those lines: sed -n '%s' %s | nobus ingest %s\n",
                  flags.file.c_str(), script.c_str(), flags.file.c_str(), flags.table.c_str());
    }
  }
  if (!finished) {
    std::printf("stopped early (see the error above)%s\n",
                run.not_landed() > 0
                    ? Cat(": ", run.not_landed(), " lines read were not acknowledged").c_str()
                    : "");
  }
  return lines.empty() && finished ? 0 : 1;
}

bool ValidTableName(const std::string& name) {
  size_t d1 = name.find('.');
  size_t d2 = d1 == std::string::npos ? d1 : name.find('.', d1 + 1);
  return d2 != std::string::npos && d1 > 0 && d2 > d1 + 1 && d2 + 1 < name.size() &&
         name.find('.', d2 + 1) == std::string::npos;
}

int RunIngest(const IngestFlags& flags) {
  spdlog::set_level(spdlog::level::err);  // the SDK's warnings repeat what is reported below
  if (!ValidTableName(flags.table)) {
    std::fprintf(stderr, "nobus ingest: table name '%s' must have three parts: "
                 "catalog.schema.table\n", flags.table.c_str());
    return 2;
  }
  if (flags.wait_committed && !flags.exactly_once()) {
    std::fprintf(stderr, "nobus ingest: --wait-committed needs --stream-id-file or --stream-id "
                 "(commit reports come on persistent streams)\n");
    return 2;
  }
  if (flags.exactly_once()) return RunExactlyOnceIngest(flags);
  absl::StatusOr<std::unique_ptr<nobus::Client>> client = SdkClient(flags.server);
  if (!client.ok()) {
    std::fprintf(stderr, "nobus ingest: --server %s: %s\n", flags.server.c_str(),
                 std::string(client.status().message()).c_str());
    return 2;
  }
  // Set before progress.Start(), which runs the sampler on its own thread.
  const IngestRun* run_ptr = nullptr;
  const LineSource* source_ptr = nullptr;
  Progress progress(
      [&] {
        ProgressSample s;
        s.records = run_ptr->totals().landed_records.load();
        s.bytes = run_ptr->totals().landed_bytes.load();
        s.input_done = source_ptr->bytes_read();
        s.input_total = source_ptr->total_bytes();
        return s;
      },
      Progress::StderrIsTerminal());
  FailureLog failures(&progress);
  absl::StatusOr<std::unique_ptr<LineSource>> source =
      LineSource::Open(flags.file, flags.batch_size, &failures);
  if (!source.ok()) {
    std::fprintf(stderr, "nobus ingest: %s\n", std::string(source.status().message()).c_str());
    return 2;
  }
  IngestRun run(flags, source->get(), &failures);
  run_ptr = &run;
  source_ptr = source->get();
  const auto start = std::chrono::steady_clock::now();
  progress.Start();
  const bool finished = run.Run(**client);
  progress.Stop();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return PrintSummary(flags, run, **source, failures, finished, seconds);
}

}  // namespace

void RegisterIngestCommand(CLI::App& app) {
  static IngestFlags flags;
  auto* cmd = app.add_subcommand(
      "ingest",
      "Stream a JSON-lines file (one JSON object per line) into a table of a running nobusd.");
  cmd->footer(
      "Each line is one row: its keys are column names. Lines that are not JSON objects, or that\n"
      "the server rejects (wrong type, missing NOT NULL column), are reported with their line\n"
      "number and skipped; every other line lands. Delivery is at-least-once: after a lost\n"
      "connection a batch may land twice. Exit code: 0 all lines landed, 1 some failed or the\n"
      "server was unusable, 2 usage error.\n\n"
      "Exactly-once (resumable) mode: --stream-id-file PATH (or --stream-id ID) sends FILE on a\n"
      "persistent stream, one line per request, the n-th non-blank line under offset n-1. PATH\n"
      "holds the stream's id: when it does not exist a new stream is created and its id saved\n"
      "there before any line is sent; when it does, that stream is resumed. A run that was\n"
      "interrupted (killed, server down) is completed by running the same command again: lines\n"
      "the server already has are skipped, none lands twice. This mode needs a FILE (not stdin)\n"
      "and stops at the first line that cannot land (not a JSON object, rejected by the server):\n"
      "fix that line in place and run again. Lines that landed must not change; appending lines\n"
      "and running again sends the new ones. --wait-committed then waits until the server reports\n"
      "the rows committed to the Delta table and prints the table version.\n\n"
      "Examples:\n"
      "  nobus table create main.default.events --columns \"id BIGINT NOT NULL, msg STRING\"\n"
      "  nobus ingest main.default.events events.jsonl\n"
      "  gunzip -c events.jsonl.gz | nobus ingest main.default.events -\n"
      "  nobus ingest main.default.events events.jsonl --server http://host:7070 --token T\n"
      "  nobus ingest main.default.events events.jsonl --stream-id-file events.stream "
      "--wait-committed");
  cmd->add_option("table", flags.table, "Target table: catalog.schema.table")->required();
  cmd->add_option("file", flags.file, "JSON-lines file; - or absent reads stdin")
      ->capture_default_str();
  cmd->add_option("--server", flags.server, "nobusd gRPC endpoint (https:// for TLS)")
      ->capture_default_str()
      ->envname("NOBUS_GRPC_SERVER");
  AddCaCertOption(cmd);
  cmd->add_option("--token", flags.token, "Bearer token (when the server requires one)")
      ->envname("NOBUS_TOKEN");
  auto* batch = cmd->add_option("--batch-size", flags.batch_size,
                                "Records per request (a request is also capped at 1 MiB); not "
                                "with --stream-id-file/--stream-id, which send one per request")
                    ->capture_default_str()
                    ->check(CLI::Range(int64_t{1}, int64_t{100'000}));
  auto* id_file = cmd->add_option(
      "--stream-id-file", flags.stream_id_file,
      "Exactly-once, resumable: the file holding the persistent stream's id; created with a new "
      "stream if missing, resumed if present");
  auto* id = cmd->add_option("--stream-id", flags.stream_id,
                             "Exactly-once, resumable: resume this persistent stream id (as saved "
                             "by --stream-id-file or printed by an earlier run)");
  id_file->excludes(id);
  batch->excludes(id_file)->excludes(id);
  cmd->add_flag("--wait-committed", flags.wait_committed,
                "With --stream-id-file/--stream-id: after every line is durable, wait until the "
                "server reports the rows committed to the Delta table; print the table version");
  cmd->callback([] { SetExitCode(RunIngest(flags)); });
}

}  // namespace nobus::cli
