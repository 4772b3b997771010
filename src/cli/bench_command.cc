// `nobus bench`: an end-to-end load benchmark against a running nobusd. Streams generated records
// (bench_records.h) into bench tables with the nobus SDK for a fixed time and prints ONE JSON line:
// records/s and MB/s acknowledged, ack latency percentiles (bench_stream.h), time-to-table
// percentiles (ack -> the Delta commit holding the record, bench_watch.h), client CPU, and nobusd's
// CPU and peak RSS when --server-pid is given. Progress notes go to stderr. bench/e2e_bench.sh runs
// the standard configurations; doc/performance.md has the figures and the method.
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/bench_disk.h"
#include "cli/bench_fleet.h"
#include "cli/bench_metrics.h"
#include "cli/bench_records.h"
#include "cli/bench_stats.h"
#include "cli/bench_stream.h"
#include "cli/bench_watch.h"
#include "cli/cli.h"
#include "cli/remote.h"
#include "common/status.h"
#include "nobus/client.h"

namespace nobus::cli {
namespace {

using bench::Format;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct BenchFlags {
  int64_t record_bytes = 1024;
  int64_t batch_size = 1;
  int64_t streams = 1;
  int64_t tables = 1;
  std::string driver = "sdk";
  int64_t channels = 4;
  double duration_s = 10;
  std::string format = "json";
  double rate = 0;
  std::string server = "http://127.0.0.1:7070";
  std::string http = "http://127.0.0.1:7071";
  std::string token;
  bool create_tables = false;
  bool persistent = false;
  std::string table_prefix = "main.bench.load_";
  int64_t server_pid = 0;
  double ttt_wait_s = 30;
  std::string disk_baseline;  // a directory: measure the disk instead of nobusd
  std::vector<int64_t> disk_chunk_bytes = {4096, 65536, 1 << 20};
};

constexpr const char* kTablesPath = "/api/2.1/unity-catalog/tables";

// GET (or, when missing and allowed, POST) one bench table; returns its storage_location.
absl::StatusOr<std::string> EnsureTable(const BenchFlags& flags, const std::string& name) {
  httplib::Client http = HttpClient(flags.http);
  http.set_connection_timeout(5);
  http.set_read_timeout(60);
  httplib::Headers headers;
  if (!flags.token.empty()) headers.emplace("Authorization", Cat("Bearer ", flags.token));
  httplib::Result res = http.Get(Cat(kTablesPath, "/", name), headers);
  if (!res)
    return absl::UnavailableError(Cat("cannot reach the nobusd HTTP API at ", flags.http, " (",
                                      httplib::to_string(res.error()), "): ",
                                      ReachHint(flags.http, httplib::to_string(res.error()))));
  if (res->status == 404 && flags.create_tables) {
    const size_t d1 = name.find('.'), d2 = name.find('.', d1 + 1);
    json body = {{"catalog_name", name.substr(0, d1)},
                 {"schema_name", name.substr(d1 + 1, d2 - d1 - 1)},
                 {"name", name.substr(d2 + 1)},
                 {"columns",
                  {{{"name", "stream"}, {"type_text", "int"}, {"nullable", false}},
                   {{"name", "seq"}, {"type_text", "bigint"}, {"nullable", false}},
                   {{"name", "probe"}, {"type_text", "bigint"}, {"nullable", true}},
                   {{"name", "payload"}, {"type_text", "string"}, {"nullable", false}}}}};
    res = http.Post(kTablesPath, headers, body.dump(), "application/json");
    if (!res) return absl::UnavailableError(Cat("create ", name, ": no answer from ", flags.http));
  }
  if (res->status == 404)
    return absl::NotFoundError(Cat("table ", name, " does not exist: pass --create-tables, or ",
                                   "create it: nobus table create ", name, " --columns \"",
                                   bench::kBenchColumnsDdl, "\""));
  json info = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status / 100 != 2 || !info.is_object())
    return absl::UnknownError(Cat("table ", name, ": HTTP ", res->status, ": ", res->body));
  std::string columns;
  for (const json& c : info.value("columns", json::array()))
    columns += Cat(columns.empty() ? "" : ",", c.value("name", ""));
  if (columns != "stream,seq,probe,payload")
    return absl::FailedPreconditionError(
        Cat("table ", name, " has columns (", columns, "), not the bench columns (",
            bench::kBenchColumnsDdl, "): drop it or pass another --table-prefix"));
  return info.value("storage_location", "");
}

struct RunOutcome {
  bench::LoadTotals totals;
  Clock::time_point start;
  double cpu_seconds = 0;
  std::optional<bench::ProcessFigures> server_before;
  absl::StatusOr<bench::PromHistogram> server_ack_before = absl::UnknownError("not scraped");
};

constexpr const char* kServerAckMetric = "nobus_ack_latency_seconds";

std::vector<bench::StreamConfig> StreamConfigs(const BenchFlags& flags) {
  std::vector<bench::StreamConfig> configs;
  for (int64_t i = 0; i < flags.streams; ++i) {
    bench::StreamConfig c;
    c.table_index = static_cast<size_t>(i % flags.tables);
    c.table = Cat(flags.table_prefix, c.table_index);
    c.stream = static_cast<int32_t>(i);
    c.probe = i < flags.tables;
    c.format = flags.format == "proto" ? Format::kProto : Format::kJson;
    c.record_bytes = flags.record_bytes;
    c.batch_size = flags.batch_size;
    c.rate = flags.rate;
    c.token = flags.token;
    c.persistent = flags.persistent;
    configs.push_back(std::move(c));
  }
  return configs;
}

// Figures of the server and this process when the timed part starts.
void MarkStart(const BenchFlags& flags, RunOutcome& out) {
  if (flags.server_pid > 0) out.server_before = bench::ReadProcess(flags.server_pid);
  out.server_ack_before = bench::ScrapeHistogram(flags.http, kServerAckMetric);
  out.start = Clock::now() + std::chrono::milliseconds(50);
  out.cpu_seconds = bench::SelfCpuSeconds();
}

Clock::time_point Deadline(const BenchFlags& flags, const RunOutcome& out) {
  return out.start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(flags.duration_s));
}

