// libFuzzer target for the Kafka codec (src/kafka; untrusted bytes: every frame a Kafka client
// sends, and the records field of every Produce partition). Three shapes per input:
//   1. the input as the records field (DecodeRecordBatch, ParseBatchHeader);
//   2. the input after its first byte wrapped in a batch header with a correct CRC, the first byte
//      choosing the codec (bits 0-2, unknown codecs 5-7 included) and the record count (bits 3-4),
//      so the fuzzer gets past the CRC into the decompressors and the record parser;
//   3. the input as a request frame (ParseRequestHeader), its body read as an ApiVersions v3 or
//      Produce request would start.
// Invariants: no crash, hang or sanitizer report; an error is one of the documented status codes
// (never Internal or OK-with-garbage) and a failed Reader read does not move the Reader; an
// accepted batch has record_count records with offset deltas 0, 1, ..., views inside the batch's
// own bytes and no more than the cap decompressed; ParseBatchHeader and DecodeRecordBatch agree.
// Built as a fuzzer with -DNOBUS_FUZZ=ON (clang), and run by kafka_test over hostile inputs and
// mutations (NOBUS_FUZZ_REGRESSION, src/kafka/kafka_fuzz_regression_test.cc).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/crc32c.h"
#include "kafka/record_batch.h"
#include "kafka/request_header.h"
#include "kafka/wire.h"

namespace {

namespace kafka = nobus::kafka;
constexpr size_t kCapBytes = 1 << 20;

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Within(std::string_view view, const std::string& bytes) {
  const auto begin = reinterpret_cast<uintptr_t>(bytes.data());
  const auto at = reinterpret_cast<uintptr_t>(view.data());
  return view.empty() || (at >= begin && at + view.size() <= begin + bytes.size());
}

void CheckDecode(std::string_view records) {
  auto header = kafka::ParseBatchHeader(records);
  auto batch = kafka::DecodeRecordBatch(records, kCapBytes);
  if (!batch.ok()) {
    const absl::StatusCode code = batch.status().code();
    Check(code == absl::StatusCode::kDataLoss || code == absl::StatusCode::kInvalidArgument ||
          code == absl::StatusCode::kUnimplemented ||
          code == absl::StatusCode::kResourceExhausted);
    Check(kafka::BatchErrorCode(batch.status()) != kafka::ErrorCode::kUnknownServerError);
    if (!header.ok()) Check(header.status() == batch.status());
    return;
  }
  Check(header.ok() && header->crc == batch->header.crc &&
        header->record_count == batch->header.record_count);
  Check(batch->bytes != nullptr && batch->bytes->size() <= kCapBytes);
  Check(batch->records.size() == static_cast<size_t>(batch->header.record_count));
  const std::string& bytes = *batch->bytes;
  for (size_t i = 0; i < batch->records.size(); ++i) {
    const kafka::Record& r = batch->records[i];
    Check(r.offset_delta == static_cast<int32_t>(i));
    Check(!r.key || Within(*r.key, bytes));
    Check(!r.value || Within(*r.value, bytes));
    for (const kafka::RecordHeader& h : r.headers) {
      Check(Within(h.key, bytes) && (!h.value || Within(*h.value, bytes)));
    }
  }
}

// A batch header with a correct CRC around `payload`; `control` picks codec and record count.
std::string Wrap(uint8_t control, std::string_view payload) {
  const int32_t count = 1 + ((control >> 3) & 0x03);
  std::string out;
  kafka::Writer w(&out);
  w.Int64(0);
  w.Int32(static_cast<int32_t>(kafka::kMinBatchLength + payload.size()));
  w.Int32(-1);
  w.Int8(kafka::kBatchMagic);
  w.Uint32(0);
  w.Int16(control & 0x07);
  w.Int32(count - 1);
  w.Int64(0);
  w.Int64(0);
  w.Int64(-1);
  w.Int16(-1);
  w.Int32(-1);
  w.Int32(count);
  w.Raw(payload);
  const uint32_t crc = nobus::crc32c::Value(std::string_view(out).substr(21));
  for (int i = 0; i < 4; ++i) out[17 + i] = static_cast<char>(crc >> (8 * (3 - i)));
  return out;
}

// A read that fails must say InvalidArgument and leave the Reader where it was.
template <typename T>
bool Read(kafka::Reader& r, absl::StatusOr<T> (kafka::Reader::*read)(bool, std::string_view),
          bool flexible) {
  const size_t before = r.position();
  auto v = (r.*read)(flexible, "field");
  if (!v.ok()) {
    Check(v.status().code() == absl::StatusCode::kInvalidArgument && r.position() == before);
  }
  return v.ok();
}

void CheckRequest(std::string_view frame) {
  auto h = kafka::ParseRequestHeader(frame);
  if (!h.ok()) {
    Check(h.status().code() == absl::StatusCode::kInvalidArgument);
    return;
  }
  Check(h->body.remaining() <= frame.size());
  kafka::Reader body = h->body;
  if (Read(body, &kafka::Reader::String, h->flexible) &&
      Read(body, &kafka::Reader::NullableString, h->flexible) &&
      Read(body, &kafka::Reader::ArrayLength, h->flexible) &&
      Read(body, &kafka::Reader::NullableBytes, h->flexible)) {
    const size_t before = body.position();
    absl::Status st = body.SkipTaggedFields(h->flexible);
    Check(st.ok() || body.position() == before);
  }
}

}  // namespace

int NobusKafkaBatchFuzzOne(const uint8_t* bytes, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  CheckDecode(input);
  if (!input.empty()) {
    const uint8_t control = static_cast<uint8_t>(input[0]);
    std::string wrapped = Wrap(control, input.substr(1));
    CheckDecode(wrapped);
    // A correct CRC and a known codec pass every header check.
    if ((control & 0x07) <= 4) Check(kafka::ParseBatchHeader(wrapped).ok());
  }
  CheckRequest(input);
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusKafkaBatchFuzzOne(bytes, size);
}
#endif
