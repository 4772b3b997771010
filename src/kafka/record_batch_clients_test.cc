// Record batches captured from a real producer: kcat 1.7.1 / librdkafka 2.0.2 (Debian bookworm),
// idempotent, one run per codec, against a throwaway fake broker that advertised the "nobus"
// profile of spec 2.4 and dumped each Produce partition's records bytes:
//
//   printf 'k1\t{"id":1,"codec":"<codec>"}\nk2\t{"id":2,"pad":"a...a"}\n' |
//     kcat -P -b <fake> -t main.s.t -K '\t' -H trace=abc -z <codec> -X linger.ms=200
//          -X enable.idempotence=true
//
// librdkafka writes raw snappy and LZ4 frames; the xerial snappy framing (Java, kafka-python) is
// covered by record_batch_test.cc and decompress_test.cc with our own encoder.
#include <gtest/gtest.h>

#include <string>

#include "kafka/record_batch.h"

namespace nobus::kafka {
namespace {

struct Capture {
  const char* codec;
  const char* hex;
};

const Capture kLibrdkafka[] = {
    {"none",
     "0000000000000000000000ad00000000022228782a000000000001000001a24805449b000001a24805449b0000"
     "0000000010920000000000000000000252000000046b312e7b226964223a312c22636f646563223a226e6f6e65"
     "227d020a747261636506616263a001000002046b327c7b226964223a322c22706164223a226161616161616161"
     "61616161616161616161616161616161616161616161616161616161616161616161616161227d020a74726163"
     "6506616263"},
    {"gzip",
     "000000000000000000000087000000000209752870000100000001000001a248054569000001a2480545690000"
     "000000001092000000000000000000021f8b08000000000000030b62606060c936d4ab56ca4c51b232d4514ace"
     "4f494d56b2524aafca2c50aa65e22a294a4c4e654b4c4a5ec0c8c0c0c4926d5403516aa4a3549008a495124901"
     "282602005eb7d6457c000000"},
    {"snappy",
     "0000000000000000000000860000000002b0b0305c000200000001000001a248054636000001a2480546360000"
     "000000001092000000000000000000027ed056000000046b31327b226964223a312c22636f646563223a22736e"
     "61707079227d020a747261636506616263a001000002046b327c092d24322c22706164223a2261ae010030227d"
     "020a747261636506616263"},
    {"lz4",
     "00000000000000000000008d000000000245e72adf000300000001000001a248054706000001a2480547060000"
     "0000000010920000000000000000000204224d186040824d000000f22350000000046b312c7b226964223a312c"
     "22636f646563223a226c7a34227d020a747261636506616263a001000002046b327c2a00af322c22706164223a"
     "226101001904520050650661626300000000"},
    {"zstd",
     "00000000000000000000008400000000029f5b5549000400000001000001a2480547d3000001a2480547d30000"
     "0000000010920000000000000000000228b52ffd0058550200d40352000000046b312e7b226964223a312c2263"
     "6f646563223a227a737464227d020a747261636506616263a001000002046b327c322c22706164223a22610300"
     "5538403883c6610a0a"},
};

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(KafkaLibrdkafkaBatchTest, EveryCodecDecodes) {
  for (const Capture& c : kLibrdkafka) {
    SCOPED_TRACE(c.codec);
    auto b = DecodeRecordBatch(FromHex(c.hex), 1 << 20);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(CompressionName(b->header.compression()), c.codec);
    EXPECT_EQ(b->header.producer_id, 4242);  // what the fake broker's InitProducerId gave
    EXPECT_EQ(b->header.producer_epoch, 0);
    EXPECT_EQ(b->header.base_sequence, 0);
    EXPECT_EQ(b->header.LastSequence(), 1);
    EXPECT_FALSE(b->header.log_append_time());
    ASSERT_EQ(b->records.size(), 2u);
    EXPECT_EQ(b->records[0].key, std::optional<std::string_view>("k1"));
    EXPECT_EQ(b->records[0].value,
              std::optional<std::string_view>(Cat(R"({"id":1,"codec":")", c.codec, R"("})")));
    EXPECT_EQ(b->records[1].key, std::optional<std::string_view>("k2"));
    EXPECT_EQ(b->records[1].value, std::optional<std::string_view>(
                                       Cat(R"({"id":2,"pad":")", std::string(45, 'a'), R"("})")));
    for (const Record& r : b->records) {
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0].key, "trace");
      EXPECT_EQ(r.headers[0].value, std::optional<std::string_view>("abc"));
      EXPECT_EQ(r.timestamp_ms, b->header.base_timestamp);
    }
  }
}

TEST(KafkaLibrdkafkaBatchTest, AnyFlippedBitIsRefusedOrHarmless) {
  // CRC-covered bits fail the CRC; the rest (baseOffset, partitionLeaderEpoch, ...) either fail a
  // header check or leave the records alone. Nothing crashes, nothing else is accepted.
  for (const Capture& c : kLibrdkafka) {
    const std::string batch = FromHex(c.hex);
    for (size_t at = 0; at < batch.size(); ++at) {
      std::string bad = batch;
      bad[at] ^= 0x10;
      auto b = DecodeRecordBatch(bad, 1 << 20);
      if (at >= 21) {
        EXPECT_EQ(BatchErrorCode(b.status()), ErrorCode::kCorruptMessage) << c.codec << " " << at;
      } else if (b.ok()) {
        EXPECT_EQ(b->records.size(), 2u);
      }
    }
  }
}

}  // namespace
}  // namespace nobus::kafka
