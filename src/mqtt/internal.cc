#include "mqtt/internal.h"

namespace nobus::mqtt::internal {

absl::StatusOr<FixedHeader> ExpectHeader(std::string_view packet, PacketType type) {
  NOBUS_ASSIGN_OR_RETURN(FixedHeader h, ParsePacketHeader(packet));
  if (h.type != type) {
    return absl::InvalidArgumentError(
        Cat("malformed packet: expected ", PacketTypeName(type), ", got ", PacketTypeName(h.type),
            " at byte 0"));
  }
  return h;
}

absl::Status NotInV311(PacketType type) {
  return absl::InvalidArgumentError(Cat("malformed ", PacketTypeName(type), ": packet type ",
                                        static_cast<int>(type),
                                        " at byte 0 does not exist in MQTT 3.1.1"));
}

}  // namespace nobus::mqtt::internal
