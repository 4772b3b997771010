// Test-only helpers for src/mqtt: hex conversion and a corpus of valid packets of every type in
// both versions, with every property their packet allows (the round-trip, truncation and fuzz
// regression tests share it).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "mqtt/packets.h"

namespace nobus::mqtt::testing {

// `bytes`, kept alive until the test binary exits. Decoders refuse temporaries (the views of
// what they decode would dangle); tests decode many short-lived packets through this.
inline const std::string& Keep(std::string bytes) {
  static std::deque<std::string> kept;
  kept.push_back(std::move(bytes));
  return kept.back();
}

// The bytes of `hex` (kept alive like Keep).
inline const std::string& FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return Keep(std::move(out));
}

inline std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    out.push_back(kDigits[static_cast<uint8_t>(c) >> 4]);
    out.push_back(kDigits[static_cast<uint8_t>(c) & 0x0f]);
  }
  return out;
}

// Success if `status` has `code` and its message contains `part`.
inline ::testing::AssertionResult IsError(const absl::Status& status, absl::StatusCode code,
                                          std::string_view part) {
  const std::string message(status.message());
  if (status.code() == code && message.find(part) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "got " << status << ", want code " << absl::StatusCodeToString(code)
         << " containing \"" << part << "\"";
}
inline ::testing::AssertionResult IsMalformed(const absl::Status& status, std::string_view part) {
  return IsError(status, absl::StatusCode::kInvalidArgument, part);
}
inline ::testing::AssertionResult IsProtocolError(const absl::Status& status,
                                                  std::string_view part) {
  return IsError(status, absl::StatusCode::kFailedPrecondition, part);
}

// A named packet of the corpus.
struct Sample {
  std::string name;
  Packet packet;
};

// Every packet type, in `version`, with the properties its packet allows in 5.0.
std::vector<Sample> SamplePackets(Version version);

// The encoded corpus: SamplePackets(version) through EncodePacket.
std::vector<std::string> EncodedSamples(Version version);

}  // namespace nobus::mqtt::testing
