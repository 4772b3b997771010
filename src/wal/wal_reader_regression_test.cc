// Runs the libFuzzer target (test/fuzz/wal_reader_fuzz.cc, linked in) over hand-made corrupt
// segments, so every build exercises it without clang. The target aborts on a broken invariant.
#include <cstdint>
#include <string>
#include <vector>

#include "common/coding.h"
#include "common/crc32c.h"
#include "gtest/gtest.h"
#include "wal/format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size);

namespace nobus::wal {
namespace {

int RunTarget(const std::string& input) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string ValidSegment() {
  std::string data = EncodeSegmentHeader({5, 0});
  std::vector<std::string_view> one = {"hello"};
  std::vector<std::string_view> three = {"a", "bb", "ccc"};
  AppendRecord(5, one, &data);
  AppendRecord(6, three, &data);
  return data;
}

TEST(WalReaderRegressionTest, KnownBadInputsDoNotCrash) {
  const std::string valid = ValidSegment();
  std::vector<std::string> inputs = {
      "",
      "NOBUSWAL",
      std::string(64, '\0'),
      valid,
      valid.substr(0, valid.size() - 1),
      valid + std::string(40, '\0'),
      valid + std::string(40, '\0') + "x",
      valid + std::string(kRecordHeaderSize, '\xff'),
  };
  std::string huge_length = valid;
  EncodeFixed32(huge_length.data() + kSegmentHeaderSize + 4, 0xfffffff0u);
  inputs.push_back(huge_length);
  // A batch record whose CRC is right but whose count and lengths are lies.
  std::string bad_batch = EncodeSegmentHeader({5, 0});
  std::string body;
  PutVarint32(&body, 1000);
  PutVarint32(&body, 7);
  body += "xy";
  std::string rec(kRecordHeaderSize, '\0');
  EncodeFixed32(rec.data() + 4, static_cast<uint32_t>(body.size()));
  rec[8] = static_cast<char>(RecordType::kBatch);
  EncodeFixed64(rec.data() + 9, 5);
  rec += body;
  EncodeFixed32(rec.data(), 0);
  std::string crc_input = rec.substr(4);
  EncodeFixed32(rec.data(), crc32c::Mask(crc32c::Value(crc_input)));
  inputs.push_back(bad_batch + rec);
  // A header claiming the largest LSN.
  inputs.push_back(EncodeSegmentHeader({~Lsn{0}, 0}) + valid.substr(kSegmentHeaderSize));
  for (size_t i = 0; i < valid.size(); i += 7) {
    std::string flipped = valid;
    flipped[i] ^= 0x5a;
    inputs.push_back(flipped);
  }
  for (const std::string& input : inputs) EXPECT_EQ(RunTarget(input), 0);
}

}  // namespace
}  // namespace nobus::wal
