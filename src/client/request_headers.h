// Internal to src/client: the request metadata of every call to the server (stream calls and the
// unary RetireStream): what the application's HeadersProvider supplies (keys lower-cased), the
// table name header when the provider did not set it, and x-zerobus-sdk. Plus the RetireStream
// call itself. Thread-safety: free functions; they call the provider, which must be thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "nobus/options.h"

namespace nobus::client {

using RequestHeaders = std::vector<std::pair<std::string, std::string>>;

// `provider` may be null. A failing provider's status is returned prefixed with "headers
// provider" (its kind kept).
[[nodiscard]] absl::StatusOr<RequestHeaders> BuildRequestHeaders(HeadersProvider* provider,
                                                                 const std::string& table_name,
                                                                 const std::string& sdk_id);

// One RetireStream call on `channel` (30 s deadline). The server's status, non-retriable when its
// code is (errors.h).
[[nodiscard]] absl::Status RetireStreamCall(std::shared_ptr<grpc::Channel> channel,
                                            const std::string& sdk_id,
                                            const std::string& table_name,
                                            const std::string& stream_id,
                                            HeadersProvider* provider);

}  // namespace nobus::client