// --driver sdk: one nobus SDK stream and one thread per stream.
absl::Status RunSdkStreams(const BenchFlags& flags, const Client& client, RunOutcome& out) {
  std::vector<std::unique_ptr<bench::StreamRunner>> runners;
  for (bench::StreamConfig& c : StreamConfigs(flags)) {
    runners.push_back(std::make_unique<bench::StreamRunner>(&client, std::move(c)));
    NOBUS_RETURN_IF_ERROR(runners.back()->Open());
  }
  MarkStart(flags, out);
  const Clock::time_point deadline = Deadline(flags, out);
  std::vector<std::thread> threads;
  for (auto& r : runners) threads.emplace_back([&r, &out, deadline] { r->Run(out.start, deadline); });
  for (std::thread& t : threads) t.join();
  out.cpu_seconds = bench::SelfCpuSeconds() - out.cpu_seconds;
  out.totals.end = out.start;
  for (const auto& r : runners) out.totals.Add(r->result());
  return absl::OkStatus();
}

// --driver async: light streams over a few channels, paced by one thread (bench_fleet.h).
absl::Status RunAsyncStreams(const BenchFlags& flags, RunOutcome& out) {
  NOBUS_ASSIGN_OR_RETURN(std::string ca, CaCertPem());
  if (flags.streams >= 1000)
    std::fprintf(stderr, "nobus bench: opening %lld streams...\n",
                 static_cast<long long>(flags.streams));
  NOBUS_ASSIGN_OR_RETURN(std::unique_ptr<bench::Fleet> fleet,
                         bench::Fleet::Open(flags.server, ca, static_cast<int>(flags.channels),
                                            StreamConfigs(flags)));
  MarkStart(flags, out);
  fleet->Run(out.start, Deadline(flags, out), std::chrono::seconds(60));
  out.cpu_seconds = bench::SelfCpuSeconds() - out.cpu_seconds;
  out.totals = fleet->Totals();
  out.totals.end = std::max(out.totals.end, out.start);
  return absl::OkStatus();
}

