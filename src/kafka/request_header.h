// Kafka request and response headers (spec ../shared/specs/kafka-produce.md 2.1). The listener
// reads a frame (INT32 size, checked with ParseFrameSize, then that many bytes), parses its header
// with ParseRequestHeader and hands the body Reader to the API's handler; the handler starts its
// answer with WriteResponseHeader.
//
//   request header v1: api_key INT16, api_version INT16, correlation_id INT32,
//                      client_id NULLABLE_STRING (INT16 length)
//   request header v2: v1 + TAG_BUFFER (flexible versions; client_id keeps its INT16 length)
//   response header v0: correlation_id INT32;  v1: v0 + TAG_BUFFER
//
// Pure functions, thread-safe. The returned Reader points into the caller's frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "kafka/wire.h"

namespace nobus::kafka {

struct RequestHeader {
  int16_t api_key = 0;  // api.h ApiKey values, or any other key a client sent
  int16_t api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;  // a copy (null is legal), safe after the frame moves
  // Header v2 was read: the body uses the compact forms and tag buffers (api.h IsFlexible).
  bool flexible = false;
  // Where the body starts in the frame, and a Reader positioned there. The Reader points into
  // the frame given to ParseRequestHeader: if that string is moved (short strings live inside the
  // object), make a new one with Reader(std::string_view(frame).substr(body_offset)).
  size_t body_offset = 0;
  Reader body;
};

// Parses the header at the start of `frame` (the bytes after the INT32 size). Header v2 is read
// for the flexible versions of the APIs in api.h; every other request, including unknown API keys,
// is read as v1 (their body is not meant to be parsed). InvalidArgument, naming the field, for a
// truncated or malformed header: the listener closes the connection.
[[nodiscard]] absl::StatusOr<RequestHeader> ParseRequestHeader(std::string_view frame);

// Writes the response header: correlation_id, plus an empty TAG_BUFFER if
// `flexible_response_header` (api.h ResponseHeaderFlexible: never for ApiVersions).
void WriteResponseHeader(Writer& w, int32_t correlation_id, bool flexible_response_header);

// The size in the first 4 bytes of a frame (`prefix` must hold them): InvalidArgument if it is
// negative, ResourceExhausted if it is over `max_frame_bytes` (the listener closes the connection
// in both cases). Small sizes are legal here: the raw SASL frames after SaslHandshake v0 have no
// request header, and ParseRequestHeader refuses a request frame too short for one.
[[nodiscard]] absl::StatusOr<size_t> ParseFrameSize(std::string_view prefix,
                                                    size_t max_frame_bytes);

}  // namespace nobus::kafka
