#include <utility>

#include "nobus/options.h"

namespace nobus {
namespace {

class BearerToken final : public HeadersProvider {
 public:
  BearerToken(std::string token, std::string table_name)
      : headers_{{"authorization", "Bearer " + std::move(token)},
                 {"x-databricks-zerobus-table-name", std::move(table_name)}} {}
  absl::StatusOr<Headers> GetHeaders() override { return headers_; }

 private:
  const Headers headers_;
};

}  // namespace

std::shared_ptr<HeadersProvider> BearerTokenHeaders(std::string token, std::string table_name) {
  return std::make_shared<BearerToken>(std::move(token), std::move(table_name));
}

}  // namespace nobus
