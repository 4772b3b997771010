#include "kafka/record_batch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "kafka/record_batch_test_util.h"

namespace nobus::kafka {
namespace {

using ::testing::HasSubstr;
using testing::EncodeBatch;
using testing::TestBatchOptions;
using testing::TestRecord;
using testing::WrapBatch;

constexpr size_t kCap = 1 << 20;

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::vector<TestRecord> SampleRecords() {
  return {
      {.key = std::nullopt, .value = R"({"id":1})", .headers = {}, .timestamp_delta = 0},
      {.key = "k", .value = std::nullopt, .headers = {{"h1", "v1"}, {"h2", std::nullopt}},
       .timestamp_delta = 7},
      {.key = "", .value = "", .headers = {{"", ""}}, .timestamp_delta = -3},
      {.key = "key", .value = std::string(5000, 'x') + R"({"big":true})", .headers = {},
       .timestamp_delta = 1 << 20},
  };
}

void ExpectSample(const RecordBatch& b, const TestBatchOptions& o) {
  std::vector<TestRecord> want = SampleRecords();
  ASSERT_EQ(b.records.size(), want.size());
  EXPECT_EQ(b.header.record_count, static_cast<int32_t>(want.size()));
  EXPECT_EQ(b.header.compression(), o.codec);
  for (size_t i = 0; i < want.size(); ++i) {
    const Record& r = b.records[i];
    EXPECT_EQ(r.offset_delta, static_cast<int32_t>(i));
    EXPECT_EQ(r.timestamp_delta, want[i].timestamp_delta);
    EXPECT_EQ(r.timestamp_ms, o.base_timestamp + want[i].timestamp_delta);
    EXPECT_EQ(r.key.has_value(), want[i].key.has_value()) << i;
    if (r.key && want[i].key) {
      EXPECT_EQ(*r.key, *want[i].key);
    }
    EXPECT_EQ(r.value.has_value(), want[i].value.has_value()) << i;
    if (r.value && want[i].value) {
      EXPECT_EQ(*r.value, *want[i].value);
    }
    ASSERT_EQ(r.headers.size(), want[i].headers.size());
    for (size_t h = 0; h < r.headers.size(); ++h) {
      EXPECT_EQ(r.headers[h].key, want[i].headers[h].first);
      EXPECT_EQ(r.headers[h].value, want[i].headers[h].second);
    }
  }
}

struct CodecCase {
  const char* name;
  TestBatchOptions options;
};

class KafkaRoundTripTest : public ::testing::TestWithParam<CodecCase> {};

TEST_P(KafkaRoundTripTest, DecodesWhatWasEncoded) {
  const TestBatchOptions& o = GetParam().options;
  std::string batch = EncodeBatch(SampleRecords(), o);
  auto decoded = DecodeRecordBatch(batch, kCap);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSample(*decoded, o);
  // The views stay valid when the batch moves.
  RecordBatch moved = *std::move(decoded);
  ExpectSample(moved, o);
}

TEST_P(KafkaRoundTripTest, EveryTruncationIsRefused) {
  std::string batch = EncodeBatch(SampleRecords(), GetParam().options);
  for (size_t n = 0; n < batch.size(); ++n) {
    auto decoded = DecodeRecordBatch(std::string_view(batch).substr(0, n), kCap);
    ASSERT_FALSE(decoded.ok()) << n;
    EXPECT_EQ(BatchErrorCode(decoded.status()),
              n == 0 ? ErrorCode::kInvalidRecord : ErrorCode::kCorruptMessage)
        << n << ": " << decoded.status();
  }
}

TEST_P(KafkaRoundTripTest, CompressionBombsStopAtTheCap) {
  TestBatchOptions o = GetParam().options;
  std::vector<TestRecord> records(4, TestRecord{.value = std::string(100000, '0')});
  std::string batch = EncodeBatch(records, o);
  const size_t size = testing::EncodeRecords(records).size();
  EXPECT_TRUE(DecodeRecordBatch(batch, size).ok());
  auto refused = DecodeRecordBatch(batch, size - 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(BatchErrorCode(refused.status()), ErrorCode::kMessageTooLarge) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr(Cat(size - 1)));
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, KafkaRoundTripTest,
    ::testing::Values(
        CodecCase{"none", {.codec = Compression::kNone}},
        CodecCase{"gzip", {.codec = Compression::kGzip}},
        CodecCase{"snappy_raw", {.codec = Compression::kSnappy}},
        CodecCase{"snappy_xerial", {.codec = Compression::kSnappy, .xerial = true,
                                    .xerial_block_bytes = 1000}},
        CodecCase{"lz4", {.codec = Compression::kLz4}},
        CodecCase{"zstd", {.codec = Compression::kZstd}},
        CodecCase{"zstd_streamed", {.codec = Compression::kZstd, .zstd_content_size = false}}),
    [](const ::testing::TestParamInfo<CodecCase>& info) { return std::string(info.param.name); });

// Two records by hand, CRC computed independently (a bitwise CRC-32C in Python): a null key with
// a header whose value is null, then a tombstone with timestampDelta 5.
const char kHandWritten[] =
    "0000000000000000"  // baseOffset
    "0000004a"          // batchLength 74
    "ffffffff"          // partitionLeaderEpoch
    "02"                // magic
    "7e1f19db"          // crc
    "0000"              // attributes
    "00000001"          // lastOffsetDelta
    "0000018bcfe56800"  // baseTimestamp 1700000000000
    "0000018bcfe56805"  // maxTimestamp
    "ffffffffffffffff" "ffff" "ffffffff"  // producerId, producerEpoch, baseSequence
    "00000002"                            // recordCount
    "20" "00" "00" "00" "01" "0e" "7b2261223a317d" "02" "02" "68" "01"  // {"a":1}, h -> null
    "0e" "00" "0a" "02" "02" "6b" "01" "00";                            // key "k", value null

TEST(KafkaRecordBatchTest, HandWrittenBatch) {
  auto b = DecodeRecordBatch(FromHex(kHandWritten), kCap);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->header.batch_length, 74);
  EXPECT_EQ(b->header.partition_leader_epoch, -1);
  EXPECT_EQ(b->header.crc, 0x7e1f19dbu);
  EXPECT_FALSE(b->header.has_producer_id());
  EXPECT_EQ(b->header.LastSequence(), -1);
  ASSERT_EQ(b->records.size(), 2u);
  EXPECT_EQ(b->records[0].key, std::nullopt);
  EXPECT_EQ(b->records[0].value, std::optional<std::string_view>(R"({"a":1})"));
  ASSERT_EQ(b->records[0].headers.size(), 1u);
  EXPECT_EQ(b->records[0].headers[0].key, "h");
  EXPECT_EQ(b->records[0].headers[0].value, std::nullopt);
  EXPECT_EQ(b->records[0].timestamp_ms, 1700000000000);
  EXPECT_EQ(b->records[1].key, std::optional<std::string_view>("k"));
  EXPECT_EQ(b->records[1].value, std::nullopt);
  EXPECT_EQ(b->records[1].timestamp_ms, 1700000000005);
  EXPECT_EQ(b->records[1].offset_delta, 1);
}

TEST(KafkaRecordBatchTest, TheCrcCoversAttributesToTheEndOnly) {
  std::string batch = FromHex(kHandWritten);
  batch[12] ^= 0x55;  // partitionLeaderEpoch: not covered, a broker may rewrite it
  EXPECT_TRUE(DecodeRecordBatch(batch, kCap).ok());
  for (size_t at : {size_t{21}, size_t{30}, batch.size() - 1}) {
    std::string bad = FromHex(kHandWritten);
    bad[at] ^= 0x01;
    auto decoded = DecodeRecordBatch(bad, kCap);
    ASSERT_FALSE(decoded.ok()) << at;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss) << at;
    EXPECT_EQ(BatchErrorCode(decoded.status()), ErrorCode::kCorruptMessage);
    EXPECT_THAT(decoded.status().message(), HasSubstr("CRC-32C mismatch"));
  }
}

