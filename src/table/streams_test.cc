// Persistent streams in the ingest service: ids, the WAL record's stream mark, the stream txns of
// commits, resume after a crash (WAL replay) and after WAL release (the Delta txn), retirement and
// expiry.
#include "table/streams.h"

#include <gtest/gtest.h>

#include "delta/config.h"
#include "env/mem_env.h"
#include "table/ingest_service.h"
#include "table/test_util.h"

namespace nobus::table::testing {
namespace {

TEST(StreamIdTest, RoundTripsAndRefusesOtherShapes) {
  std::string id = NewStreamId("main.s.t", 1733400000123);
  absl::StatusOr<ParsedStreamId> parsed = ParseStreamId(id);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->table, "main.s.t");
  EXPECT_EQ(parsed->created_ms, 1733400000123);
  EXPECT_NE(NewStreamId("main.s.t", 1), NewStreamId("main.s.t", 1));
  for (const char* bad : {"", "x", "main.s.t/1/abc", "main.s.t/x/0123456789abcdef",
                          "/1/0123456789abcdef", "main.s.t/-1/0123456789abcdef",
                          "main.s.t/1/0123456789ABCDEF", "nobus-wal-1234"})
    EXPECT_TRUE(absl::IsInvalidArgument(ParseStreamId(bad).status())) << bad;
}

TEST(StreamIdTest, WalHeaderCarriesTheMark) {
  std::string v1 = EncodeRecordHeader("main.s.t", "id", 3);
  EXPECT_EQ(v1[0], 1);  // no stream: readable by older nobus
  StreamMark mark{NewStreamId("main.s.t", 5), 41};
  std::string v2 = EncodeRecordHeader("main.s.t", "id", 3, mark);
  EXPECT_EQ(v2[0], 2);
  absl::StatusOr<RecordHeader> h = DecodeRecordHeader(v2);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->stream.stream_id, mark.stream_id);
  EXPECT_EQ(h->stream.offset, 41);
  EXPECT_EQ(h->num_rows, 3);
  EXPECT_TRUE(DecodeRecordHeader(v1)->stream.empty());
  for (size_t cut = 1; cut < v2.size(); ++cut)
    EXPECT_FALSE(DecodeRecordHeader(v2.substr(0, cut)).ok()) << cut;
  std::string v3 = v2;
  v3[0] = 3;
  EXPECT_TRUE(absl::IsFailedPrecondition(DecodeRecordHeader(v3).status()));
}

TEST(StreamIdTest, TxnsTakeTheHighestOffsetAndSkipRetired) {
  StreamOffsets offsets;
  StreamMark a1{"t/1/0000000000000001", 3}, a2{"t/1/0000000000000001", 7},
      b{"t/1/0000000000000002", 0}, r{"t/1/0000000000000003", 9}, none;
  offsets.Retire(r.stream_id, 10);
  std::vector<delta::Txn> txns = StreamTxns({&a2, &a1, &b, &r, &none}, offsets, 55);
  ASSERT_EQ(txns.size(), 2u);
  EXPECT_EQ(txns[0], (delta::Txn{a1.stream_id, 7, 55}));
  EXPECT_EQ(txns[1], (delta::Txn{b.stream_id, 0, 55}));
}

