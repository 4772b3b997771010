// Helpers shared by the packet codecs of src/mqtt (not a front door).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mqtt/fixed_header.h"
#include "mqtt/properties.h"

namespace nobus::mqtt::internal {

// The fixed header of `packet`, which must be one whole packet of `type`.
[[nodiscard]] absl::StatusOr<FixedHeader> ExpectHeader(std::string_view packet, PacketType type);

// The malformed-packet error for a 5.0-only packet (AUTH) on a 3.1.1 connection.
absl::Status NotInV311(PacketType type);

// `encode(properties)` (a 5.0 packet); if the result is longer than `max_packet_bytes`, encodes
// again without the Reason String and User Properties (the peer's Maximum Packet Size rule).
template <typename Encode>
std::string EncodeWithin(const Properties& properties, std::optional<uint32_t> max_packet_bytes,
                         Encode encode) {
  std::string out = encode(properties);
  if (max_packet_bytes && out.size() > *max_packet_bytes) {
    out = encode(WithoutDiagnostics(properties));
  }
  return out;
}

}  // namespace nobus::mqtt::internal
