// The Kafka fuzz target (test/fuzz/kafka_batch_fuzz.cc, compiled in here with
// NOBUS_FUZZ_REGRESSION) over hostile inputs and seeded random mutations of valid batches, record
// sections of every codec and request frames: each must be refused or decoded, never crash (the
// target aborts on a broken invariant, failing the test).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kafka/record_batch.h"
#include "kafka/record_batch_test_util.h"
#include "kafka/wire.h"
#include "mutations.h"

int NobusKafkaBatchFuzzOne(const uint8_t* bytes, size_t size);

namespace nobus::kafka {
namespace {

using testing::TestBatchOptions;
using testing::TestRecord;
using namespace std::string_literals;

void Fuzz(const std::string& s) {
  NobusKafkaBatchFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Flips, insertions of bytes that matter to lengths and varints, truncations of `seed`.
std::vector<std::string> Mutations(const std::string& seed, int n) {
  using namespace std::string_view_literals;
  return fuzz::Mutations(seed, n, "\x00\x01\x02\x7f\x80\xfe\xff"sv);
}

std::vector<TestRecord> Records() {
  return {{.key = "k", .value = R"({"a":1})", .headers = {{"h", "v"}, {"n", std::nullopt}}},
          {.key = std::nullopt, .value = std::nullopt, .timestamp_delta = 9},
          {.value = std::string(300, 'x')}};
}

std::vector<TestBatchOptions> AllCodecs() {
  return {{.codec = Compression::kNone},
          {.codec = Compression::kGzip},
          {.codec = Compression::kSnappy},
          {.codec = Compression::kSnappy, .xerial = true, .xerial_block_bytes = 64},
          {.codec = Compression::kLz4},
          {.codec = Compression::kZstd, .zstd_content_size = false}};
}

TEST(KafkaFuzzRegressionTest, HostileBatches) {
  std::string valid = testing::EncodeBatch(Records());
  // Record count and lastOffsetDelta of INT32_MAX over three small records: nothing reserved.
  std::string huge_count = valid;
  for (size_t at : {size_t{23}, size_t{57}}) {
    huge_count[at] = '\x7f';
    huge_count[at + 1] = huge_count[at + 2] = huge_count[at + 3] = '\xff';
  }
  huge_count[26] = '\xfe';  // lastOffsetDelta = INT32_MAX - 1
  testing::FixCrc(huge_count);
  std::string huge_length = valid;
  huge_length[8] = '\x7f';
  std::string huge_header_count =
      testing::WrapBatch(0, 1, "\x14\x00\x00\x00\x01\x01\xfe\xff\xff\xff\x0f"s);
  // Shape 2, snappy: a xerial header, then a block claiming 2 GiB.
  std::string xerial_huge_block =
      "\x02\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01\x7f\xff\xff\xff"s;
  std::string snappy_4gib = "\x02\xff\xff\xff\xff\x0f\x00"s;  // raw snappy claiming 4 GiB
  for (const std::string& s :
       {std::string(), std::string(61, '\0'), std::string(1000, '\xff'), valid, valid + valid,
        huge_count, huge_length, huge_header_count, xerial_huge_block, snappy_4gib,
        std::string("\x04\x28\xb5\x2f\xfd", 5), std::string("\x03\x04\x22\x4d\x18", 5),
        std::string("\x01\x1f\x8b\x08", 4)})
    Fuzz(s);
}

TEST(KafkaFuzzRegressionTest, MutatedBatchesOfEveryCodec) {
  for (const TestBatchOptions& o : AllCodecs()) {
    SCOPED_TRACE(CompressionName(o.codec));
    for (const std::string& m : Mutations(testing::EncodeBatch(Records(), o), 1500)) Fuzz(m);
    // Shape 2 of the target: the first byte picks the codec, the rest is the records section.
    const std::string section =
        std::string(1, static_cast<char>(o.codec)) +
        testing::CompressForTest(testing::EncodeRecords(Records()), o);
    for (const std::string& m : Mutations(section, 1500)) Fuzz(m);
  }
}

TEST(KafkaFuzzRegressionTest, MutatedRequestFrames) {
  std::string produce;
  Writer w(&produce);
  w.Int16(0);
  w.Int16(9);
  w.Int32(42);
  w.NullableString("rdkafka", false);
  w.EmptyTags();
  w.NullableString(std::nullopt, true);
  w.ArrayLength(1, true);
  w.NullableBytes(testing::EncodeBatch(Records()), true);
  w.EmptyTags();
  const std::string api_versions =
      "\x00\x12\x00\x03\x00\x00\x00\x01\x00\x07rdkafka\x00\x0blibrdkafka\x06" "2.0.2\x00"s;
  for (const std::string& seed : {produce, api_versions}) {
    for (const std::string& m : Mutations(seed, 2000)) Fuzz(m);
  }
}

}  // namespace
}  // namespace nobus::kafka