TEST(StreamIdTest, OnlyIdleStreamTxnsExpireFromCheckpoints) {
  delta::Metadata m;
  m.configuration[delta::kStreamRetentionKey] = "interval 1 hour";
  const int64_t now = 10 * 3'600'000;
  std::string id = NewStreamId("main.s.t", 1);
  EXPECT_TRUE(ExpiredStreamTxn(delta::Txn{id, 5, now - 3'600'001}, m, now));
  EXPECT_FALSE(ExpiredStreamTxn(delta::Txn{id, 5, now - 60'000}, m, now));
  EXPECT_FALSE(ExpiredStreamTxn(delta::Txn{"nobus-wal-1", 5, 0}, m, now));  // a node's WAL txn
  EXPECT_FALSE(ExpiredStreamTxn(delta::Txn{id, 5, std::nullopt}, m, now));
}

class PersistentStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    service_ = OpenService(&fs_, &clock_, dir_.Sub("live"), TestOptions());
    ASSERT_NE(service_, nullptr);
    table_ = CreateAndOpen(service_.get(), "main.s.t");
  }
  absl::Status AppendMarked(const std::string& id, int64_t offset, int64_t first_id) {
    Acks acks;
    NOBUS_RETURN_IF_ERROR(service_->Append(*table_, MakeBlob(first_id, 1), 1, acks.Callback(),
                                           StreamMark{id, offset}));
    return acks.Wait(1);
  }
  void Restart() {
    ASSERT_TRUE(service_->Close().ok());
    table_.reset();
    service_ = OpenService(&fs_, &clock_, dir_.Sub("live"), TestOptions());
    ASSERT_NE(service_, nullptr);
    auto t = service_->OpenTable(Name("main.s.t"));
    ASSERT_TRUE(t.ok());
    table_ = *t;
  }
  std::string TableDir() { return service_->catalog()->TableDir(Name("main.s.t")); }

  TempDir dir_;
  FlakyFileSystem fs_;
  env::ManualClock clock_;
  std::unique_ptr<IngestService> service_;
  std::shared_ptr<const LiveTable> table_;
};

TEST_F(PersistentStreamTest, DurableOffsetsSurviveACrashAndWalRelease) {
  absl::StatusOr<std::string> id = service_->CreateStream(*table_);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*service_->ResumeStream(*table_, *id), std::nullopt);
  for (int64_t i = 0; i < 3; ++i) ASSERT_TRUE(AppendMarked(*id, i, 100 + i).ok());
  EXPECT_EQ(*service_->ResumeStream(*table_, *id), 2);
  // A crash before any commit: the WAL replay brings offset 2 back.
  std::string copy = dir_.Sub("crash");
  CopyTree(dir_.Sub("live"), copy);
  {
    auto crashed = OpenService(&fs_, &clock_, copy, TestOptions());
    ASSERT_NE(crashed, nullptr);
    auto t = crashed->OpenTable(Name("main.s.t"));
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(*crashed->ResumeStream(**t, *id), 2);
  }
  // Committed and the WAL released: the Delta txn carries it.
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(*id), 2);
  ASSERT_TRUE(AppendMarked(*id, 3, 103).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  Restart();
  EXPECT_EQ(*service_->ResumeStream(*table_, *id), 3);
  EXPECT_EQ(ReadIds(TableDir()), Range(100, 4));
}

TEST_F(PersistentStreamTest, ANodeOnItsOwnTablesKnowsNoOtherWriter) {
  std::string id = *service_->CreateStream(*table_);
  ASSERT_TRUE(AppendMarked(id, 0, 1).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_FALSE(service_->OtherNodesMayWrite(*table_));  // a gap stays INVALID_ARGUMENT
}

TEST_F(PersistentStreamTest, CompactionKeepsTheStreamOffsets) {
  std::string id = *service_->CreateStream(*table_);
  for (int64_t i = 0; i < 4; ++i) {  // four commits: four small files
    ASSERT_TRUE(AppendMarked(id, i, 10 + i).ok());
    ASSERT_TRUE(service_->FlushAll().ok());
  }
  absl::StatusOr<CompactionReport> report = service_->Optimize(Name("main.s.t"));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->files_after, 1);
  Restart();
  EXPECT_EQ(*service_->ResumeStream(*table_, id), 3);
  EXPECT_EQ(ReadIds(TableDir()), Range(10, 4));
}

TEST_F(PersistentStreamTest, RetiredStreamsStayRetiredAndRetireIsIdempotent) {
  std::string id = *service_->CreateStream(*table_);
  ASSERT_TRUE(AppendMarked(id, 0, 1).ok());
  ASSERT_TRUE(service_->RetireStream(Name("main.s.t"), id).ok());
  ASSERT_TRUE(service_->RetireStream(Name("main.s.t"), id).ok());
  EXPECT_EQ(ReadIds(TableDir()), Range(1, 1));  // its rows landed before the retirement
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(id), kRetiredStreamVersion);
  EXPECT_TRUE(absl::IsFailedPrecondition(service_->ResumeStream(*table_, id).status()));
  Restart();
  absl::Status st = service_->ResumeStream(*table_, id).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("retired"), std::string::npos) << st;
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_->RetireStream(Name("main.s.t"), "other.s.t/1/0123456789abcdef")));
}