TEST(KafkaRecordBatchTest, MagicOtherThanTwoIsAnInvalidRecord) {
  for (char magic : {0, 1, 3}) {
    std::string batch = FromHex(kHandWritten);
    batch[16] = magic;
    auto st = ParseBatchHeader(batch).status();
    EXPECT_EQ(BatchErrorCode(st), ErrorCode::kInvalidRecord);
    EXPECT_THAT(st.message(), HasSubstr(Cat("magic ", static_cast<int>(magic))));
  }
}

TEST(KafkaRecordBatchTest, OneBatchPerPartition) {
  std::string one = FromHex(kHandWritten);
  auto two = DecodeRecordBatch(one + one, kCap);
  EXPECT_EQ(BatchErrorCode(two.status()), ErrorCode::kInvalidRecord);
  EXPECT_THAT(two.status().message(), HasSubstr("second batch"));
  auto trailing = DecodeRecordBatch(one + "x", kCap);
  EXPECT_EQ(BatchErrorCode(trailing.status()), ErrorCode::kInvalidRecord);
  EXPECT_THAT(trailing.status().message(), HasSubstr("1 bytes after the batch of 86 bytes"));
  auto none = DecodeRecordBatch("", kCap);
  EXPECT_EQ(BatchErrorCode(none.status()), ErrorCode::kInvalidRecord);
}

