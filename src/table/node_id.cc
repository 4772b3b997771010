#include "table/node_id.h"

#include "delta/log_store.h"

namespace nobus::table {
namespace {

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = s[i];
    bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> LoadOrCreateNodeId(env::FileSystem* fs, const std::string& data_dir) {
  std::string path = env::JoinPath(data_dir, "node_id");
  absl::StatusOr<std::string> text = env::ReadFile(fs, path);
  if (absl::IsNotFound(text.status())) {
    std::string id = NewUuid();
    NOBUS_RETURN_IF_ERROR(fs->PutAtomically(path, id + "\n"));
    return id;
  }
  if (!text.ok()) return text.status();
  std::string_view id = *text;
  if (!id.empty() && id.back() == '\n') id.remove_suffix(1);
  if (!IsUuid(id)) {
    return absl::DataLossError(Cat("node id file ", path,
                                   " does not hold a UUID; restore it from a backup (its UUID names "
                                   "this node's WAL in every table's Delta log)"));
  }
  return std::string(id);
}

}  // namespace nobus::table
