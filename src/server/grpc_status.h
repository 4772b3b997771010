// absl::Status <-> gRPC status for the gRPC front end. absl and gRPC share the canonical code
// numbers, so the mapping is 1:1 (DESIGN.md "Errors": the SDKs retry from the code alone).
#pragma once

#include <string>

#include "common/status.h"
#include "grpcpp/support/status.h"

namespace nobus::server {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// "OK", "INVALID_ARGUMENT", ... (metric labels and logs).
inline std::string GrpcCodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

}  // namespace nobus::server
