#include "schema/json_splice.h"

namespace nobus::schema {

void AppendJsonString(std::string_view utf8, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : utf8) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

std::string* JsonMembers::Member(std::string_view name) {
  if (!first_) out_->push_back(',');
  first_ = false;
  out_->push_back('"');
  out_->append(name);
  out_->append("\":");
  return out_;
}

absl::Status SpliceJsonMembers(std::string_view object, std::string* out,
                               const std::function<absl::Status(JsonMembers&)>& add) {
  out->clear();
  const size_t open = object.find_first_not_of(" \t\r\n");
  if (open == std::string_view::npos || object[open] != '{') {
    out->assign(object);
    return absl::OkStatus();
  }
  out->append(object.substr(0, open + 1));
  JsonMembers members(out);
  NOBUS_RETURN_IF_ERROR(add(members));
  const size_t rest = object.find_first_not_of(" \t\r\n", open + 1);
  if (!members.empty() && rest != std::string_view::npos && object[rest] != '}') out->push_back(',');
  out->append(object.substr(open + 1));
  return absl::OkStatus();
}

}  // namespace nobus::schema
