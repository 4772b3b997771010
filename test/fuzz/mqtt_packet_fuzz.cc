// libFuzzer target for the MQTT codec (src/mqtt; untrusted bytes: everything an MQTT client
// sends). Four shapes per input:
//   1. the input as a connection's byte stream: FramePacket (64 KiB limit) delimits packets, each
//      decoded as a 3.1.1 and as a 5.0 connection would (DecodePacket); the framing of every
//      short prefix of a framed packet is checked too;
//   2. the input after its first byte wrapped in a fixed header with a correct Remaining Length,
//      the first byte choosing the packet type (bits 7-4) and, for PUBLISH, the flags (bits 3-0;
//      other types get their required flags), so the fuzzer reaches every decoder;
//   3. the input after its first byte as a 5.0 property section, the first byte choosing where
//      it sits (CONNECT, Will Properties, PUBLISH, ...);
//   4. the input read with every Reader primitive in turn.
// Invariants: no crash, hang or sanitizer report; an error is one of the documented status codes
// (reason_code.h: never one that maps to 0x80 Unspecified error); a decoded packet re-encodes to
// at most as many bytes, which decode to an equal packet and re-encode identically; decoded
// properties round-trip the same way; a failed Reader read does not move the Reader; framing
// never says "complete" before the whole packet is there.
// Built as a fuzzer with -DNOBUS_FUZZ=ON (clang), and run by mqtt_test over hostile inputs and
// mutations (NOBUS_FUZZ_REGRESSION, src/mqtt/mqtt_fuzz_regression_test.cc).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "mqtt/packets.h"
#include "mqtt/properties.h"
#include "mqtt/wire.h"

namespace {

namespace mqtt = nobus::mqtt;
constexpr size_t kMaxPacketBytes = 1 << 16;
constexpr int kMaxPacketsPerStream = 64;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckError(const absl::Status& st) {
  const absl::StatusCode code = st.code();
  Check(code == absl::StatusCode::kInvalidArgument ||
        code == absl::StatusCode::kFailedPrecondition ||
        code == absl::StatusCode::kUnimplemented || code == absl::StatusCode::kResourceExhausted);
  Check(mqtt::ReasonCodeFor(st) != mqtt::ReasonCode::kUnspecifiedError);
  Check(!st.message().empty());
}

void CheckDecode(std::string_view packet, mqtt::Version version) {
  auto p = mqtt::DecodePacket(packet, version);
  if (!p.ok()) {
    CheckError(p.status());
    return;
  }
  auto bytes = mqtt::EncodePacket(*p, version);
  Check(bytes.ok() && bytes->size() <= packet.size());
  auto again = mqtt::DecodePacket(*bytes, version);
  Check(again.ok() && *again == *p);
  auto bytes2 = mqtt::EncodePacket(*again, version);
  Check(bytes2.ok() && *bytes2 == *bytes);
}

// Every prefix shorter than the framed packet is "need more", and says no more than is missing.
void CheckFramingPrefixes(std::string_view stream, size_t packet_bytes) {
  for (size_t k = 0; k < packet_bytes; k = k < 8 ? k + 1 : k * 2) {
    auto f = mqtt::FramePacket(stream.substr(0, k), kMaxPacketBytes);
    Check(f.ok() && !f->complete() && f->need_more_bytes > 0 &&
          k + f->need_more_bytes <= packet_bytes);
  }
}

void CheckStream(std::string_view stream) {
  for (int i = 0; i < kMaxPacketsPerStream; ++i) {
    auto f = mqtt::FramePacket(stream, kMaxPacketBytes);
    if (!f.ok()) {
      CheckError(f.status());
      return;
    }
    if (!f->complete()) {
      Check(f->need_more_bytes > 0);
      return;
    }
    Check(f->packet_bytes >= 2 && f->packet_bytes <= stream.size() &&
          f->packet_bytes <= kMaxPacketBytes);
    const std::string_view packet = stream.substr(0, f->packet_bytes);
    auto header = mqtt::ParsePacketHeader(packet);
    Check(header.ok() && header->packet_bytes() == packet.size());
    if (i == 0) CheckFramingPrefixes(stream, f->packet_bytes);
    CheckDecode(packet, mqtt::Version::kV311);
    CheckDecode(packet, mqtt::Version::kV5);
    stream.remove_prefix(f->packet_bytes);
  }
}

void CheckWrapped(uint8_t control, std::string_view body) {
  const auto type = static_cast<mqtt::PacketType>(control >> 4);
  const uint8_t flags =
      type == mqtt::PacketType::kPublish ? (control & 0x0f) : mqtt::RequiredFlags(type);
  const std::string packet = mqtt::MakePacket(type, flags, body);
  CheckDecode(packet, mqtt::Version::kV311);
  CheckDecode(packet, mqtt::Version::kV5);
}

void CheckProperties(uint8_t control, std::string_view section) {
  const auto where = static_cast<mqtt::PropertyContext>(control % 14);
  mqtt::Reader r(section, "fuzz");
  auto p = mqtt::ReadProperties(r, where);
  if (!p.ok()) {
    Check(p.status().code() == absl::StatusCode::kInvalidArgument ||
          p.status().code() == absl::StatusCode::kFailedPrecondition);
    return;
  }
  std::string bytes;
  mqtt::Writer w(&bytes);
  mqtt::WriteProperties(w, *p);
  Check(bytes.size() <= r.position());
  mqtt::Reader again(bytes, "fuzz");
  auto q = mqtt::ReadProperties(again, where);
  Check(q.ok() && *q == *p && again.empty());
}

// A read that fails must say InvalidArgument and leave the Reader where it was.
template <typename Read>
bool Step(mqtt::Reader& r, Read read) {
  const size_t before = r.position();
  auto v = read(r);
  if (!v.ok()) {
    Check(v.status().code() == absl::StatusCode::kInvalidArgument && r.position() == before);
  }
  return v.ok();
}

void CheckReader(std::string_view input) {
  mqtt::Reader r(input, "fuzz");
  Step(r, [](mqtt::Reader& r) { return r.Byte("b"); }) &&
      Step(r, [](mqtt::Reader& r) { return r.VariableByteInt("v"); }) &&
      Step(r, [](mqtt::Reader& r) { return r.Utf8String("s"); }) &&
      Step(r, [](mqtt::Reader& r) { return r.TwoByteInt("t"); }) &&
      Step(r, [](mqtt::Reader& r) { return r.Binary("d"); }) &&
      Step(r, [](mqtt::Reader& r) { return r.FourByteInt("f"); });
}

}  // namespace

int NobusMqttPacketFuzzOne(const uint8_t* bytes, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  CheckStream(input);
  if (!input.empty()) {
    const auto control = static_cast<uint8_t>(input[0]);
    CheckWrapped(control, input.substr(1));
    CheckProperties(control, input.substr(1));
  }
  CheckReader(input);
  return 0;
}

#ifndef NOBUS_FUZZ_REGRESSION
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return NobusMqttPacketFuzzOne(bytes, size);
}
#endif
