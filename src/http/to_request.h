// Internal to src/http (and its fuzz target, test/fuzz/http_request_fuzz.cc): a request Beast has
// parsed, turned into the Request handlers see. Pure; thread-safe.
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/status.h"
#include "http/message.h"

namespace nobus::http {

// Fills `req` with the method, headers, body (moved out of `msg`) and the decoded path and query
// (ParseTarget). InvalidArgument when the target does not parse; the rest is filled anyway.
[[nodiscard]] absl::Status ToRequest(
    boost::beast::http::request<boost::beast::http::string_body>& msg, Request* req);

}  // namespace nobus::http
