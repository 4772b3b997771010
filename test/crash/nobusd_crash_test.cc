// Crash test of nobusd: several clients stream records into three tables (JSON and protobuf,
// single records and batches, pipelined) while the server is SIGKILLed at a random moment; it is
// restarted on the same data directory (recovery) and the next round streams new records. Clients
// never resend: each round they report how far they were acknowledged. At the end the server
// recovers once more and drains (SIGTERM), DuckDB reads every table from its latest Delta snapshot,
// and the test checks: every acknowledged record is there exactly once, no record is there twice,
// no record is there that was never sent, and every row's columns are the ones sent with its id.
//
// Each record has a unique id encoding (round, client, sequence); a client sends sequences 0, 1,
// 2, ... in offset order, so what it wrote and what was acked are two prefixes of its sequence.
// NOBUS_SEED=<n> fixes the random choices (batch sizes, kill delays), NOBUS_ITERATIONS=<k> the
// number of rounds. A failing run (or any run with NOBUS_KEEP_DATA=1) keeps its data directory and
// the nobusd log and prints their paths.
#include <google/protobuf/descriptor.pb.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/coding.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "crash_fixture.h"
#include "nobusd_process.h"
#include "table_reader.h"
#include "zerobus_client.h"

namespace nobus::crash {
namespace {

namespace zb = ::databricks::zerobus;
using server::testing::Nobusd;
using server::testing::TestStream;

constexpr int kDefaultRounds = 15;
constexpr int kStartupKillEvery = 3;  // every 3rd restart is first killed while recovering
constexpr int kStartupKillMaxMs = 150;
constexpr int64_t kFlushIntervalMs = 200;       // several commits per round, some cut by the kill
constexpr int64_t kMaxRecordsPerRound = 30000;  // per client: bounds the rows to check
constexpr int kMaxInFlight = 24;                // requests per stream
constexpr int64_t kCallDeadlineMs = 180000;     // bounds every wait of a client
constexpr int kKillDelayMinMs = 20, kKillDelayMaxMs = 600;  // after every client saw an ack
constexpr auto kFirstAckTimeout = std::chrono::seconds(90);

constexpr const char* kDdl = "id BIGINT NOT NULL, client INT, payload STRING";
constexpr std::array<const char*, 3> kTables = {"main.crash.alpha", "main.crash.beta",
                                               "main.crash.gamma"};

enum class Encoding { kJson, kProto };
struct ClientSpec {
  int table;  // index into kTables
  Encoding encoding;
  int max_batch;  // 0: single records only; else a random mix of single records and batches
};
constexpr std::array<ClientSpec, 5> kClients = {{{0, Encoding::kJson, 0},
                                                 {0, Encoding::kJson, 40},
                                                 {1, Encoding::kJson, 25},
                                                 {1, Encoding::kProto, 0},
                                                 {2, Encoding::kProto, 30}}};

// ---- Records: everything is a pure function of the id ----

constexpr int64_t kRoundStride = 1'000'000'000'000, kClientStride = 1'000'000'000;

int64_t RecordId(int round, int client, int64_t seq) {
  return (round + 1) * kRoundStride + client * kClientStride + seq;
}

struct RecordKey {
  int round;
  int client;
  int64_t seq;
};

RecordKey DecodeId(int64_t id) {
  return {static_cast<int>(id / kRoundStride) - 1,
          static_cast<int>(id % kRoundStride / kClientStride), id % kClientStride};
}

std::string Describe(int64_t id) {
  RecordKey k = DecodeId(id);
  return Cat("id ", id, " (round ", k.round, ", client ", k.client, ", seq ", k.seq, ")");
}

std::string Payload(int64_t id) {
  return Cat("p", id, "-",
             std::string(static_cast<size_t>(id % 23), static_cast<char>('a' + id % 26)));
}

std::string JsonRecord(int64_t id, int client) {
  return Cat("{\"id\":", id, ",\"client\":", client, ",\"payload\":\"", Payload(id), "\"}");
}

// message CrashRow { required int64 id = 1; optional int32 client = 2; optional string payload = 3;
// }
std::string ProtoRecord(int64_t id, int client) {
  std::string out, payload = Payload(id);
  out.push_back(0x08);
  PutVarint64(&out, static_cast<uint64_t>(id));
  out.push_back(0x10);
  PutVarint64(&out, static_cast<uint64_t>(client));
  out.push_back(0x1a);
  PutVarint64(&out, payload.size());
  out += payload;
  return out;
}

std::string RowDescriptor() {
  using FDP = google::protobuf::FieldDescriptorProto;
  google::protobuf::DescriptorProto d;
  d.set_name("CrashRow");
  auto add = [&](const char* name, int number, FDP::Type type, FDP::Label label) {
    FDP* f = d.add_field();
    f->set_name(name);
    f->set_number(number);
    f->set_type(type);
    f->set_label(label);
  };
  add("id", 1, FDP::TYPE_INT64, FDP::LABEL_REQUIRED);
  add("client", 2, FDP::TYPE_INT32, FDP::LABEL_OPTIONAL);
  add("payload", 3, FDP::TYPE_STRING, FDP::LABEL_OPTIONAL);
  return d.SerializeAsString();
}

// One request of `n` records with sequences [seq, seq + n) (offset set by TestStream::SendNext).
zb::EphemeralStreamRequest MakeRequest(const ClientSpec& spec, int round, int client, int64_t seq,
                                       int n, bool batch) {
  zb::EphemeralStreamRequest request;
  const bool proto = spec.encoding == Encoding::kProto;
  auto record = [&](int i) {
    int64_t id = RecordId(round, client, seq + i);
    return proto ? ProtoRecord(id, client) : JsonRecord(id, client);
  };
  if (!batch) {
    if (proto)
      request.mutable_ingest_record()->set_proto_encoded_record(record(0));
    else
      request.mutable_ingest_record()->set_json_record(record(0));
    return request;
  }
  auto* b = request.mutable_ingest_record_batch();
  for (int i = 0; i < n; ++i) {
    if (proto)
      b->mutable_proto_encoded_batch()->add_records(record(i));
    else
      b->mutable_json_batch()->add_records(record(i));
  }
  return request;
}

// ---- One client's round ----

// What one client did in one round: sequences [0, records_written) were handed to the transport,
// [0, records_acked) were acknowledged.
struct ClientRound {
  int64_t requests_written = 0;
  int64_t records_written = 0;
  int64_t records_acked = 0;
  std::string error;  // the server rejected valid input or broke the protocol
};

// Lets the round's driver wait until every client has seen an ack (or ended).
class RoundProgress {
 public:
  explicit RoundProgress(size_t clients) : started_(clients, false) {}
  void Started(size_t client) {
    std::lock_guard lock(mu_);
    if (!started_[client]) {
      started_[client] = true;
      ++count_;
      cv_.notify_all();
    }
  }
  bool WaitAll(std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ == started_.size(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> started_;
  size_t count_ = 0;
};

bool RejectsValidInput(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNIMPLEMENTED:
    case grpc::StatusCode::DATA_LOSS:
      return true;
    default:
      return false;
  }
}

// Streams records until the call breaks (the server is killed), never resending.
void StreamUntilBroken(const Nobusd& server, int round, int client, uint32_t seed,
                       RoundProgress* progress, ClientRound* out) {
  const ClientSpec& spec = kClients[client];
  std::unique_ptr<zb::Zerobus::Stub> stub = server.NewStub();
  TestStream stream(stub.get(),
                    {.call_deadline_ms = kCallDeadlineMs, .max_in_flight = kMaxInFlight});
  const bool proto = spec.encoding == Encoding::kProto;
  std::string created = stream.Create(kTables[spec.table], proto ? zb::PROTO : zb::JSON,
                                      proto ? RowDescriptor() : "");
  if (created.empty()) {
    grpc::Status status = stream.Finish();
    out->error = Cat("create_stream failed: ", status.error_code(), ": ", status.error_message());
    for (const std::string& v : stream.violations()) out->error += Cat("; ", v);
    progress->Started(client);
    return;
  }
  std::mt19937 rng(seed);
  std::vector<int64_t> records_through;  // [offset] = records in requests 0..offset
  int64_t seq = 0;
  while (seq < kMaxRecordsPerRound) {
    bool batch = spec.max_batch > 0 && rng() % 3 != 0;
    int n = batch ? std::uniform_int_distribution<int>(1, spec.max_batch)(rng) : 1;
    records_through.push_back(seq + n);
    int64_t offset = stream.SendNext(MakeRequest(spec, round, client, seq, n, batch));
    seq += n;
    if (offset < 0) break;
    if (stream.last_ack() >= 0) progress->Started(client);
  }
  stream.WaitForAck(INT64_MAX);  // returns when the call ends
  progress->Started(client);
  grpc::Status status = stream.Finish();
  out->requests_written = stream.requests_written();
  out->records_written = out->requests_written > 0 ? records_through[out->requests_written - 1] : 0;
  // An ack past the last request written is a violation (reported below); count only what was sent.
  int64_t acked = std::min(stream.last_ack(), out->requests_written - 1);
  out->records_acked = acked >= 0 ? records_through[acked] : 0;
  for (const std::string& v : stream.violations())
    out->error += Cat("protocol violation: ", v, "; ");
  if (RejectsValidInput(status.error_code()))
    out->error += Cat("call ended with ", status.error_code(), ": ", status.error_message());
}

// ---- The test ----

// Starts nobusd on `data_dir` and SIGKILLs it `delay_ms` later, typically while it recovers (it
// logs to the same file as the other starts). Returns its exit code, 128 + signal if killed.
int StartAndKill(const std::string& data_dir, int delay_ms) {
  auto spawned = Nobusd::Spawn({.data_dir = data_dir, .flush_interval_ms = kFlushIntervalMs});
  if (!spawned.ok()) return -1;
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  return (*spawned)->SignalAndWait(SIGKILL);
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class NobusdCrashTest : public CrashTest {
 protected:

  // Starts nobusd on the data dir and waits until /healthz answers 200 (recovery done).
  void StartServer() {
    server_.reset();
    auto started_at = std::chrono::steady_clock::now();
    auto started = Nobusd::Start({.data_dir = data_dir_, .flush_interval_ms = kFlushIntervalMs});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    healthy_after_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started_at)
                            .count();
  }

  void RunRound(int round, std::mt19937& rng, std::vector<ClientRound>* results);

  int64_t healthy_after_ms_ = 0;
};

// Starts every client, waits until each saw an ack, waits a random delay, SIGKILLs the server.
void NobusdCrashTest::RunRound(int round, std::mt19937& rng, std::vector<ClientRound>* results) {
  results->assign(kClients.size(), {});
  RoundProgress progress(kClients.size());
  std::vector<std::thread> threads;
  for (size_t c = 0; c < kClients.size(); ++c) {
    uint32_t seed = static_cast<uint32_t>(rng());
    threads.emplace_back([&, c, seed] {
      StreamUntilBroken(*server_, round, static_cast<int>(c), seed, &progress, &(*results)[c]);
    });
  }
  const bool all_acked = progress.WaitAll(kFirstAckTimeout);
  const int delay_ms = std::uniform_int_distribution<int>(kKillDelayMinMs, kKillDelayMaxMs)(rng);
  if (all_acked) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const int exit_code = server_->SignalAndWait(SIGKILL);
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(all_acked) << "round " << round << ": a client saw no ack within "
                         << kFirstAckTimeout.count() << " s; log:\n"
                         << server_->Log();
  EXPECT_EQ(exit_code, 128 + SIGKILL)
      << "round " << round << ": nobusd died before the SIGKILL; log:\n"
      << server_->Log();
  int64_t written = 0, acked = 0, requests = 0;
  for (size_t c = 0; c < results->size(); ++c) {
    const ClientRound& r = (*results)[c];
    EXPECT_EQ(r.error, "") << "round " << round << ", client " << c;
    written += r.records_written;
    acked += r.records_acked;
    requests += r.requests_written;
  }
  std::printf(
      "round %2d: healthy after %5lld ms, killed %3d ms after the first acks: %7lld records "
      "written (%lld requests), %7lld acked\n",
      round, static_cast<long long>(healthy_after_ms_), delay_ms, static_cast<long long>(written),
      static_cast<long long>(requests), static_cast<long long>(acked));
  std::fflush(stdout);
}

// Problems found in the tables, by kind, with the first few examples.
class Findings {
 public:
  void Add(const std::string& kind, const std::string& example) {
    if (++counts_[kind] <= 5) examples_ += Cat("  ", kind, ": ", example, "\n");
  }
  bool empty() const { return counts_.empty(); }
  std::string Report() const {
    std::string out;
    for (const auto& [kind, n] : counts_) out += Cat(n, " x ", kind, "\n");
    return out + examples_;
  }

