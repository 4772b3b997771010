#include "wal/wal.h"

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "env/mem_env.h"
#include "gtest/gtest.h"

namespace nobus::wal {
namespace {

constexpr char kDir[] = "/wal";

std::map<Lsn, std::string> ReadAll(Wal* wal, Lsn after = 0) {
  std::map<Lsn, std::string> out;
  absl::Status st = wal->ReadFrom(after, [&](Lsn lsn, std::string_view p) {
    EXPECT_TRUE(out.emplace(lsn, std::string(p)).second) << "duplicate LSN " << lsn;
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << st;
  return out;
}

class WalTest : public ::testing::Test {
 protected:
  std::unique_ptr<Wal> OpenWal(WalOptions options = {}) {
    auto wal = Wal::Open(&fs_, &clock_, kDir, options);
    EXPECT_TRUE(wal.ok()) << wal.status();
    return wal.ok() ? std::move(*wal) : nullptr;
  }
  size_t SegmentCount() {
    auto segments = ListSegments(&fs_, kDir);
    EXPECT_TRUE(segments.ok());
    return segments.ok() ? segments->size() : 0;
  }

  env::MemFileSystem fs_;
  env::ManualClock clock_;
};

TEST_F(WalTest, AppendThenReadBackSingleAndBatch) {
  auto wal = OpenWal();
  ASSERT_EQ(*wal->Append("one"), 1u);
  std::vector<std::string_view> batch = {"two", "three", "four"};
  ASSERT_EQ(*wal->AppendBatch(batch), 4u);
  ASSERT_EQ(*wal->Append("five"), 5u);
  EXPECT_EQ(wal->durable_lsn(), 5u);
  std::map<Lsn, std::string> want = {
      {1, "one"}, {2, "two"}, {3, "three"}, {4, "four"}, {5, "five"}};
  EXPECT_EQ(ReadAll(wal.get()), want);
  auto after3 = ReadAll(wal.get(), 3);
  EXPECT_EQ(after3.size(), 2u);
  EXPECT_EQ(after3.begin()->first, 4u);
}

TEST_F(WalTest, LsnsMonotonicAcrossReopen) {
  Lsn last = 0;
  for (int round = 0; round < 4; ++round) {
    auto wal = OpenWal();
    EXPECT_EQ(wal->next_lsn(), last + 1);
    for (int i = 0; i < 3; ++i) {
      auto lsn = wal->Append("x");
      ASSERT_TRUE(lsn.ok());
      EXPECT_GT(*lsn, last);
      last = *lsn;
    }
    ASSERT_TRUE(wal->Close().ok());
    auto empty = OpenWal();  // a reopen without appends must not lose the counter
    ASSERT_TRUE(empty->Close().ok());
  }
  auto wal = OpenWal();
  EXPECT_EQ(ReadAll(wal.get()).size(), 12u);
}

TEST_F(WalTest, LsnsMonotonicAfterReleasingEverything) {
  WalOptions options;
  options.segment_size_bytes = 128;
  auto wal = OpenWal(options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(wal->Append(std::string(40, 'a')).ok());
  ASSERT_TRUE(wal->ReleaseUpTo(20).ok());
  ASSERT_TRUE(wal->Close().ok());
  fs_.SimulatePowerLoss();
  auto reopened = OpenWal(options);
  EXPECT_EQ(*reopened->Append("next"), 21u);
}

TEST_F(WalTest, ManyThreadsGetDistinctLsnsAndEverythingIsReadable) {
  auto wal = OpenWal();
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<Lsn>> lsns(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto lsn = wal->Append(Cat("t", t, "-", i));
        ASSERT_TRUE(lsn.ok()) << lsn.status();
        if (!lsns[t].empty()) {
          EXPECT_GT(*lsn, lsns[t].back());
        }
        lsns[t].push_back(*lsn);
      }
    });
  }
  for (auto& th : threads) th.join();
  auto all = ReadAll(wal.get());
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i) EXPECT_EQ(all[lsns[t][i]], Cat("t", t, "-", i));
  WalStats stats = wal->stats();
  EXPECT_EQ(stats.appends, uint64_t{kThreads * kPerThread});
  EXPECT_LE(stats.syncs, stats.appends);
}

TEST_F(WalTest, AsyncCallbacksCompleteInLsnOrder) {
  auto wal = OpenWal();
  std::mutex mu;
  std::vector<Lsn> seen;
  for (int i = 0; i < 100; ++i) {
    std::string_view p = "payload";
    ASSERT_TRUE(wal->AppendAsync(std::span<const std::string_view>(&p, 1),
                                 [&](absl::StatusOr<Lsn> lsn) {
                                   ASSERT_TRUE(lsn.ok());
                                   std::lock_guard<std::mutex> l(mu);
                                   seen.push_back(*lsn);
                                 })
                    .ok());
  }
  ASSERT_TRUE(wal->Close().ok());  // drains the queue
  ASSERT_EQ(seen.size(), 100u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], i + 1);
}