// Waits (up to --ttt-wait-s) until every sample's commit was seen; returns ack -> commit in ms.
std::vector<double> TimeToTable(const BenchFlags& flags, const std::vector<bench::TttSample>& samples,
                                const bench::CommitWatcher& watcher, int64_t* unmatched) {
  const auto give_up = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(flags.ttt_wait_s));
  std::vector<double> out;
  for (const bench::TttSample& s : samples) {
    std::optional<int64_t> commit_ms = watcher.CommitTimeMs(s.table_index, s.probe);
    while (!commit_ms && Clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      commit_ms = watcher.CommitTimeMs(s.table_index, s.probe);
    }
    if (commit_ms) {
      out.push_back(static_cast<double>(*commit_ms) - s.ack_wall_ms);
    } else {
      ++*unmatched;
    }
  }
  return out;
}

json Round(double v, int digits = 3) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

// Adds the ack-latency, time-to-table, CPU and server figures to `out`.
void AddFigures(const BenchFlags& flags, const RunOutcome& run, double elapsed,
                bench::CommitWatcher* watcher, json& out) {
  const bench::LatencyHistogram& ack = run.totals.ack_us;
  const std::vector<bench::TttSample>& samples = run.totals.samples;
  const int64_t records = run.totals.records;
  out["ack_p50_ms"] = Round(ack.Percentile(0.50) / 1000);
  out["ack_p99_ms"] = Round(ack.Percentile(0.99) / 1000);
  out["ack_p999_ms"] = Round(ack.Percentile(0.999) / 1000);
  out["ack_max_ms"] = Round(static_cast<double>(ack.max()) / 1000);
  out["ack_samples"] = ack.count();
  absl::StatusOr<bench::PromHistogram> server_ack =
      bench::ScrapeHistogram(flags.http, kServerAckMetric);
  for (auto [key, q] : {std::pair{"server_ack_p50_ms", 0.50}, std::pair{"server_ack_p99_ms", 0.99}}) {
    std::optional<double> v;
    if (server_ack.ok() && run.server_ack_before.ok())
      v = bench::HistogramQuantile(*run.server_ack_before, *server_ack, q);
    out[key] = v ? Round(*v * 1000, 2) : json(nullptr);
  }
  int64_t unmatched = 0;
  std::vector<double> ttt;
  if (watcher != nullptr) ttt = TimeToTable(flags, samples, *watcher, &unmatched);
  auto pct = [&](double q) -> json {
    std::optional<double> v = bench::Percentile(ttt, q);
    return v ? Round(*v, 1) : json(nullptr);
  };
  out["ttt_p50_ms"] = pct(0.50);
  out["ttt_p99_ms"] = pct(0.99);
  out["ttt_max_ms"] = pct(1.0);
  out["ttt_samples"] = ttt.size();
  out["ttt_unmatched"] = watcher != nullptr ? unmatched : static_cast<int64_t>(samples.size());
  out["client_cpu_cores"] = Round(run.cpu_seconds / elapsed, 2);
  out["client_cpu_us_per_record"] = records > 0 ? Round(run.cpu_seconds * 1e6 / records, 2) : json(0);
  if (flags.server_pid > 0) {
    std::optional<bench::ProcessFigures> after = bench::ReadProcess(flags.server_pid);
    out["server_pid"] = flags.server_pid;
    out["server_vm_hwm_mb"] = after ? Round(after->vm_hwm_kb / 1024.0, 1) : json(nullptr);
    out["server_vm_rss_mb"] = after ? Round(after->vm_rss_kb / 1024.0, 1) : json(nullptr);
    const bool both = after && run.server_before;
    out["server_cpu_cores"] =
        both ? Round((after->cpu_seconds - run.server_before->cpu_seconds) / elapsed, 2)
             : json(nullptr);
    out["server_runq_wait_per_s"] =
        both ? Round((after->runq_wait_seconds - run.server_before->runq_wait_seconds) / elapsed, 2)
             : json(nullptr);
    // CPU cost of the ingest (until the streams closed; commits after that are not included).
    const double cpu = both ? after->cpu_seconds - run.server_before->cpu_seconds : 0;
    out["server_cpu_us_per_record"] = both && records > 0 ? Round(cpu * 1e6 / records, 1) : json(nullptr);
    out["server_cpu_s_per_gb"] =
        both && run.totals.bytes > 0 ? Round(cpu * 1e9 / run.totals.bytes, 1) : json(nullptr);
  }
}

