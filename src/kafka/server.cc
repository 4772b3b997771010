#include "kafka/server.h"

#include <string>
#include <utility>

namespace nobus::kafka {
namespace {

constexpr size_t kSizeBytes = 4;

// The INT32 size prefix of a request frame: the frame is the prefix plus that many bytes.
absl::StatusOr<size_t> FrameSize(std::string_view head) {
  const auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(head[i])); };
  const uint32_t size = (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
  if (size > INT32_MAX) return absl::InvalidArgumentError(Cat("a negative frame size ", int32_t(size)));
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
