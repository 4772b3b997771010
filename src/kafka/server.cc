#include "kafka/server.h"

#include <cstdint>
#include <string>
#include <utility>

#include "kafka/request_header.h"

namespace nobus::kafka {
namespace {

constexpr size_t kSizeBytes = 4;

// The whole frame's size from its INT32 size prefix (ParseFrameSize; the listener applies the
// size limit to the whole frame).
absl::StatusOr<size_t> FrameSize(std::string_view head) {
  NOBUS_ASSIGN_OR_RETURN(size_t size, ParseFrameSize(head, SIZE_MAX));
  return kSizeBytes + size;
}

std::string WithSize(std::string response) {
  const uint32_t n = static_cast<uint32_t>(response.size());
  std::string frame{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                    static_cast<char>(n >> 8), static_cast<char>(n)};
  return frame + response;
}

}  // namespace

std::unique_ptr<net::FramedServer> NewKafkaServer(net::FramedServerOptions options,
                                                  FrameHandler handler) {
  options.protocol = "kafka";
  options.framing = net::Framing{.min_head_bytes = kSizeBytes, .frame_size = FrameSize,
                                 .strip_bytes = kSizeBytes};
  return std::make_unique<net::FramedServer>(
      std::move(options),
      [handler = std::move(handler)](std::string frame, ConnectionContext& connection,
                                     Reply reply) {
        handler(std::move(frame), connection, [reply = std::move(reply)](Answer answer) {
          if (answer.response) answer.response = WithSize(std::move(*answer.response));
          reply(std::move(answer));
        });
      });
}

}  // namespace nobus::kafka
