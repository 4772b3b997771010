#include "http/to_request.h"

#include "http/router.h"

namespace nobus::http {
namespace {

// Beast 1.74 speaks boost::string_view.
std::string ToString(boost::beast::string_view s) { return std::string(s.data(), s.size()); }

}  // namespace

absl::Status ToRequest(boost::beast::http::request<boost::beast::http::string_body>& msg,
                       Request* req) {
  req->method = ToString(msg.method_string());
  for (const auto& field : msg)
    req->headers.emplace_back(ToString(field.name_string()), ToString(field.value()));
  req->body = std::move(msg.body());
  const boost::beast::string_view target = msg.target();
  return ParseTarget(std::string_view(target.data(), target.size()), &req->path, &req->query);
}

}  // namespace nobus::http
