#include "table/wal_record.h"

#include <gtest/gtest.h>

namespace nobus::table {
namespace {

TEST(WalRecordTest, HeaderRoundTrips) {
  std::string bytes = EncodeRecordHeader("main.sales.orders", "7f3a-id", 1234567);
  EXPECT_EQ(bytes[0], 1);  // the version byte comes first
  auto h = DecodeRecordHeader(bytes);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->table_name, "main.sales.orders");
  EXPECT_EQ(h->table_id, "7f3a-id");
  EXPECT_EQ(h->num_rows, 1234567);
}

TEST(WalRecordTest, NewerVersionIsFailedPrecondition) {
  std::string bytes = EncodeRecordHeader("a.b.c", "id", 1);
  bytes[0] = kRecordHeaderVersion + 1;
  auto h = DecodeRecordHeader(bytes);
  EXPECT_EQ(h.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(h.status().message().find("upgrade"), std::string::npos);
}

TEST(WalRecordTest, EveryTruncationIsDataLoss) {
  std::string bytes = EncodeRecordHeader("a.b.c", "id", 300);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto h = DecodeRecordHeader(std::string_view(bytes).substr(0, n));
    EXPECT_EQ(h.status().code(), absl::StatusCode::kDataLoss) << "prefix " << n;
  }
}

TEST(WalRecordTest, TrailingBytesAreDataLoss) {
  std::string bytes = EncodeRecordHeader("a.b.c", "id", 1) + "x";
  EXPECT_EQ(DecodeRecordHeader(bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(WalRecordTest, OverlongLengthIsDataLoss) {
  std::string bytes = "\x01\x7f" "abc";  // name length 127, 3 bytes follow
  EXPECT_EQ(DecodeRecordHeader(bytes).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace nobus::table