TEST_F(PersistentStreamTest, IdleStreamsExpireAfterTheRetention) {
  ASSERT_TRUE(service_->SetTableProperties(Name("main.s.t"),
                                           {{delta::kStreamRetentionKey, "interval 1 hour"}})
                  .ok());
  std::string written = *service_->CreateStream(*table_);
  std::string unwritten = *service_->CreateStream(*table_);
  ASSERT_TRUE(AppendMarked(written, 0, 1).ok());
  ASSERT_TRUE(service_->FlushAll().ok());
  clock_.AdvanceMicros(30ll * 60 * 1000 * 1000);
  EXPECT_EQ(*service_->ResumeStream(*table_, written), 0);  // and active again from now
  clock_.AdvanceMicros(61ll * 60 * 1000 * 1000);
  Restart();  // the state comes from the Delta txn's lastUpdated and the id's mint time
  for (const std::string& id : {written, unwritten}) {
    absl::Status st = service_->ResumeStream(*table_, id).status();
    EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
    EXPECT_NE(st.message().find("expired"), std::string::npos) << st;
  }
}

TEST_F(PersistentStreamTest, LiveIdsAreBoundedPerTable) {
  ASSERT_TRUE(
      service_->SetTableProperties(Name("main.s.t"), {{delta::kStreamMaxLiveKey, "2"}}).ok());
  std::string first = *service_->CreateStream(*table_);
  ASSERT_TRUE(service_->CreateStream(*table_).ok());
  absl::Status st = service_->CreateStream(*table_).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_NE(st.message().find("nobus.streams.maxLive"), std::string::npos) << st;
  ASSERT_TRUE(service_->RetireStream(Name("main.s.t"), first).ok());
  EXPECT_TRUE(service_->CreateStream(*table_).ok());  // a retired id frees its place
}

TEST_F(PersistentStreamTest, MarkOnlyRecordsSurviveACrashAndCommitAsTxnsWithoutRows) {
  const std::string prefix = MqttSessionPrefix("main.s.t", "c0ffee");
  ASSERT_TRUE(AppendMarked(prefix + "0", 10, 1).ok());  // a row with its mark
  Acks acks;
  ASSERT_TRUE(service_->AppendMark(*table_, StreamMark{prefix + "0", 11}, acks.Callback()).ok());
  ASSERT_TRUE(acks.Wait(1).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      service_->AppendMark(*table_, StreamMark{}, [](absl::Status) {})));
  auto found = [&](IngestService& s) {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const IngestService::FoundMark& m :
         s.FindMarks([](const std::string& t) { return MqttSessionPrefix(t, "c0ffee"); }))
      out.emplace_back(m.id, m.offset);
    return out;
  };
  const std::vector<std::pair<std::string, int64_t>> want = {{prefix + "0", 11}};
  EXPECT_EQ(found(*service_), want);
  // A crash before any commit: the WAL replay brings the mark back.
  std::string copy = dir_.Sub("crash");
  CopyTree(dir_.Sub("live"), copy);
  {
    auto crashed = OpenService(&fs_, &clock_, copy, TestOptions());
    ASSERT_NE(crashed, nullptr);
    EXPECT_EQ(found(*crashed), want);
  }
  // Committed: the txn carries it, the table holds the one row; after a restart it is found.
  ASSERT_TRUE(service_->FlushAll().ok());
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(prefix + "0"), 11);
  Acks more;
  ASSERT_TRUE(service_->AppendMark(*table_, StreamMark{prefix + "1", 5}, more.Callback()).ok());
  ASSERT_TRUE(more.Wait(1).ok());
  ASSERT_TRUE(service_->FlushAll().ok());  // a commit of a mark alone
  EXPECT_EQ(LoadSnapshot(TableDir()).TxnVersion(prefix + "1"), 5);
  Restart();
  const std::vector<std::pair<std::string, int64_t>> after = {{prefix + "0", 11},
                                                              {prefix + "1", 5}};
  EXPECT_EQ(found(*service_), after);
  EXPECT_EQ(ReadIds(TableDir()), Range(1, 1));
  // Past the retention (default 7 days) the marks are still found, flagged expired.
  clock_.AdvanceMicros(int64_t{8} * 24 * 3600 * 1000 * 1000);
  std::vector<IngestService::FoundMark> old =
      service_->FindMarks([](const std::string& t) { return MqttSessionPrefix(t, "c0ffee"); });
  ASSERT_EQ(old.size(), 2u);
  EXPECT_TRUE(old[0].expired && old[1].expired);
}

}  // namespace
}  // namespace nobus::table::testing
