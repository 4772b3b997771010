// Failure modes of the WAL on the fault-injecting file system: power loss, torn writes, failed
// fdatasync, ENOSPC, corruption, backpressure. No sleeps: stalls are driven by FaultFileSystem.
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "env/fault_env.h"
#include "env/mem_env.h"
#include "gtest/gtest.h"
#include "wal/wal.h"

namespace nobus::wal {
namespace {

constexpr char kDir[] = "/wal";

class WalFaultTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::unique_ptr<Wal>> Open(WalOptions options = {}) {
    return Wal::Open(&fault_, &clock_, kDir, options);
  }
  std::map<Lsn, std::string> ReadAll(Wal* wal) {
    std::map<Lsn, std::string> out;
    absl::Status st = wal->ReadFrom(0, [&](Lsn lsn, std::string_view p) {
      out.emplace(lsn, std::string(p));
      return absl::OkStatus();
    });
    EXPECT_TRUE(st.ok()) << st;
    return out;
  }
  // Appends `n` records "r<i>" and returns them by LSN.
  std::map<Lsn, std::string> AppendAcked(Wal* wal, int n) {
    std::map<Lsn, std::string> acked;
    for (int i = 0; i < n; ++i) {
      std::string payload = Cat("r", i);
      auto lsn = wal->Append(payload);
      EXPECT_TRUE(lsn.ok()) << lsn.status();
      if (lsn.ok()) acked[*lsn] = payload;
    }
    return acked;
  }
  // Writes 30 records into 200-byte segments, closes the log and returns its segments (several).
  std::vector<SegmentFile> ClosedLogOfSmallSegments() {
    auto wal = Open(SmallSegments());
    EXPECT_TRUE(wal.ok()) << wal.status();
    if (!wal.ok()) return {};
    AppendAcked(wal->get(), 30);
    EXPECT_TRUE((*wal)->Close().ok());
    return *ListSegments(&mem_, kDir);
  }
  static WalOptions SmallSegments() {
    WalOptions options;
    options.segment_size_bytes = 200;
    return options;
  }
  void FlipByte(const std::string& path, uint64_t offset) {
    auto file = mem_.Open(path, env::OpenMode::kReadWrite);
    ASSERT_TRUE(file.ok());
    char c;
    ASSERT_EQ(*(*file)->ReadAt(offset, 1, &c), 1u);
    c ^= 0x40;
    ASSERT_TRUE((*file)->WriteAt(offset, std::string_view(&c, 1)).ok());
    ASSERT_TRUE((*file)->Sync().ok());
  }

  env::MemFileSystem mem_;
  env::FaultFileSystem fault_{&mem_};
  env::ManualClock clock_;
};

TEST_F(WalFaultTest, EveryAckedRecordSurvivesPowerLoss) {
  auto wal = *Open();
  std::map<Lsn, std::string> acked;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string p = Cat("t", t, "i", i);
        auto lsn = wal->Append(p);
        ASSERT_TRUE(lsn.ok());
        std::lock_guard<std::mutex> l(mu);
        acked[*lsn] = p;
      }
    });
  }
  for (auto& th : threads) th.join();
  // Written but not synced when the power goes: the writer is stalled inside fdatasync.
  fault_.PauseSyncs();
  std::atomic<int> unacked_ok{0}, unacked_failed{0};
  for (int i = 0; i < 5; ++i) {
    std::string_view p = "lost";
    ASSERT_TRUE(wal->AppendAsync(
                       std::span<const std::string_view>(&p, 1),
                       [&](absl::StatusOr<Lsn> lsn) { (lsn.ok() ? unacked_ok : unacked_failed)++; })
                    .ok());
  }
  fault_.WaitForBlockedSyncs(1);
  ASSERT_TRUE(fault_.SimulatePowerLoss());
  fault_.FailNthSync(1, absl::UnavailableError("power lost"));
  fault_.ResumeSyncs();
  EXPECT_FALSE(wal->Close().ok());
  EXPECT_EQ(unacked_ok.load(), 0);
  EXPECT_EQ(unacked_failed.load(), 5);
  wal.reset();
  fault_.Reset();
  auto reopened = *Open();
  auto recovered = ReadAll(reopened.get());
  EXPECT_EQ(recovered, acked);  // all acked, nothing of the lost batch
  EXPECT_EQ(reopened->next_lsn(), 201u);
}