// --disk-baseline: write + fdatasync figures for each chunk size, as one JSON line.
int RunDiskBaseline(const BenchFlags& flags) {
  json results = json::array();
  for (int64_t chunk : flags.disk_chunk_bytes) {
    absl::StatusOr<bench::DiskFigures> f =
        bench::MeasureWriteSync(flags.disk_baseline, chunk, flags.duration_s);
    if (!f.ok()) {
      std::fprintf(stderr, "nobus bench --disk-baseline %s: %s\n", flags.disk_baseline.c_str(),
                   std::string(f.status().message()).c_str());
      return 1;
    }
    results.push_back({{"chunk_bytes", f->chunk_bytes},
                       {"syncs", f->syncs},
                       {"mb_per_s", Round(f->mb_per_s, 2)},
                       {"syncs_per_s", Round(f->syncs / f->seconds, 0)},
                       {"sync_p50_ms", Round(f->sync_p50_ms)},
                       {"sync_p99_ms", Round(f->sync_p99_ms)}});
  }
  json out = {{"disk_baseline_dir", flags.disk_baseline}, {"results", results}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

// Checks CLI11's per-option validators cannot express; prints why and returns false.
bool ValidCombination(const BenchFlags& flags) {
  if (flags.driver == "sdk" && flags.streams > 1024) {
    std::fprintf(stderr, "nobus bench: --driver sdk runs one thread per stream, at most 1,024; "
                 "for more streams pass --driver async\n");
    return false;
  }
  if (flags.driver == "async" && (flags.rate <= 0 || flags.persistent)) {
    std::fprintf(stderr, "nobus bench: --driver async paces ephemeral streams: it needs --rate "
                 "(records/s per stream) and no --persistent\n");
    return false;
  }
  if (flags.tables > flags.streams) {
    std::fprintf(stderr, "nobus bench: --tables (%lld) must not exceed --streams (%lld)\n",
                 static_cast<long long>(flags.tables), static_cast<long long>(flags.streams));
    return false;
  }
  if (flags.record_bytes * flags.batch_size > (8 << 20)) {
    std::fprintf(stderr, "nobus bench: --record-bytes x --batch-size must stay below 8 MiB "
                 "(the server accepts 10 MiB per request)\n");
    return false;
  }
  return true;
}

// The storage locations of the bench tables (created when allowed).
// Four at a time; progress on stderr when there are many.
absl::StatusOr<std::vector<std::string>> EnsureTables(const BenchFlags& flags) {
  constexpr int64_t kWorkers = 4;
  std::vector<absl::StatusOr<std::string>> roots(static_cast<size_t>(flags.tables),
                                                 absl::UnknownError("not looked up"));
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t t = next++; t < flags.tables; t = next++) {
      roots[static_cast<size_t>(t)] = EnsureTable(flags, Cat(flags.table_prefix, t));
      if (flags.tables >= 1000 && (t + 1) % 1000 == 0)
        std::fprintf(stderr, "nobus bench: %lld of %lld tables ready\n",
                     static_cast<long long>(t + 1), static_cast<long long>(flags.tables));
    }
  };
  std::vector<std::thread> workers;
  for (int64_t w = 0; w < std::min(kWorkers, flags.tables); ++w) workers.emplace_back(work);
  for (std::thread& w : workers) w.join();
  std::vector<std::string> out;
  for (absl::StatusOr<std::string>& r : roots) {
    NOBUS_RETURN_IF_ERROR(r.status());
    out.push_back(std::move(*r));
  }
  return out;
}