// A group delay gathers appends that arrive while the writer waits into one fdatasync.
TEST_F(WalTest, GroupDelayGathersAppendsIntoOneSync) {
  WalOptions options;
  options.group_delay_us = 2'000'000;  // far longer than the appends below take
  auto wal = OpenWal(options);
  std::atomic<int> done{0};
  for (int i = 0; i < 20; ++i) {
    std::string_view p = "payload";
    ASSERT_TRUE(wal->AppendAsync(std::span<const std::string_view>(&p, 1),
                                 [&](absl::StatusOr<Lsn> lsn) {
                                   EXPECT_TRUE(lsn.ok());
                                   ++done;
                                 })
                    .ok());
  }
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(done.load(), 20);
  EXPECT_EQ(wal->stats().syncs, 1u);
  EXPECT_EQ(wal->stats().appends, 20u);
}

// A batch of kGroupFullBytes is written at once: with a delay of ten minutes this append would
// otherwise hang until the test's timeout.
TEST_F(WalTest, GroupDelayDoesNotHoldAFullBatch) {
  WalOptions options;
  options.group_delay_us = 600'000'000;
  auto wal = OpenWal(options);
  const std::string big(kGroupFullBytes, 'x');
  absl::StatusOr<Lsn> lsn = wal->Append(big);
  ASSERT_TRUE(lsn.ok()) << lsn.status();
  EXPECT_EQ(wal->stats().syncs, 1u);
  ASSERT_TRUE(wal->Close().ok());
}

TEST_F(WalTest, SegmentsRollAtConfiguredSize) {
  WalOptions options;
  options.segment_size_bytes = 256;
  auto wal = OpenWal(options);
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(wal->Append(std::string(40, 'a' + i % 26)).ok());
  ASSERT_TRUE(wal->Append(std::string(1000, 'z')).ok());  // larger than a segment
  auto segments = ListSegments(&fs_, kDir);
  ASSERT_TRUE(segments.ok());
  EXPECT_GT(segments->size(), 5u);
  for (const auto& s : *segments) {
    auto info = fs_.Stat(s.path);
    ASSERT_TRUE(info.ok());
    if (s.first_lsn != 31) {
      EXPECT_LE(info->size_bytes, 256u) << s.path;
    }
  }
  EXPECT_EQ(ReadAll(wal.get()).size(), 31u);
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(ReadAll(OpenWal(options).get()).size(), 31u);
}