 private:
  std::map<std::string, int64_t> counts_;
  std::string examples_;
};

// Checks one row of table `table` (a JSON object from DuckDB) and counts its id.
void CheckRow(size_t table, const std::string& text,
              const std::vector<std::vector<ClientRound>>& results,
              std::unordered_map<int64_t, int>* counts, Findings* findings) {
  nlohmann::json row = nlohmann::json::parse(text, nullptr, false);
  if (!row.is_object() || !row["id"].is_number_integer()) {
    findings->Add("row without an integer id", text);
    return;
  }
  const int64_t id = row["id"].get<int64_t>();
  const RecordKey key = DecodeId(id);
  if (id < 0 || key.round < 0 || key.round >= static_cast<int>(results.size()) ||
      key.client >= static_cast<int>(kClients.size()) ||
      kClients[key.client].table != static_cast<int>(table)) {
    findings->Add(Cat("row whose id no client sent to ", kTables[table]), text);
    return;
  }
  if (key.seq >= results[key.round][key.client].records_written)
    findings->Add("record that was never sent", Describe(id));
  if (row["client"] != key.client || row["payload"] != Payload(id))
    findings->Add("row whose columns differ from what was sent", text);
  ++(*counts)[id];
}

// Reads every table with DuckDB, checks each row and counts each id.
absl::StatusOr<std::unordered_map<int64_t, int>> CountRows(
    const std::string& data_dir, const std::vector<std::vector<ClientRound>>& results,
    Findings* findings) {
  std::unordered_map<int64_t, int> counts;
  for (size_t t = 0; t < kTables.size(); ++t) {
    NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> rows,
                           server::testing::ReadRows(data_dir, kTables[t]));
    for (const std::string& text : rows) CheckRow(t, text, results, &counts, findings);
  }
  return counts;
}

// Checks the id counts against what each client wrote and saw acked; prints a line per round.
void CheckCounts(const std::unordered_map<int64_t, int>& counts,
                 const std::vector<std::vector<ClientRound>>& results, Findings* findings) {
  std::vector<int64_t> found(results.size(), 0);
  for (const auto& [id, n] : counts) {
    if (n > 1) findings->Add("record present more than once", Cat(Describe(id), ": ", n, " times"));
    ++found[DecodeId(id).round];
  }
  int64_t total_acked = 0, total_written = 0;
  for (size_t round = 0; round < results.size(); ++round) {
    int64_t acked = 0, written = 0;
    for (size_t c = 0; c < kClients.size(); ++c) {
      const ClientRound& r = results[round][c];
      acked += r.records_acked;
      written += r.records_written;
      for (int64_t seq = 0; seq < r.records_acked; ++seq) {
        int64_t id = RecordId(static_cast<int>(round), static_cast<int>(c), seq);
        if (!counts.contains(id)) findings->Add("acknowledged record missing", Describe(id));
      }
    }
    std::printf("round %2zu: %7lld acked, %7lld in the tables, %7lld written\n", round,
                static_cast<long long>(acked), static_cast<long long>(found[round]),
                static_cast<long long>(written));
    total_acked += acked;
    total_written += written;
  }
  std::printf("total:    %7lld acked, %7zu in the tables, %7lld written\n",
              static_cast<long long>(total_acked), counts.size(),
              static_cast<long long>(total_written));
}

TEST_F(NobusdCrashTest, EveryAckedRecordLandsExactlyOnceAcrossSigkills) {
  const uint64_t seed = EnvOr("NOBUS_SEED", std::random_device{}());
  const int rounds = static_cast<int>(EnvOr("NOBUS_ITERATIONS", kDefaultRounds));
  std::printf("seed %llu, %d rounds (rerun: NOBUS_SEED=%llu NOBUS_ITERATIONS=%d)\n",
              static_cast<unsigned long long>(seed), rounds, static_cast<unsigned long long>(seed),
              rounds);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  for (const char* table : kTables) {
    server::testing::HttpReply reply = server::testing::CreateTable(*server_, table, kDdl);
    ASSERT_EQ(reply.status, 200) << table << ": " << reply.body.dump();
  }
  std::vector<std::vector<ClientRound>> results(rounds);
  for (int round = 0; round < rounds; ++round) {
    if (round > 0 && round % kStartupKillEvery == 0) {
      int delay_ms = std::uniform_int_distribution<int>(0, kStartupKillMaxMs)(rng);
      ASSERT_EQ(StartAndKill(data_dir_, delay_ms), 128 + SIGKILL)
          << "nobusd exited on its own during startup; log:\n"
          << server_->Log();
      std::printf("          restarted and killed %d ms later (during recovery)\n", delay_ms);
    }
    if (round > 0) {
      ASSERT_NO_FATAL_FAILURE(StartServer());
    }
    RunRound(round, rng, &results[round]);
    ASSERT_FALSE(HasFailure()) << "stopped after round " << round;
  }
  // Recover once more, then drain: everything durable is committed.
  ASSERT_NO_FATAL_FAILURE(StartServer());
  std::printf("final recovery: healthy after %lld ms\n", static_cast<long long>(healthy_after_ms_));
  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
  Findings findings;
  absl::StatusOr<std::unordered_map<int64_t, int>> counts =
      CountRows(data_dir_, results, &findings);
  ASSERT_TRUE(counts.ok()) << counts.status();
  CheckCounts(*counts, results, &findings);
  EXPECT_TRUE(findings.empty()) << findings.Report();
}

}  // namespace
}  // namespace nobus::crash