TEST(KafkaRecordBatchTest, ImpossibleBatchLengthIsCorrupt) {
  std::string batch = FromHex(kHandWritten);
  batch[11] = 48;  // batchLength below the header's 49 bytes
  EXPECT_EQ(BatchErrorCode(ParseBatchHeader(batch).status()), ErrorCode::kCorruptMessage);
  batch[8] = '\x80';  // negative
  EXPECT_EQ(BatchErrorCode(ParseBatchHeader(batch).status()), ErrorCode::kCorruptMessage);
}

TEST(KafkaRecordBatchTest, UnknownCodecs) {
  for (int16_t codec : {5, 6, 7}) {
    std::string batch = WrapBatch(codec, 1, testing::EncodeRecords({TestRecord{}}));
    auto st = DecodeRecordBatch(batch, kCap).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kUnimplemented);
    EXPECT_EQ(BatchErrorCode(st), ErrorCode::kUnsupportedCompressionType);
  }
}

TEST(KafkaRecordBatchTest, RecordCountMustMatch) {
  std::string two = testing::EncodeRecords({TestRecord{.value = "a"}, TestRecord{.value = "b"}});
  auto too_many = DecodeRecordBatch(WrapBatch(0, 3, two), kCap);
  EXPECT_EQ(BatchErrorCode(too_many.status()), ErrorCode::kInvalidRecord);
  EXPECT_THAT(too_many.status().message(), HasSubstr("declares 3 records but holds 2"));
  auto too_few = DecodeRecordBatch(WrapBatch(0, 1, two), kCap);
  EXPECT_EQ(BatchErrorCode(too_few.status()), ErrorCode::kInvalidRecord);
  EXPECT_THAT(too_few.status().message(), HasSubstr("after the 1 declared records"));
  EXPECT_EQ(BatchErrorCode(DecodeRecordBatch(WrapBatch(0, 0, ""), kCap).status()),
            ErrorCode::kInvalidRecord);

  std::string bad_delta = WrapBatch(0, 2, two);
  bad_delta[26] = 5;  // lastOffsetDelta 5 with 2 records
  testing::FixCrc(bad_delta);
  auto st = ParseBatchHeader(bad_delta).status();
  EXPECT_EQ(BatchErrorCode(st), ErrorCode::kInvalidRecord);
  EXPECT_THAT(st.message(), HasSubstr("lastOffsetDelta 5"));
}

