// nobusd's configuration: defaults, the JSON config file (--config FILE) and validation. In the
// process lifecycle: nobusd.cc parses flags, LoadConfigFile reads the file, flags override it, then
// ValidateConfig refuses unsafe or malformed settings before anything binds or touches the disk.
// Plain values and pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authorizer.h"
#include "common/status.h"

namespace nobus::server {

using auth::TokenGrant;

struct ServerConfig {
  std::string data_dir = "./data";
  std::string grpc_listen = "127.0.0.1:7070";
  std::string http_listen = "127.0.0.1:7071";
  int64_t flush_interval_ms = 1000;
  // Largest accepted request message (gRPC message or REST body). Larger gRPC messages fail the
  // call with INVALID_ARGUMENT; beyond grpc_hard_limit_bytes() gRPC itself answers
  // RESOURCE_EXHAUSTED (doc/server.md "Message size").
  int64_t max_message_bytes = 10 << 20;
  // Per stream: request bytes appended but not yet durable; reading pauses above it.
  int64_t max_inflight_bytes_per_stream = 64 << 20;
  // Node-wide: row bytes accepted but not yet committed to Delta tables. Streams wait (clients
  // feel backpressure) while it is reached; this is what bounds nobusd's memory under overload.
  int64_t max_buffered_bytes = 256 << 20;
  // Shutdown and close-all: how long streams get to finish their in-flight acks (also the
  // duration announced in close_stream_signal).
  int64_t drain_timeout_ms = 30000;
  std::string log_level = "info";
  // Empty = no authentication (allowed on loopback addresses only).
  std::vector<TokenGrant> tokens;

  // gRPC's own receive limit: generous headroom over max_message_bytes so nobus, not the runtime,
  // rejects merely over-size messages with a clear INVALID_ARGUMENT.
  int64_t grpc_hard_limit_bytes() const;
};

// Reads a JSON config file. Keys: data_dir, grpc_listen, http_listen, flush_interval_ms,
// max_message_bytes, max_inflight_bytes_per_stream, max_buffered_bytes, drain_timeout_ms,
// log_level, tokens. Unknown
// keys and wrong types are InvalidArgument naming the key ("config file x.json: key
// 'flush_interval_ms' must be a positive integer"); a missing file is NotFound.
[[nodiscard]] absl::StatusOr<ServerConfig> LoadConfigFile(std::string_view path);
// Same as LoadConfigFile on text (for tests); `origin` names the source in messages.
[[nodiscard]] absl::StatusOr<ServerConfig> ParseConfigJson(std::string_view text,
                                                           std::string_view origin);

// InvalidArgument for malformed listen addresses, bad limits or token patterns, and for listening
// on a non-loopback address without tokens (the message says how to configure them).
[[nodiscard]] absl::Status ValidateConfig(const ServerConfig& config);

// "host:port" or "[v6]:port" -> host (brackets kept for v6) and port (0-65535).
struct HostPort {
  std::string host;
  int port = 0;
};
[[nodiscard]] absl::StatusOr<HostPort> ParseHostPort(std::string_view text);
// 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackHost(std::string_view host);

}  // namespace nobus::server
