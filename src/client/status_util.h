// Internal to src/client: status helpers that keep the SDK's error kind (errors.h). Pure
// functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "nobus/errors.h"

namespace nobus::client {

// "context: message" with the code and the non-retriable mark of `status` kept (OK stays OK).
inline absl::Status Prefix(const absl::Status& status, std::string_view context) {
  absl::Status out = Annotate(status, context);
  return IsNonRetriable(status) ? MakeNonRetriable(out) : out;
}

// "CODE: message" without payloads (for log lines).
inline std::string Describe(const absl::Status& status) {
  return Cat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

}  // namespace nobus::client