TEST(KafkaRecordBatchTest, MalformedRecordsBehindAGoodCrcAreInvalid) {
  // offsetDelta 1 for the first record.
  std::string records = testing::EncodeRecords({TestRecord{.value = "a"}});
  records[3] = 2;  // length, attributes, timestampDelta, then offsetDelta (zigzag 1)
  auto st = DecodeRecordBatch(WrapBatch(0, 1, records), kCap).status();
  EXPECT_EQ(BatchErrorCode(st), ErrorCode::kInvalidRecord);
  EXPECT_THAT(st.message(), HasSubstr("record 0 (byte 0 of the records): offsetDelta 1"));

  // A value length past the record's end.
  records = testing::EncodeRecords({TestRecord{.value = "abc"}});
  records[5] = 20;
  st = DecodeRecordBatch(WrapBatch(0, 1, records), kCap).status();
  EXPECT_EQ(BatchErrorCode(st), ErrorCode::kInvalidRecord);
  EXPECT_THAT(st.message(), HasSubstr("malformed value"));

  // A header with a null key.
  records = FromHex("0e" "00" "00" "00" "01" "01" "02" "01" "01");  // 1 header: key -1, value -1
  records[0] = static_cast<char>(2 * (records.size() - 1));
  st = DecodeRecordBatch(WrapBatch(0, 1, records), kCap).status();
  EXPECT_THAT(st.message(), HasSubstr("header 0 has a null key"));

  // A record whose length covers more than its fields.
  records = testing::EncodeRecords({TestRecord{.value = "a"}}) + "z";
  records[0] = static_cast<char>(records[0] + 2);
  st = DecodeRecordBatch(WrapBatch(0, 1, records), kCap).status();
  EXPECT_THAT(st.message(), HasSubstr("its length covers more than its fields"));
}

TEST(KafkaRecordBatchTest, UndecodableCompressedDataIsCorrupt) {
  for (int16_t codec : {1, 2, 3, 4}) {
    auto st = DecodeRecordBatch(WrapBatch(codec, 1, "not compressed at all"), kCap).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << codec << ": " << st;
    EXPECT_EQ(BatchErrorCode(st), ErrorCode::kCorruptMessage);
  }
}

TEST(KafkaRecordBatchTest, ControlBatchesAreRefused) {
  std::string batch = EncodeBatch({TestRecord{.value = "a"}}, {.extra_attributes = 0x20});
  EXPECT_EQ(BatchErrorCode(ParseBatchHeader(batch).status()), ErrorCode::kInvalidRecord);
}

TEST(KafkaRecordBatchTest, HeaderFlagsAndSequences) {
  TestBatchOptions o{.extra_attributes = 0x08 | 0x10, .producer_id = 7, .producer_epoch = 3,
                     .base_sequence = 2147483646};
  std::vector<TestRecord> three(3, TestRecord{.value = "v"});
  auto h = ParseBatchHeader(EncodeBatch(three, o));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_TRUE(h->log_append_time());
  EXPECT_TRUE(h->is_transactional());
  EXPECT_TRUE(h->has_producer_id());
  EXPECT_EQ(h->producer_epoch, 3);
  EXPECT_EQ(h->LastSequence(), 0);  // 2147483646 + 2 wraps past INT32_MAX to 0
  // kafkajs: no producer id, yet epoch 0 and sequence 0.
  auto js = ParseBatchHeader(EncodeBatch(three, {.producer_epoch = 0, .base_sequence = 0}));
  ASSERT_TRUE(js.ok());
  EXPECT_FALSE(js->has_producer_id());
  EXPECT_EQ(js->LastSequence(), 2);
}

TEST(KafkaRecordBatchTest, ErrorCodesSurviveAnnotation) {
  auto st = DecodeRecordBatch(FromHex(kHandWritten).substr(0, 40), kCap).status();
  EXPECT_EQ(BatchErrorCode(Annotate(st, "topic main.s.t partition 0")),
            ErrorCode::kCorruptMessage);
  EXPECT_EQ(BatchErrorCode(absl::OkStatus()), ErrorCode::kNone);
  EXPECT_EQ(BatchErrorCode(absl::InternalError("x")), ErrorCode::kUnknownServerError);
}

}  // namespace
}  // namespace nobus::kafka
