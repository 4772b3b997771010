#include "wal/format.h"

#include <string>
#include <vector>

#include "common/coding.h"
#include "gtest/gtest.h"
#include "wal/recovery.h"

namespace nobus::wal {
namespace {

std::string Segment(Lsn first, const std::vector<std::vector<std::string_view>>& records) {
  std::string data = EncodeSegmentHeader({first, 0});
  Lsn lsn = first;
  for (const auto& r : records) {
    AppendRecord(lsn, r, &data);
    lsn += r.size();
  }
  return data;
}

std::vector<std::pair<Lsn, std::string>> Payloads(std::string_view data, Lsn first,
                                                  SegmentParser::Result* end) {
  std::vector<std::pair<Lsn, std::string>> out;
  SegmentParser parser(data, first);
  RecordView rec;
  while ((*end = parser.Next(&rec)) == SegmentParser::Result::kRecord) {
    EXPECT_TRUE(ForEachPayload(rec, [&](Lsn lsn, std::string_view p) {
                  out.emplace_back(lsn, std::string(p));
                  return absl::OkStatus();
                }).ok());
  }
  return out;
}

TEST(FormatTest, FileNamesRoundTrip) {
  EXPECT_EQ(SegmentFileName(42), "00000000000000000042.wal");
  Lsn lsn = 0;
  ASSERT_TRUE(ParseSegmentFileName("00000000000000000042.wal", &lsn));
  EXPECT_EQ(lsn, 42u);
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000042.wal", &lsn));
  EXPECT_FALSE(ParseSegmentFileName("0000000000000000004x.wal", &lsn));
  EXPECT_FALSE(ParseSegmentFileName("99999999999999999999.wal", &lsn));  // overflows
  EXPECT_FALSE(ParseSegmentFileName("00000000000000000042.tmp", &lsn));
}

TEST(FormatTest, SegmentHeaderRoundTripAndChecks) {
  std::string h = EncodeSegmentHeader({7, kFlagPrezeroed});
  ASSERT_EQ(h.size(), kSegmentHeaderSize);
  SegmentHeader out;
  std::string why;
  ASSERT_TRUE(DecodeSegmentHeader(h, &out, &why)) << why;
  EXPECT_EQ(out.first_lsn, 7u);
  EXPECT_EQ(out.flags, kFlagPrezeroed);
  h[17] ^= 1;
  EXPECT_FALSE(DecodeSegmentHeader(h, &out, &why));
  EXPECT_NE(why.find("checksum"), std::string::npos);
  EXPECT_FALSE(DecodeSegmentHeader(h.substr(0, 20), &out, &why));
}

TEST(FormatTest, SingleAndBatchRecordsGetConsecutiveLsns) {
  std::string data = Segment(10, {{"a"}, {"bb", "", "ccc"}, {"d"}});
  SegmentParser::Result end;
  auto got = Payloads(data, 10, &end);
  EXPECT_EQ(end, SegmentParser::Result::kEnd);
  std::vector<std::pair<Lsn, std::string>> want = {
      {10, "a"}, {11, "bb"}, {12, ""}, {13, "ccc"}, {14, "d"}};
  EXPECT_EQ(got, want);
  std::vector<std::string_view> batch = {"bb", "", "ccc"};
  EXPECT_EQ(FramedSize(batch), kRecordHeaderSize + 1 + 3 + 5);
}

TEST(FormatTest, EveryTruncationIsBadOrCleanNeverGarbage) {
  std::string data = Segment(1, {{"hello"}, {"x", "y"}});
  for (size_t n = kSegmentHeaderSize; n < data.size(); ++n) {
    SegmentParser::Result end;
    auto got = Payloads(std::string_view(data.data(), n), 1, &end);
    const size_t first_end = kSegmentHeaderSize + kRecordHeaderSize + 5;
    if (n == kSegmentHeaderSize || n == first_end) {
      EXPECT_EQ(end, SegmentParser::Result::kEnd) << n;
    } else {
      EXPECT_EQ(end, SegmentParser::Result::kBad) << n;
    }
    EXPECT_EQ(got.size(), n >= first_end ? 1u : 0u) << n;
  }
}

TEST(FormatTest, EveryBitFlipIsDetected) {
  std::string data = Segment(1, {{"payload-one"}, {"p2", "p3"}});
  for (size_t i = kSegmentHeaderSize; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] ^= 0x10;
    SegmentParser parser(bad, 1);
    RecordView rec;
    SegmentParser::Result r;
    int n = 0;
    while ((r = parser.Next(&rec)) == SegmentParser::Result::kRecord) ++n;
    EXPECT_EQ(r, SegmentParser::Result::kBad) << "flip at " << i;
    EXPECT_LT(n, 2) << "flip at " << i;
  }
}

TEST(FormatTest, ZeroTailIsCleanEndButGarbageAfterZerosIsBad) {
  std::string data = Segment(1, {{"a"}}) + std::string(100, '\0');
  SegmentParser::Result end;
  EXPECT_EQ(Payloads(data, 1, &end).size(), 1u);
  EXPECT_EQ(end, SegmentParser::Result::kEnd);
  data[data.size() - 3] = 'x';
  Payloads(data, 1, &end);
  EXPECT_EQ(end, SegmentParser::Result::kBad);
}

TEST(FormatTest, WrongLsnIsBad) {
  std::string data = Segment(5, {{"a"}});
  SegmentParser parser(data, 6);
  RecordView rec;
  EXPECT_EQ(parser.Next(&rec), SegmentParser::Result::kBad);
  EXPECT_NE(parser.reason().find("LSN"), std::string::npos);
}

TEST(FormatTest, ScanReportsHeaderMismatchWithName) {
  std::string data = Segment(5, {{"a"}});
  auto scan = ScanSegmentBytes(data, 6, {});
  ASSERT_TRUE(scan.ok());
  EXPECT_FALSE(scan->header_ok);
  EXPECT_FALSE(scan->clean);
}

}  // namespace
}  // namespace nobus::wal
