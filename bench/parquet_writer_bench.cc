// Parquet writer throughput on a realistic ~1 KB event row (ids, timestamps, low- and
// mid-cardinality strings, a ~700-byte payload, coordinates, a small attribute map): 100k rows per
// iteration through RowBuilder + WriteFile into a page-cached file (no fsync), with ZSTD and
// SNAPPY. Counters: rows/s and MB/s of input row bytes. bench/parquet_vs_duckdb.sh compares
// DuckDB's Parquet writer on the same rows in the same run; `--ndjson=PATH` writes those rows as
// NDJSON.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "env/env.h"
#include "parquet/writer.h"

namespace nobus::parquet {
namespace {

constexpr int kRows = 100000;
constexpr uint64_t kSeed = 42;

struct Event {
  int64_t event_id, ts, ingest_ts;
  std::string device_id, type, user_agent, payload;
  double lat, lon;
  int32_t count;
  std::vector<std::pair<std::string, std::string>> attributes;
  size_t Bytes() const {
    size_t n =
        8 * 3 + 8 * 2 + 4 + device_id.size() + type.size() + user_agent.size() + payload.size();
    for (const auto& [k, v] : attributes) n += k.size() + v.size();
    return n;
  }
};

schema::Schema EventSchema() {
  using schema::Primitive;
  using schema::TypeKind;
  return {
      {{"event_id", Primitive(TypeKind::kLong)},
       {"device_id", Primitive(TypeKind::kString)},
       {"ts", Primitive(TypeKind::kTimestamp)},
       {"ingest_ts", Primitive(TypeKind::kTimestamp)},
       {"type", Primitive(TypeKind::kString)},
       {"user_agent", Primitive(TypeKind::kString)},
       {"payload", Primitive(TypeKind::kString)},
       {"lat", Primitive(TypeKind::kDouble)},
       {"lon", Primitive(TypeKind::kDouble)},
       {"count", Primitive(TypeKind::kInteger)},
       {"attributes", schema::Map(Primitive(TypeKind::kString), Primitive(TypeKind::kString))}}};
}

std::string RandomAscii(std::mt19937_64* rng, size_t n) {
  static const char kChars[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.:={}";
  std::string s(n, ' ');
  for (char& c : s) c = kChars[(*rng)() % (sizeof(kChars) - 1)];
  return s;
}

std::vector<Event> MakeEvents(int n) {
  std::mt19937_64 rng(kSeed);
  static const char* kTypes[] = {"click",  "view",   "purchase", "login", "logout",
                                 "scroll", "search", "share",    "error", "heartbeat"};
  static const char* kKeys[] = {"region", "app_version", "os", "experiment", "locale", "plan"};
  std::vector<Event> events(n);
  int64_t ts = 1735689600000000;  // 2025-01-01T00:00:00Z
  for (int i = 0; i < n; ++i) {
    Event& e = events[i];
    ts += static_cast<int64_t>(rng() % 2000);
    e.event_id = 1000000000LL + i;
    e.device_id = "device-" + std::to_string(rng() % 50);
    e.ts = ts;
    e.ingest_ts = ts + static_cast<int64_t>(rng() % 500000);
    e.type = kTypes[rng() % 10];
    e.user_agent = "Mozilla/5.0 (agent " + std::to_string(rng() % 100) + ") AppleWebKit/537.36";
    e.payload = RandomAscii(&rng, 650 + rng() % 100);
    e.lat = -90.0 + static_cast<double>(rng() % 18000000) / 1e5;
    e.lon = -180.0 + static_cast<double>(rng() % 36000000) / 1e5;
    e.count = static_cast<int32_t>(rng() % 1000);
    const int attrs = 3 + static_cast<int>(rng() % 3);
    for (int a = 0; a < attrs; ++a) {
      e.attributes.emplace_back(kKeys[a], "value-" + std::to_string(rng() % 20));
    }
  }
  return events;
}

void Append(const Event& e, RowBuilder* b) {
  b->BeginRow();
  b->Int64(e.event_id);
  b->String(e.device_id);
  b->Int64(e.ts);
  b->Int64(e.ingest_ts);
  b->String(e.type);
  b->String(e.user_agent);
  b->String(e.payload);
  b->Double(e.lat);
  b->Double(e.lon);
  b->Int32(e.count);
  b->BeginMap();
  for (const auto& [k, v] : e.attributes) {
    b->String(k);
    b->String(v);
  }
  b->EndMap();
  if (!b->EndRow().ok()) std::abort();
}

const std::vector<Event>& Events() {
  static const std::vector<Event> events = MakeEvents(kRows);
  return events;
}

int64_t InputBytes() {
  int64_t n = 0;
  for (const Event& e : Events()) n += static_cast<int64_t>(e.Bytes());
  return n;
}

uint64_t WriteOnce(const RowBatch& batch, Codec codec, const std::string& path) {
  auto file = env::PosixFileSystem()->Open(path, env::OpenMode::kTruncate);
  if (!file.ok()) std::abort();
  WriterOptions options;
  options.codec = codec;
  auto result = WriteFile(file->get(), batch, options);
  if (!result.ok() || !(*file)->Close().ok()) std::abort();
  return result->size_bytes;
}

void SetCounters(benchmark::State& state, uint64_t file_bytes) {
  const double rows = static_cast<double>(state.iterations()) * kRows;
  state.counters["rows/s"] = benchmark::Counter(rows, benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(
      rows / kRows * static_cast<double>(InputBytes()) / 1e6, benchmark::Counter::kIsRate);
  state.counters["file_MB"] = static_cast<double>(file_bytes) / 1e6;
  state.SetBytesProcessed(state.iterations() * InputBytes());
}

std::string TempPath(const char* tag) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/nobus-parquet-bench-" + tag + ".parquet";
}

// Rows appended through RowBuilder, then written: the path a table buffer flush takes.
void BM_AppendAndWrite(benchmark::State& state) {
  const Codec codec = static_cast<Codec>(state.range(0));
  auto batch = RowBatch::Create(EventSchema());
  if (!batch.ok()) std::abort();
  const std::string path = TempPath("aw");
  uint64_t size = 0;
  for (auto _ : state) {
    (*batch)->Clear();
    RowBuilder builder(batch->get());
    for (const Event& e : Events()) Append(e, &builder);
    size = WriteOnce(**batch, codec, path);
  }
  SetCounters(state, size);
  std::remove(path.c_str());
}

// WriteFile alone on a filled batch: comparable to DuckDB's COPY from an in-memory table.
void BM_WriteOnly(benchmark::State& state) {
  const Codec codec = static_cast<Codec>(state.range(0));
  auto batch = RowBatch::Create(EventSchema());
  if (!batch.ok()) std::abort();
  RowBuilder builder(batch->get());
  for (const Event& e : Events()) Append(e, &builder);
  const std::string path = TempPath("w");
  uint64_t size = 0;
  for (auto _ : state) size = WriteOnce(**batch, codec, path);
  SetCounters(state, size);
  std::remove(path.c_str());
}

BENCHMARK(BM_AppendAndWrite)
    ->ArgName("codec")
    ->Arg(static_cast<int>(Codec::kZstd))
    ->Arg(static_cast<int>(Codec::kSnappy))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_WriteOnly)
    ->ArgName("codec")
    ->Arg(static_cast<int>(Codec::kZstd))
    ->Arg(static_cast<int>(Codec::kSnappy))
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// Writes the benchmark rows as NDJSON (timestamps as epoch microseconds) and prints
// {"rows": N, "input_bytes": B} so the DuckDB baseline uses the same byte count.
int WriteNdjson(const char* path) {
  FILE* f = std::fopen(path, "w");
  if (f == nullptr) return 1;
  for (const Event& e : Events()) {
    std::string attrs;
    for (const auto& [k, v] : e.attributes)
      attrs += (attrs.empty() ? "" : ",") + JsonString(k) + ":" + JsonString(v);
    std::fprintf(f,
                 "{\"event_id\":%lld,\"device_id\":%s,\"ts\":%lld,\"ingest_ts\":%lld,\"type\":%s,"
                 "\"user_agent\":%s,\"payload\":%s,\"lat\":%.17g,\"lon\":%.17g,\"count\":%d,"
                 "\"attributes\":{%s}}\n",
                 static_cast<long long>(e.event_id), JsonString(e.device_id).c_str(),
                 static_cast<long long>(e.ts), static_cast<long long>(e.ingest_ts),
                 JsonString(e.type).c_str(), JsonString(e.user_agent).c_str(),
                 JsonString(e.payload).c_str(), e.lat, e.lon, e.count, attrs.c_str());
  }
  std::fclose(f);
  std::printf("{\"rows\": %d, \"input_bytes\": %lld}\n", kRows,
              static_cast<long long>(InputBytes()));
  return 0;
}

}  // namespace
}  // namespace nobus::parquet

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--ndjson=", 9) == 0) return nobus::parquet::WriteNdjson(argv[i] + 9);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
