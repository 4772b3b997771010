#include "client/request_headers.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "client/status_util.h"
#include "databricks/zerobus/zerobus.grpc.pb.h"
#include "nobus/errors.h"

namespace nobus::client {
namespace {

constexpr char kTableHeader[] = "x-databricks-zerobus-table-name";
constexpr std::chrono::seconds kRetireDeadline(30);

}  // namespace

absl::StatusOr<RequestHeaders> BuildRequestHeaders(HeadersProvider* provider,
                                                   const std::string& table_name,
                                                   const std::string& sdk_id) {
  RequestHeaders headers;
  if (provider != nullptr) {
    absl::StatusOr<RequestHeaders> provided = provider->GetHeaders();
    if (!provided.ok()) return Prefix(provided.status(), "headers provider");
    headers = *std::move(provided);
  }
  bool has_table = false;
  for (auto& [key, value] : headers) {
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    has_table = has_table || key == kTableHeader;
  }
  if (!has_table) headers.emplace_back(kTableHeader, table_name);
  headers.emplace_back("x-zerobus-sdk", sdk_id);
  return headers;
}

absl::Status RetireStreamCall(std::shared_ptr<grpc::Channel> channel, const std::string& sdk_id,
                              const std::string& table_name, const std::string& stream_id,
                              HeadersProvider* provider) {
  NOBUS_ASSIGN_OR_RETURN(RequestHeaders headers,
                         BuildRequestHeaders(provider, table_name, sdk_id));
  grpc::ClientContext context;
  for (const auto& [key, value] : headers) context.AddMetadata(key, value);
  context.set_deadline(std::chrono::system_clock::now() + kRetireDeadline);
  ::databricks::zerobus::RetireStreamRequest request;
  request.set_table_name(table_name);
  request.set_stream_id(stream_id);
  ::databricks::zerobus::RetireStreamResponse response;
  grpc::Status status =
      ::databricks::zerobus::Zerobus::NewStub(channel)->RetireStream(&context, request, &response);
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()),
                   Cat("RetireStream of '", stream_id, "': ", status.error_message()));
  return IsNonRetriableCode(out.code()) ? MakeNonRetriable(out) : out;
}

}  // namespace nobus::client