// The summary line: totals over the streams, then AddFigures.
json Summary(const BenchFlags& flags, const RunOutcome& run, bench::CommitWatcher* watcher) {
  const bench::LoadTotals& t = run.totals;
  const int64_t records = t.records, bytes = t.bytes;
  const double elapsed = std::chrono::duration<double>(t.end - run.start).count();
  json out = {{"format", flags.format},         {"record_bytes", flags.record_bytes},
              {"batch_size", flags.batch_size}, {"streams", flags.streams},
              {"tables", flags.tables},         {"rate_per_stream", flags.rate},
              {"stream_kind", flags.persistent ? "persistent" : "ephemeral"},
              {"driver", flags.driver},
              {"duration_s", Round(elapsed)},   {"records", records},
              {"bytes", bytes},                 {"records_per_s", Round(records / elapsed, 0)},
              {"mb_per_s", Round(bytes / elapsed / 1e6, 2)}};
  AddFigures(flags, run, elapsed, watcher, out);
  out["reconnects"] = t.reconnects;
  out["errors"] = t.failed_streams;
  if (!t.first_error.empty()) out["error"] = t.first_error;
  return out;
}

int RunBench(const BenchFlags& flags) {
  if (!flags.disk_baseline.empty()) return RunDiskBaseline(flags);
  if (!ValidCombination(flags)) return 2;
  auto client = SdkClient(flags.server);
  if (!client.ok()) {
    std::fprintf(stderr, "nobus bench: --server: %s\n",
                 std::string(client.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> roots = EnsureTables(flags);
  if (!roots.ok()) {
    std::fprintf(stderr, "nobus bench: %s\n", std::string(roots.status().message()).c_str());
    return 1;
  }
  // Commit times come from the commit files' mtimes, so a slower sweep over many tables costs
  // no precision.
  absl::StatusOr<std::unique_ptr<bench::CommitWatcher>> watcher =
      bench::CommitWatcher::Start(*roots, /*poll_ms=*/std::max<int64_t>(20, flags.tables / 10));
  if (!watcher.ok())
    std::fprintf(stderr, "nobus bench: no time-to-table figures: cannot read the Delta log (%s)\n",
                 std::string(watcher.status().message()).c_str());
  RunOutcome run;
  absl::Status st = flags.driver == "async" ? RunAsyncStreams(flags, run)
                                             : RunSdkStreams(flags, **client, run);
  if (!st.ok()) {
    std::fprintf(stderr, "nobus bench: cannot open a stream: %s\n  is nobusd running at %s? "
                 "(start it with build/bin/nobusd, or pass --server URL)\n",
                 std::string(st.message()).c_str(), flags.server.c_str());
    return 1;
  }
  json out = Summary(flags, run, watcher.ok() ? watcher->get() : nullptr);
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  return run.totals.failed_streams == 0 ? 0 : 1;
}

}  // namespace

void RegisterBenchCommand(CLI::App& app) {
  static BenchFlags flags;
  auto* cmd = app.add_subcommand(
      "bench", "Load-test a running nobusd: stream generated records, print one JSON summary line.");
  cmd->footer(
      "Stream i writes table <table-prefix><i mod tables> (columns: stream, seq, probe, payload).\n"
      "Output (stdout, one line): records_per_s, mb_per_s (1 MB = 10^6 record bytes acked),\n"
      "ack_p50/p99/p999_ms (Ingest call -> ack), ttt_p50/p99_ms (ack -> the Delta commit holding\n"
      "the record: commit file mtime; needs the table directory on this machine), server_ack_*_ms\n"
      "(nobusd's own histogram: request received -> durable, per request), client CPU,\n"
      "and nobusd's CPU (cores, µs per record, CPU-seconds per GB of records) and peak RSS (VmHWM)\n"
      "with --server-pid; server_runq_wait_per_s = seconds\n"
      "per second nobusd's threads waited for a CPU (how much other load on the machine slowed it).\n\n"
      "Examples:\n"
      "  build/bin/nobusd --data-dir /var/tmp/nobus-bench &\n"
      "  nobus bench --create-tables --duration-s 10                 # 1 KB JSON records, 1 stream\n"
      "  nobus bench --create-tables --rate 50000                    # ack latency at 50k records/s\n"
      "  nobus bench --create-tables --streams 16 --server-pid $(pgrep -n nobusd)\n"
      "  nobus bench --create-tables --format proto --batch-size 100\n"
      "  nobus bench --create-tables --driver async --streams 10000 --tables 100 --rate 10\n"
      "  nobus bench --disk-baseline /var/tmp/nobus-bench/disk --duration-s 3   # raw fdatasync");
  cmd->add_option("--record-bytes", flags.record_bytes, "Size of each record (JSON text or proto)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{100}, int64_t{512} << 10));
  cmd->add_option("--batch-size", flags.batch_size,
                  "Records per request: 1 = Ingest (the SDK packs queued records into 1 MiB "
                  "messages), more = IngestBatch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100'000}));
  cmd->add_option("--streams", flags.streams,
                  "Concurrent streams (--driver sdk: at most 1,024, one thread each)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100'000}));
  cmd->add_option("--tables", flags.tables, "Tables the streams are spread over")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{100'000}));
  cmd->add_option("--driver", flags.driver,
                  "sdk: one nobus SDK stream and thread per stream (the SDK coalesces records); "
                  "async: light gRPC callback streams over --channels connections, one request "
                  "per message, paced by one thread (needs --rate; for thousands of streams)")
      ->capture_default_str()
      ->check(CLI::IsMember({"sdk", "async"}));
  cmd->add_option("--channels", flags.channels, "--driver async: HTTP/2 connections to share")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{256}));
  cmd->add_option("--duration-s", flags.duration_s, "How long to ingest")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_option("--format", flags.format, "Record format")
      ->capture_default_str()
      ->check(CLI::IsMember({"json", "proto"}));
  cmd->add_option("--rate", flags.rate, "Records/s cap per stream (0 = as fast as possible)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server", flags.server, "nobusd gRPC endpoint")->capture_default_str();
  cmd->add_option("--http", flags.http, "nobusd HTTP API (table lookup and creation)")
      ->capture_default_str();
  AddCaCertOption(cmd);
  cmd->add_option("--token", flags.token, "Bearer token (when the server requires one)")
      ->envname("NOBUS_TOKEN");
  cmd->add_flag("--create-tables", flags.create_tables, "Create the bench tables if missing");
  cmd->add_flag("--persistent", flags.persistent,
                "Persistent (exactly-once) streams instead of ephemeral ones (doc/exactly-once.md)");
  cmd->add_option("--table-prefix", flags.table_prefix, "Bench tables are <prefix>0, <prefix>1, ...")
      ->capture_default_str();
  cmd->add_option("--server-pid", flags.server_pid,
                  "nobusd's pid on this machine: report its CPU and peak RSS (from /proc)");
  cmd->add_option("--ttt-wait-s", flags.ttt_wait_s,
                  "After the run, how long to wait for the last samples' commits")
      ->capture_default_str();
  cmd->add_option("--disk-baseline", flags.disk_baseline,
                  "Instead of load-testing nobusd: measure write + fdatasync on this directory "
                  "(put it on the disk of nobusd's --data-dir) for --duration-s per chunk size");
  cmd->add_option("--disk-chunk-bytes", flags.disk_chunk_bytes,
                  "Bytes per fdatasync for --disk-baseline")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{512}, int64_t{64} << 20));
  cmd->callback([] { SetExitCode(RunBench(flags)); });
}

}  // namespace nobus::cli
