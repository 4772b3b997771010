// The MQTT fuzz target (test/fuzz/mqtt_packet_fuzz.cc, compiled in here with
// NOBUS_FUZZ_REGRESSION) over hostile inputs and seeded random mutations of valid packets of every
// type in both versions, of streams of them, and of property sections: each must be refused or
// decoded, never crash (the target aborts on a broken invariant, failing the test).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "mqtt/mqtt_test_util.h"
#include "mutations.h"

int NobusMqttPacketFuzzOne(const uint8_t* bytes, size_t size);

namespace nobus::mqtt {
namespace {

using namespace std::string_literals;
using testing::FromHex;

void Fuzz(const std::string& s) {
  NobusMqttPacketFuzzOne(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Flips, insertions of bytes that matter to lengths, flags, UTF-8 and property identifiers,
// truncations of `seed`.
std::vector<std::string> Mutations(const std::string& seed, int n, unsigned rng_seed = 42) {
  using namespace std::string_view_literals;
  return fuzz::Mutations(seed, n, "\x00\x01\x02\x7f\x80\xff\xc0\xed\x26\x0b+#"sv, rng_seed);
}

TEST(MqttFuzzRegressionTest, HostileInputs) {
  for (const std::string& s : {
           ""s, "\x10"s, std::string(5, '\xff'), std::string(1000, '\xff'), std::string(64, '\0'),
           FromHex("30ffffff7f"),          // the largest Remaining Length
           FromHex("30ffffffff01"),        // a fifth length byte
           FromHex("308000"),              // a non-minimal length
           FromHex("f000"), FromHex("e000e000e000"),
           // CONNECT with a Property Length of 268,435,455 and a client id claiming 64 KiB.
           FromHex("101000044d51545405020000ffffff7f0000"),
           FromHex("100d00044d5154540502000000ffff"),
           // SUBSCRIBE claiming a filter of 64 KiB; UNSUBSCRIBE of 1000 empty filters.
           FromHex("8206000100ffff00"),
           MakePacket(PacketType::kUnsubscribe, 2, FromHex("0001") + std::string(2000, '\0')),
       }) {
    Fuzz(s);
  }
  // PUBLISH with 100 Subscription Identifiers and 100 empty User Properties.
  std::string many;
  for (int i = 0; i < 100; ++i) many += "\x0b\x01\x26\x00\x00\x00\x00"s;
  Fuzz(MakePacket(PacketType::kPublish, 0,
                  FromHex("000161") + "\xbc\x05"s + many));  // Property Length 700
  // Shape 2 of the target: the first byte picks the type; every type with an empty body.
  for (int control = 0; control < 256; ++control) Fuzz(std::string(1, static_cast<char>(control)));
}

TEST(MqttFuzzRegressionTest, MutatedPacketsOfEveryTypeInBothVersions) {
  for (Version v : {Version::kV311, Version::kV5}) {
    unsigned rng_seed = 1;
    for (const std::string& packet : testing::EncodedSamples(v)) {
      for (const std::string& m : Mutations(packet, 400, rng_seed++)) Fuzz(m);
    }
  }
}

TEST(MqttFuzzRegressionTest, MutatedStreams) {
  std::string stream;
  for (const std::string& packet : testing::EncodedSamples(Version::kV5)) stream += packet;
  for (const std::string& m : Mutations(stream, 1500)) Fuzz(m);
}

TEST(MqttFuzzRegressionTest, MutatedPropertySections) {
  // Shape 3: the first byte picks the context, the rest is a property section.
  for (const testing::Sample& s : testing::SamplePackets(Version::kV5)) {
    const std::string bytes = *EncodePacket(s.packet, Version::kV5);
    // The encoded packet after its fixed header holds the section somewhere; mutate the whole
    // body behind every context byte.
    const size_t header = ParsePacketHeader(bytes)->header_bytes;
    for (char context = 0; context < 14; ++context) {
      for (const std::string& m : Mutations(context + bytes.substr(header), 40, context)) Fuzz(m);
    }
  }
}

}  // namespace
}  // namespace nobus::mqtt
