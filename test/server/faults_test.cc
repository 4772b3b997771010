// Fault handling of a real nobusd, end to end (doc/operations.md):
//   - the free-space guard: on a small tmpfs the test fills while a stream writes, admission
//     pauses (RESOURCE_EXHAUSTED, /readyz 503 disk_low) before the disk is full, and resumes by
//     itself once the space is freed, without a restart;
//   - a stuck table: one table's directory is moved away; its records are acked while its commits
//     fail, then refused (UNAVAILABLE "is stuck") while the other table keeps committing; once the
//     directory is back, a retry commits its parked rows.
// Both end with every acknowledged record in its Delta table exactly once. The same logic on a
// fault-injecting file system (no root needed) is unit-tested in src/table/health_test.cc.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "cli_run.h"
#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr uint64_t kMiB = 1 << 20;

// Calls `done` every 50 ms until it returns true (then true) or `timeout` passed (false).
bool PollUntil(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

// A record of table "id BIGINT NOT NULL, payload STRING".
std::string Row(int64_t id, size_t payload_bytes) {
  return Cat("{\"id\":", id, ",\"payload\":\"", std::string(payload_bytes, 'a' + id % 26), "\"}");
}

// What a test wrote to one table: the ids sent (any of them may land) and the ids acknowledged
// (each must land exactly once). Ids are never reused.
struct Ledger {
  int64_t next_id = 0;
  std::set<int64_t> sent;
  std::set<int64_t> acked;

  // `s` sent ids first_id + offset with SendNext; its acks are cumulative.
  void Record(int64_t first_id, const TestStream& s) {
    for (int64_t o = 0; o < s.requests_written(); ++o) sent.insert(first_id + o);
    for (int64_t o = 0; o <= s.last_ack(); ++o) acked.insert(first_id + o);
    next_id = std::max(next_id, first_id + s.requests_written());
  }
};

// Opens a stream on `table`, sends `n` records with the ledger's next ids, waits for the last ack
// or the end of the call, and closes it. Returns the call's status: OK when all were acked.
grpc::Status WriteRecords(zb::Zerobus::Stub* stub, const std::string& table, int64_t n,
                          Ledger* ledger, size_t payload_bytes = 16) {
  const int64_t first = ledger->next_id;
  TestStream s(stub);
  if (s.Create(table, zb::JSON).empty()) return s.Finish();
  for (int64_t i = 0; i < n; ++i)
    if (s.SendNext(JsonRecord(0, Row(first + i, payload_bytes))) < 0) break;
  grpc::Status status = s.WaitForAck(n - 1) ? s.CloseAndFinish() : s.Finish();
  ledger->Record(first, s);
  return status;
}

// Every acknowledged id is in `rows` exactly once, no id is there twice, every id there was sent.
void ExpectAckedExactlyOnce(const std::vector<json>& rows, const Ledger& ledger,
                            const std::string& table) {
  std::map<int64_t, int> count;
  for (const json& r : rows) ++count[r["id"].get<int64_t>()];
  std::vector<int64_t> missing, twice, unsent;
  for (int64_t id : ledger.acked)
    if (!count.contains(id)) missing.push_back(id);
  for (const auto& [id, n] : count) {
    if (n > 1) twice.push_back(id);
    if (!ledger.sent.contains(id)) unsent.push_back(id);
  }
  auto some = [](const std::vector<int64_t>& ids) {
    std::string out;
    for (size_t i = 0; i < ids.size() && i < 10; ++i) out += Cat(i ? " " : "", ids[i]);
    return Cat(ids.size(), " ids: ", out, ids.size() > 10 ? " ..." : "");
  };
  EXPECT_TRUE(missing.empty()) << table << ": acknowledged but missing, " << some(missing);
  EXPECT_TRUE(twice.empty()) << table << ": more than once, " << some(twice);
  EXPECT_TRUE(unsent.empty()) << table << ": never sent, " << some(unsent);
  EXPECT_FALSE(ledger.acked.empty()) << table << ": nothing was acknowledged";
}

bool HasReason(const json& readyz, const std::string& code) {
  if (!readyz.contains("reasons")) return false;
  for (const json& r : readyz["reasons"])
    if (r.value("code", "") == code) return true;
  return false;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// The free-space guard on a tmpfs the test fills.

constexpr const char* kEvents = "main.default.events";
constexpr size_t kPayloadBytes = 1000;
// Ample for the WAL's two preallocated 64 MiB segments (the active one and the next, prepared in
// the background) plus room to fill: a 96 MiB disk would start below the pause watermark.
constexpr int kDiskMiB = 256;
constexpr uint64_t kPauseBelow = 32 * kMiB;
constexpr uint64_t kResumeAbove = 48 * kMiB;
// The background writer sends bursts of kWriterBurst records 10 ms apart (~5 MB/s: the guard looks
// every 250 ms) and stops at kMaxWriterRecords if it is never refused. Both keep the WAL far from a
// segment roll, which would preallocate (or, releasing a segment, free) 64 MiB while the test
// fills the disk.
constexpr int64_t kWriterBurst = 50;
constexpr int64_t kMaxWriterRecords = 40'000;

class FaultDiskTest : public ServerTest {
 protected:
  void SetUp() override {
    mount_ = dir_.path() + "/disk";
    std::filesystem::create_directories(mount_);
    if (std::system(Cat("mount -t tmpfs -o size=", kDiskMiB, "m tmpfs '", mount_, "'").c_str()) !=
        0) {
      GTEST_SKIP() << "mounting a tmpfs needs root (CAP_SYS_ADMIN); the free-space guard's logic "
                      "is covered by src/table/health_test.cc on a fault-injecting file system";
    }
    mounted_ = true;
    NobusdOptions options;
    options.data_dir = mount_ + "/data";
    options.config_json = json{{"disk_pause_below_free_bytes", kPauseBelow},
                               {"disk_resume_above_free_bytes", kResumeAbove},
                               {"disk_pause_below_free_percent", 0},
                               {"disk_resume_above_free_percent", 0}}
                              .dump();
    auto started = Nobusd::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    stub_ = server_->NewStub();
    MakeTable(kEvents, "id BIGINT NOT NULL, payload STRING");
  }

  void TearDown() override {
    stub_.reset();
    server_.reset();  // SIGKILLs a server still running: nothing may keep the mount busy
    if (mounted_) {
      EXPECT_EQ(std::system(Cat("umount -l '", mount_, "'").c_str()), 0);
    }
  }

  uint64_t FreeBytes() const {
    struct statvfs st;
    if (::statvfs(mount_.c_str(), &st) != 0) return 0;
    return uint64_t{st.f_bavail} * st.f_frsize;
  }

  // Grows the filler file until the disk has `free_bytes` free (or a little less).
  absl::Status FillUntilFree(uint64_t free_bytes) {
    const std::string chunk(kMiB, 'f');
    int fd = ::open(filler().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoToStatus(errno, "open", filler());
    absl::Status st;
    for (uint64_t free = FreeBytes(); free > free_bytes && st.ok(); free = FreeBytes()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kMiB, free - free_bytes));
      if (::write(fd, chunk.data(), n) != static_cast<ssize_t>(n))
        st = ErrnoToStatus(errno, "write", Cat(filler(), " with ", free, " bytes free"));
    }
    ::close(fd);
    return st;
  }

  std::string filler() const { return mount_ + "/filler"; }

  // Sends one record on a new stream: refused while admission is paused.
  grpc::Status WriteOne(Ledger* ledger) {
    return WriteRecords(stub_.get(), kEvents, 1, ledger, kPayloadBytes);
  }

  // One record by REST insert (recorded in the ledger); the HTTP status.
  int InsertOne(Ledger* ledger) {
    const int64_t id = ledger->next_id++;
    ledger->sent.insert(id);
    HttpReply r = HttpCall(*server_, "POST", Cat("/zerobus/v1/tables/", kEvents, "/insert"),
                           Cat("[", Row(id, kPayloadBytes), "]"));
    if (r.status == 200) ledger->acked.insert(id);
    return r.status;
  }

  std::string Metrics() { return HttpCall(*server_, "GET", "/metrics").body.value("raw", ""); }

  std::string mount_;
  bool mounted_ = false;
};

TEST_F(FaultDiskTest, AdmissionPausesBeforeTheDiskFillsAndResumesWithoutARestart) {
  const pid_t pid = server_->pid();
  Ledger ledger;

  // A stream writes 1 KB records while the test fills the disk to below the pause watermark.
  TestStream writer_stream(stub_.get());
  ASSERT_FALSE(writer_stream.Create(kEvents, zb::JSON).empty());
  const int64_t first = ledger.next_id;
  std::atomic<bool> stop{false}, writer_done{false};
  std::thread writer([&] {
    for (int64_t i = 0; i < kMaxWriterRecords && !stop; ++i) {
      if (writer_stream.SendNext(JsonRecord(0, Row(first + i, kPayloadBytes))) < 0) break;
      if (i % kWriterBurst == kWriterBurst - 1) std::this_thread::sleep_for(milliseconds(10));
    }
    writer_done = true;
  });
  const bool acked_before_fill = PollUntil(
      [&] { return writer_stream.last_ack() >= 499 || writer_stream.ended(); }, seconds(30));
  const absl::Status filled = FillUntilFree(20 * kMiB);
  // The writer stops when its call ends, or after kMaxWriterRecords; then the call may still end.
  PollUntil([&] { return writer_done.load(); }, seconds(30));
  const bool refused = PollUntil([&] { return writer_stream.ended(); }, seconds(5));
  stop = true;
  writer.join();
  const grpc::Status status = refused ? writer_stream.Finish() : writer_stream.Cancel();
  ledger.Record(first, writer_stream);
  ASSERT_TRUE(acked_before_fill) << status.error_message() << "\n" << server_->Log();
  ASSERT_TRUE(filled.ok()) << filled;
  ASSERT_TRUE(refused) << writer_stream.requests_written() << " records sent, never refused; "
                       << FreeBytes() << " bytes free; log:\n"
                       << server_->Log();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "watermark")) << status.error_message();
  EXPECT_TRUE(Contains(status.error_message(), "the disk holding " + mount_ + "/data/"))
      << status.error_message();
  EXPECT_GE(writer_stream.last_ack(), 499);

  // Paused: not ready (disk_low), alive, and new streams and REST inserts are refused.
  auto expect_paused = [&](const std::string& step) {
    SCOPED_TRACE(step);
    HttpReply ready = HttpCall(*server_, "GET", "/readyz");
    EXPECT_EQ(ready.status, 503) << ready.body.dump();
    EXPECT_TRUE(HasReason(ready.body, "disk_low")) << ready.body.dump();
    EXPECT_FALSE(HasReason(ready.body, "wal_failed")) << ready.body.dump();
    EXPECT_EQ(ready.body.value("admission_paused", false), true) << ready.body.dump();
    EXPECT_EQ(HttpCall(*server_, "GET", "/livez").status, 200);
    const std::string metrics = Metrics();
    EXPECT_TRUE(Contains(metrics, "nobus_admission_paused 1")) << metrics;
    EXPECT_TRUE(Contains(metrics, "nobus_not_ready{reason=\"disk_low\"} 1")) << metrics;
    grpc::Status again = WriteOne(&ledger);
    EXPECT_EQ(again.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << again.error_message();
    EXPECT_TRUE(Contains(again.error_message(), "watermark")) << again.error_message();
    EXPECT_EQ(InsertOne(&ledger), 503);
  };
  expect_paused("20 MiB free");

  // Down to a few MiB: still refusing, and the WAL never met ENOSPC.
  ASSERT_TRUE(FillUntilFree(5 * kMiB).ok());
  expect_paused("5 MiB free");

  // Space freed: ready again by itself, and the same process takes records.
  std::filesystem::remove(filler());
  HttpReply ready;
  EXPECT_TRUE(PollUntil(
      [&] {
        ready = HttpCall(*server_, "GET", "/readyz");
        return ready.status == 200;
      },
      seconds(20)))
      << ready.status << " " << ready.body.dump();
  EXPECT_EQ(ready.body.value("admission_paused", true), false) << ready.body.dump();
  grpc::Status resumed = WriteRecords(stub_.get(), kEvents, 2000, &ledger, kPayloadBytes);
  EXPECT_TRUE(resumed.ok()) << resumed.error_code() << " " << resumed.error_message();
  EXPECT_EQ(server_->pid(), pid);
  EXPECT_EQ(::kill(pid, 0), 0) << "nobusd is gone";

  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
  const std::string log = server_->Log();
  EXPECT_TRUE(Contains(log, "admission paused")) << log;
  EXPECT_TRUE(Contains(log, "admission resumed")) << log;
  const size_t started = log.find("nobusd listening");
  EXPECT_EQ(log.find("nobusd listening", started + 1), std::string::npos) << "restarted:\n" << log;
  auto rows = ReadJsonRows(server_->data_dir(), kEvents);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ExpectAckedExactlyOnce(*rows, ledger, kEvents);
}

