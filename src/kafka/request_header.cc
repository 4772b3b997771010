#include "kafka/request_header.h"

#include "kafka/api.h"

namespace nobus::kafka {

absl::StatusOr<RequestHeader> ParseRequestHeader(std::string_view frame) {
  Reader r(frame);
  RequestHeader h;
  NOBUS_ASSIGN_OR_RETURN(h.api_key, r.Int16("request header api_key"));
  NOBUS_ASSIGN_OR_RETURN(h.api_version, r.Int16("request header api_version"));
  NOBUS_ASSIGN_OR_RETURN(h.correlation_id, r.Int32("request header correlation_id"));
  // client_id has an INT16 length in v1 and v2 alike.
  NOBUS_ASSIGN_OR_RETURN(std::optional<std::string_view> client_id,
                         r.NullableString(/*flexible=*/false, "request header client_id"));
  if (client_id.has_value()) h.client_id.emplace(*client_id);
  h.flexible = IsFlexible(h.api_key, h.api_version);
  if (h.flexible) {
    absl::Status st = r.SkipTaggedFields();
    if (!st.ok()) return Annotate(st, "request header");
  }
  h.body_offset = r.position();
  h.body = r;
  return h;
}

void WriteResponseHeader(Writer& w, int32_t correlation_id, bool flexible_response_header) {
  w.Int32(correlation_id);
  w.EmptyTags(flexible_response_header);
}

absl::StatusOr<size_t> ParseFrameSize(std::string_view prefix, size_t max_frame_bytes) {
  Reader r(prefix);
  NOBUS_ASSIGN_OR_RETURN(int32_t size, r.Int32("frame size"));
  if (size < 0) return absl::InvalidArgumentError(Cat("malformed frame size ", size));
  if (static_cast<size_t>(size) > max_frame_bytes) {
    return absl::ResourceExhaustedError(
        Cat("frame of ", size, " bytes exceeds the limit of ", max_frame_bytes, " bytes"));
  }
  return static_cast<size_t>(size);
}

}  // namespace nobus::kafka