TEST_F(WalTest, ReleaseDeletesOnlyWholeSegmentsBelowTheMark) {
  WalOptions options;
  options.segment_size_bytes = kSegmentHeaderSize + 3 * (kRecordHeaderSize + 10);
  auto wal = OpenWal(options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(wal->Append(std::string(10, 'r')).ok());
  // Segments hold LSNs [1,3] [4,6] [7,9] [10].
  auto segments = ListSegments(&fs_, kDir);
  ASSERT_EQ(segments->size(), 4u);
  ASSERT_TRUE(wal->ReleaseUpTo(5).ok());  // [4,6] still holds LSN 6
  segments = ListSegments(&fs_, kDir);
  ASSERT_EQ(segments->size(), 3u);
  EXPECT_EQ(segments->front().first_lsn, 4u);
  EXPECT_EQ(ReadAll(wal.get(), 5).size(), 5u);
  EXPECT_EQ(wal->ReadFrom(2, [](Lsn, std::string_view) { return absl::OkStatus(); }).code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(wal->ReleaseUpTo(9).ok());
  EXPECT_EQ(SegmentCount(), 1u);
  ASSERT_TRUE(wal->ReleaseUpTo(1000).ok());  // never the active segment
  EXPECT_EQ(SegmentCount(), 1u);
  EXPECT_EQ(wal->stats().segments_deleted, 3u);
  EXPECT_EQ(ReadAll(wal.get(), 9).size(), 1u);
}

TEST_F(WalTest, PrezeroedSegmentsRecover) {
  WalOptions options;
  options.segment_size_bytes = 512;
  options.prezero_segments = true;
  auto wal = OpenWal(options);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(wal->Append(std::string(50, 'p')).ok());
  auto first = fs_.Stat(ListSegments(&fs_, kDir)->front().path);
  EXPECT_EQ(first->size_bytes, 512u);  // the zero tail stays; readers stop at it
  ASSERT_TRUE(wal->Close().ok());
  fs_.SimulatePowerLoss();
  auto reopened = OpenWal(options);
  EXPECT_EQ(ReadAll(reopened.get()).size(), 20u);
  EXPECT_EQ(*reopened->Append("after"), 21u);
}

TEST_F(WalTest, RejectsEmptyAndOversizedAppends) {
  WalOptions options;
  options.max_record_bytes = 100;
  auto wal = OpenWal(options);
  EXPECT_EQ(wal->AppendBatch({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(wal->Append(std::string(200, 'x')).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(wal->Append("small").ok());
}

TEST_F(WalTest, AppendAfterCloseFails) {
  auto wal = OpenWal();
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(wal->Append("late").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(wal->Close().ok());
}

TEST_F(WalTest, PreparedSegmentIsIgnoredByRecoveryAndRemovedOnClose) {
  WalOptions options;
  options.segment_size_bytes = 128;  // every record rolls
  const std::string prepared = env::JoinPath(kDir, kPreparedSegmentName);
  auto wal = OpenWal(options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(wal->Append(std::string(60, 'a' + i)).ok());
  ASSERT_TRUE(wal->Close().ok());
  EXPECT_EQ(fs_.Stat(prepared).status().code(), absl::StatusCode::kNotFound);
  // A process killed after preparing a file leaves it behind, possibly half written.
  auto file = *fs_.Open(prepared, env::OpenMode::kTruncate);
  ASSERT_TRUE(file->WriteAt(0, "garbage, not a segment header").ok());
  ASSERT_TRUE(file->Close().ok());
  auto reopened = OpenWal(options);
  EXPECT_EQ(ReadAll(reopened.get()).size(), 5u);
  EXPECT_EQ(*reopened->Append(std::string(60, 'f')), 6u);
  EXPECT_EQ(*reopened->Append(std::string(60, 'g')), 7u);
  EXPECT_EQ(ReadAll(reopened.get()).size(), 7u);
}

// A crash right after a roll named the prepared file, before any record reached it: the last
// segment has a valid header (or, if the header never became durable, zeros) and no records.
TEST_F(WalTest, LastSegmentWithoutRecordsIsEmptyAndKeepsLsns) {
  const std::string zeros(200, '\0');
  const std::vector<std::string> tails = {EncodeSegmentHeader({6, 0}),
                                          EncodeSegmentHeader({6, kFlagPrezeroed}) + zeros,
                                          std::string(kSegmentHeaderSize, '\0') + zeros};
  for (const std::string& contents : tails) {
    env::MemFileSystem fs;
    auto wal = *Wal::Open(&fs, &clock_, kDir);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(wal->Append(Cat("r", i)).ok());
    ASSERT_TRUE(wal->Close().ok());
    auto file = *fs.Open(env::JoinPath(kDir, SegmentFileName(6)), env::OpenMode::kTruncate);
    ASSERT_TRUE(file->WriteAt(0, contents).ok());
    ASSERT_TRUE(file->Close().ok());
    auto reopened = *Wal::Open(&fs, &clock_, kDir);
    EXPECT_EQ(reopened->next_lsn(), 6u);
    EXPECT_EQ(ReadAll(reopened.get()).size(), 5u);
    EXPECT_EQ(*reopened->Append("after"), 6u);
  }
}

}  // namespace
}  // namespace nobus::wal