// ---------------------------------------------------------------------------------------------
// A stuck table.

constexpr const char* kTableA = "main.default.a";
constexpr const char* kTableB = "main.default.b";

class FaultStuckTableTest : public ServerTest {
 protected:
  void SetUp() override {
    StartServer(R"({"stuck_table_after_ms": 1000})");
    MakeTable(kTableA, "id BIGINT NOT NULL, payload STRING");
    MakeTable(kTableB, "id BIGINT NOT NULL, payload STRING");
  }

  HttpReply Admin(const std::string& method, const std::string& table, const std::string& what) {
    return HttpCall(*server_, method, Cat("/admin/v1/tables/", table, "/", what));
  }

  // The table's latest Delta version (-1 if the history cannot be read).
  int64_t LatestVersion(const std::string& table) {
    HttpReply r = Admin("GET", table, "history?limit=1");
    if (r.status != 200 || r.body["history"].empty()) return -1;
    return r.body["history"][0].value("version", int64_t{-1});
  }
};

TEST_F(FaultStuckTableTest, OneTablesStorageGoneOthersKeepCommittingAndItsRowsLandOnceBack) {
  Ledger a, b;
  ASSERT_TRUE(WriteRecords(stub_.get(), kTableA, 100, &a).ok());
  ASSERT_TRUE(WriteRecords(stub_.get(), kTableB, 100, &b).ok());

  const std::string root_a = TableRoot(server_->data_dir(), kTableA);
  const std::string moved_a = root_a + ".moved-away";  // not a table name: the catalog skips it
  std::error_code error;
  std::filesystem::rename(root_a, moved_a, error);
  ASSERT_FALSE(error) << error.message();

  // A's records are acked while its commits fail, then refused once it is stuck; B's go on.
  int a_acked_after_move = 0;
  grpc::Status a_refused;
  const bool a_stuck = PollUntil(
      [&] {
        grpc::Status st = WriteRecords(stub_.get(), kTableB, 1, &b);
        EXPECT_TRUE(st.ok()) << "table B: " << st.error_code() << " " << st.error_message();
        st = WriteRecords(stub_.get(), kTableA, 1, &a);
        if (st.ok()) {
          ++a_acked_after_move;
          return false;
        }
        a_refused = st;
        return true;
      },
      seconds(20));
  ASSERT_TRUE(a_stuck) << "table A was never refused; status: "
                       << Admin("GET", kTableA, "status").body.dump() << "\n"
                       << server_->Log();
  EXPECT_GE(a_acked_after_move, 1);
  EXPECT_EQ(a_refused.error_code(), grpc::StatusCode::UNAVAILABLE) << a_refused.error_message();
  EXPECT_TRUE(Contains(a_refused.error_message(), Cat("table '", kTableA, "' is stuck")))
      << a_refused.error_message();

  HttpReply status = Admin("GET", kTableA, "status");
  ASSERT_EQ(status.status, 200) << status.body.dump();
  EXPECT_EQ(status.body.value("state", ""), "stuck") << status.body.dump();
  EXPECT_GT(status.body.value("parked_records", int64_t{0}), 0) << status.body.dump();
  EXPECT_TRUE(Contains(status.body.value("last_error", ""), root_a)) << status.body.dump();

  // A stuck table does not make the node unready; it is listed.
  HttpReply ready = HttpCall(*server_, "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body.dump();
  EXPECT_EQ(ready.body.value("stuck_tables", json::array()), json::array({kTableA}))
      << ready.body.dump();
  const std::string metrics = HttpCall(*server_, "GET", "/metrics").body.value("raw", "");
  EXPECT_TRUE(Contains(metrics, Cat("nobus_table_stuck{table=\"", kTableA, "\"} 1"))) << metrics;
  EXPECT_TRUE(Contains(metrics, "nobus_tables_stuck 1")) << metrics;

  cli::testing::CliResult cli = cli::testing::RunNobus(
      Cat("table status ", kTableA, " --server http://", server_->http_address()), dir_.path());
  EXPECT_EQ(cli.exit_code, 0) << cli.out << cli.err;
  EXPECT_TRUE(Contains(cli.out, Cat(kTableA, ": stuck"))) << cli.out << cli.err;

  // B still commits while A is stuck.
  const int64_t b_version = LatestVersion(kTableB);
  ASSERT_GE(b_version, 0);
  ASSERT_TRUE(WriteRecords(stub_.get(), kTableB, 100, &b).ok());
  int64_t b_now = b_version;
  EXPECT_TRUE(PollUntil([&] { return (b_now = LatestVersion(kTableB)) > b_version; }, seconds(20)))
      << "table B stayed at version " << b_now;

  // A's directory is back: a retry commits its parked rows, and it takes records again.
  std::filesystem::rename(moved_a, root_a, error);
  ASSERT_FALSE(error) << error.message() << " (did nobusd re-create " << root_a << "?)";
  HttpReply retried = Admin("POST", kTableA, "retry");
  EXPECT_EQ(retried.status, 200) << retried.body.dump();
  EXPECT_EQ(retried.body.value("state", ""), "ok") << retried.body.dump();
  EXPECT_EQ(retried.body.value("parked_records", int64_t{-1}), 0) << retried.body.dump();
  grpc::Status again = WriteRecords(stub_.get(), kTableA, 100, &a);
  EXPECT_TRUE(again.ok()) << again.error_code() << " " << again.error_message();
  EXPECT_EQ(HttpCall(*server_, "GET", "/readyz").body.value("stuck_tables", json::array()),
            json::array());

  ASSERT_EQ(server_->SignalAndWait(SIGTERM), 0) << server_->Log();
  const std::string log = server_->Log();
  EXPECT_TRUE(Contains(log, Cat("table ", kTableA, " is stuck"))) << log;
  EXPECT_TRUE(Contains(log, Cat("table ", kTableA, " commits again"))) << log;
  for (const auto& [table, ledger] : {std::pair{kTableA, &a}, std::pair{kTableB, &b}}) {
    auto rows = ReadJsonRows(server_->data_dir(), table);
    ASSERT_TRUE(rows.ok()) << table << ": " << rows.status();
    ExpectAckedExactlyOnce(*rows, *ledger, table);
  }
}

}  // namespace
}  // namespace nobus::server::testing
