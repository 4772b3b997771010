#include "nobus/errors.h"

#include "absl/strings/cord.h"

namespace nobus {
namespace {

// The payload that marks a non-retriable status. Its presence is what counts.
constexpr char kNonRetriableUrl[] = "type.nobus.dev/nobus.NonRetriable";

}  // namespace

bool IsNonRetriable(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kNonRetriableUrl).has_value();
}

bool IsNonRetriableCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnimplemented:
      return true;
    default:
      return false;
  }
}

absl::Status MakeNonRetriable(absl::Status status) {
  if (!status.ok()) status.SetPayload(kNonRetriableUrl, absl::Cord("1"));
  return status;
}

}  // namespace nobus
