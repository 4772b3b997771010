#include "http/message.h"

#include <strings.h>

#include <nlohmann/json.hpp>

namespace nobus::http {
namespace {

std::string_view Find(const Fields& fields, std::string_view name, bool case_insensitive) {
  for (const auto& [key, value] : fields) {
    bool same = key.size() == name.size() &&
                (case_insensitive ? strncasecmp(key.data(), name.data(), key.size()) == 0
                                  : key == name);
    if (same) return value;
  }
  return {};
}

}  // namespace

std::string_view Request::Header(std::string_view name) const {
  return Find(headers, name, /*case_insensitive=*/true);
}

bool Request::HasQuery(std::string_view name) const {
  for (const auto& field : query)
    if (field.first == name) return true;
  return false;
}

std::string_view Request::Query(std::string_view name) const {
  return Find(query, name, /*case_insensitive=*/false);
}

Response ErrorResponse(int status, std::string_view error_code, std::string_view message) {
  Response res;
  res.status = status;
  nlohmann::json body = {{"error_code", error_code}, {"message", message}};
  // Replace, not throw, on invalid UTF-8 (a message may quote client input).
  res.SetContent(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                 "application/json");
  return res;
}

Reply& Reply::operator=(Reply&& other) noexcept {
  if (this != &other) {
    if (sink_) (*this)(ErrorResponse(500, "INTERNAL_ERROR", "the handler did not answer"));
    sink_ = std::exchange(other.sink_, nullptr);
  }
  return *this;
}

Reply::~Reply() {
  if (sink_) (*this)(ErrorResponse(500, "INTERNAL_ERROR", "the handler did not answer"));
}

void Reply::operator()(Response response) {
  if (!sink_) return;
  Sink sink = std::exchange(sink_, nullptr);
  sink(std::move(response));
}

}  // namespace nobus::http