TEST_F(WalFaultTest, TornBatchIsNotRecoveredAtAll) {
  auto wal = *Open();
  auto acked = AppendAcked(wal.get(), 10);
  fault_.TearNthWrite(1, kRecordHeaderSize + 6);  // header and part of the body reach the file
  std::vector<std::string_view> batch = {"first", "second", "third"};
  auto torn = wal->AppendBatch(batch);
  EXPECT_EQ(torn.status().code(), absl::StatusCode::kUnavailable);
  wal.reset();
  fault_.Reset();
  auto reopened = *Open();
  EXPECT_EQ(ReadAll(reopened.get()), acked);
  EXPECT_EQ(*reopened->Append("next"), 11u);
}

TEST_F(WalFaultTest, FailedSyncIsStickyAndNeverRetried) {
  auto wal = *Open();
  AppendAcked(wal.get(), 3);
  fault_.FailNthSync(1, absl::InternalError("fdatasync /wal/x: Input/output error"));
  auto failed = wal->Append("doomed");
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInternal);
  const int syncs_after_failure = fault_.syncs();
  auto refused = wal->Append("refused");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("Input/output error"), std::string::npos)
      << refused.status();
  std::string_view p = "try";
  EXPECT_EQ(wal->TryAppendAsync(std::span<const std::string_view>(&p, 1), [](auto) {}).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(wal->error().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(fault_.syncs(), syncs_after_failure);  // no retry of the fdatasync
  EXPECT_EQ(wal->Close().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(WalFaultTest, NoSpaceIsClearAndReopenWorksWhenSpaceReturns) {
  auto wal = *Open();
  auto acked = AppendAcked(wal.get(), 5);
  fault_.SetNoSpace(true);
  auto full = wal->Append("too much");
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(full.status().message().find("No space left on device"), std::string::npos);
  fault_.SetNoSpace(false);
  auto still = wal->Append("still refused");
  EXPECT_EQ(still.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(still.status().message().find("No space left"), std::string::npos);
  wal.reset();
  fault_.SetNoSpace(true);
  EXPECT_EQ(Open().status().code(), absl::StatusCode::kResourceExhausted);
  fault_.SetNoSpace(false);
  auto reopened = *Open();
  auto lsn = reopened->Append("works again");
  ASSERT_TRUE(lsn.ok()) << lsn.status();
  acked[*lsn] = "works again";
  EXPECT_EQ(ReadAll(reopened.get()), acked);
}

TEST_F(WalFaultTest, CorruptMiddleSegmentIsDataLossWithFileAndOffset) {
  auto segments = ClosedLogOfSmallSegments();
  ASSERT_GE(segments.size(), 3u);
  const std::string victim = segments[1].path;
  const uint64_t offset = kSegmentHeaderSize + kRecordHeaderSize;  // first record's body
  FlipByte(victim, offset);
  auto reopened = Open(SmallSegments());
  ASSERT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find(victim), std::string::npos) << reopened.status();
  EXPECT_NE(reopened.status().message().find(Cat("offset ", kSegmentHeaderSize)), std::string::npos)
      << reopened.status();
}

TEST_F(WalFaultTest, CorruptionFollowedByGoodRecordsInLastSegmentIsDataLoss) {
  auto wal = *Open();
  AppendAcked(wal.get(), 10);
  ASSERT_TRUE(wal->Close().ok());
  auto segments = *ListSegments(&mem_, kDir);
  const std::string last = segments.back().path;
  FlipByte(last, kSegmentHeaderSize + kRecordHeaderSize);  // first of ten records
  auto reopened = Open();
  ASSERT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(reopened.status().message().find("not a torn tail"), std::string::npos)
      << reopened.status();
}

TEST_F(WalFaultTest, MissingMiddleSegmentIsDataLoss) {
  auto segments = ClosedLogOfSmallSegments();
  ASSERT_GE(segments.size(), 3u);
  ASSERT_TRUE(mem_.Delete(segments[1].path).ok());
  EXPECT_EQ(Open(SmallSegments()).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(WalFaultTest, CrashWhileCreatingASegmentKeepsLsns) {
  WalOptions options;
  options.segment_size_bytes = 100;  // every record rolls
  auto wal = *Open(options);
  auto acked = AppendAcked(wal.get(), 3);
  fault_.TearNthWrite(1, 10);  // the roll writes the new segment header first
  EXPECT_FALSE(wal->Append(std::string(60, 'x')).ok());
  wal.reset();
  fault_.Reset();
  auto reopened = *Open(options);
  auto all = ReadAll(reopened.get());
  for (const auto& [lsn, payload] : acked) EXPECT_EQ(all[lsn], payload);
  EXPECT_GE(reopened->next_lsn(), 4u);
  EXPECT_TRUE(reopened->Append("again").ok());
}

// A roll syncs the old segment (1), then the prepared file's header (2), renames it and syncs the
// directory, then the batch (3). Power goes after each of these syncs fails.
TEST_F(WalFaultTest, PowerLossDuringRollKeepsAckedRecords) {
  WalOptions options;
  options.segment_size_bytes = 100;  // every record rolls
  for (int failing_sync = 1; failing_sync <= 3; ++failing_sync) {
    SCOPED_TRACE(failing_sync);
    auto wal = *Open(options);
    auto acked = AppendAcked(wal.get(), 3);
    const Lsn next = wal->next_lsn();
    fault_.FailNthSync(failing_sync, absl::UnavailableError("power lost"));
    EXPECT_FALSE(wal->Append(std::string(60, 'x')).ok());
    ASSERT_TRUE(fault_.SimulatePowerLoss());
    wal.reset();
    fault_.Reset();
    auto reopened = *Open(options);
    auto all = ReadAll(reopened.get());
    for (const auto& [lsn, payload] : acked) EXPECT_EQ(all[lsn], payload);
    EXPECT_EQ(reopened->next_lsn(), next);
    EXPECT_EQ(*reopened->Append("again"), next);
  }
}

TEST_F(WalFaultTest, BackpressureBlocksWhenOverBudget) {
  WalOptions options;
  options.max_unsynced_bytes = 4096;
  auto wal = *Open(options);
  fault_.PauseSyncs();
  std::string big(3000, 'b');
  std::string_view p = big;
  std::atomic<int> done{0};
  auto count = [&](absl::StatusOr<Lsn> lsn) {
    EXPECT_TRUE(lsn.ok());
    done++;
  };
  ASSERT_TRUE(wal->AppendAsync(std::span<const std::string_view>(&p, 1), count).ok());
  fault_.WaitForBlockedSyncs(1);  // 3000+ bytes in flight, not synced
  auto refused = wal->TryAppendAsync(std::span<const std::string_view>(&p, 1), count);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  std::atomic<bool> returned{false};
  std::thread producer([&] {
    EXPECT_TRUE(wal->AppendAsync(std::span<const std::string_view>(&p, 1), count).ok());
    returned = true;
  });
  // The budget cannot free up while the sync is stalled, so the producer is still waiting.
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(done.load(), 0);
  fault_.ResumeSyncs();
  producer.join();
  EXPECT_TRUE(returned.load());
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(done.load(), 2);
}

}  // namespace
}  // namespace nobus::wal
