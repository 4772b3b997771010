#include "table/catalog.h"

#include <algorithm>

#include "common/logging.h"
#include "delta/table.h"

namespace nobus::table {
namespace {

constexpr size_t kMaxNamePartBytes = 255;
constexpr char kTombstoneDir[] = ".dropped";
constexpr char kDroppedIdsFile[] = ".dropped-ids";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Validated, lowercased copy of `name`.
absl::StatusOr<TableName> Normalize(const TableName& name) {
  NOBUS_RETURN_IF_ERROR(ValidateNamePart(name.catalog, "catalog"));
  NOBUS_RETURN_IF_ERROR(ValidateNamePart(name.schema, "schema"));
  NOBUS_RETURN_IF_ERROR(ValidateNamePart(name.table, "table"));
  return TableName{Lower(name.catalog), Lower(name.schema), Lower(name.table)};
}

absl::Status NotFound(const TableName& name) {
  return absl::NotFoundError(Cat("table '", name.ToString(),
                                 "' does not exist; create it with POST "
                                 "/api/2.1/unity-catalog/tables"));
}

// Deletes `path` and everything below it.
absl::Status DeleteTree(env::FileSystem* fs, const std::string& path) {
  NOBUS_ASSIGN_OR_RETURN(env::FileInfo info, fs->Stat(path));
  if (!info.is_dir) return fs->Delete(path);
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> children, fs->ListDir(path));
  for (const std::string& child : children)
    NOBUS_RETURN_IF_ERROR(DeleteTree(fs, env::JoinPath(path, child)));
  return fs->DeleteDir(path);
}

// Entries of `dir` that are valid name parts (lowercase, as we create them); none if `dir` is
// missing.
absl::StatusOr<std::vector<std::string>> ListNameDirs(env::FileSystem* fs, const std::string& dir) {
  auto names = fs->ListDir(dir);
  if (absl::IsNotFound(names.status())) return std::vector<std::string>{};
  if (!names.ok()) return names.status();
  std::vector<std::string> out;
  for (std::string& n : *names) {
    if (ValidateNamePart(n, "").ok() && n == Lower(n)) out.push_back(std::move(n));
  }
  return out;
}

}  // namespace

std::string TableName::ToString() const { return Cat(catalog, ".", schema, ".", table); }

absl::Status ValidateNamePart(std::string_view part, std::string_view what) {
  if (part.empty()) return absl::InvalidArgumentError(Cat(what, " name is empty"));
  if (part.size() > kMaxNamePartBytes) {
    return absl::InvalidArgumentError(Cat(what, " name '", part.substr(0, 32), "...' is ",
                                          part.size(), " characters long; the limit is 255"));
  }
  if (!std::all_of(part.begin(), part.end(), IsNameChar)) {
    return absl::InvalidArgumentError(
        Cat(what, " name '", part, "' may contain only letters, digits and '_'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TableName> ParseTableName(std::string_view full_name) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = full_name.find('.', start);
    parts.push_back(full_name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(Cat("table name '", full_name,
                                          "' must have three parts: catalog.schema.table"));
  }
  absl::StatusOr<TableName> name =
      Normalize(TableName{std::string(parts[0]), std::string(parts[1]), std::string(parts[2])});
  if (!name.ok()) return Annotate(name.status(), Cat("table name '", full_name, "'"));
  return name;
}

Catalog::Catalog(env::FileSystem* fs, env::Clock* clock, std::string root)
    : fs_(fs), clock_(clock), root_(std::move(root)) {}

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(env::FileSystem* fs, env::Clock* clock,
                                                       std::string root) {
  NOBUS_RETURN_IF_ERROR(fs->CreateDirs(root));
  std::unique_ptr<Catalog> catalog(new Catalog(fs, clock, std::move(root)));
  NOBUS_RETURN_IF_ERROR(catalog->CleanTombstones());
  NOBUS_RETURN_IF_ERROR(catalog->LoadDroppedIds());
  return catalog;
}

std::string Catalog::DroppedIdsPath() const { return env::JoinPath(root_, kDroppedIdsFile); }

absl::Status Catalog::LoadDroppedIds() {
  absl::StatusOr<std::string> text = env::ReadFile(fs_, DroppedIdsPath());
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string id = text->substr(start, end - start);
    if (!id.empty()) dropped_ids_.insert(id);
    start = end + 1;
  }
  return absl::OkStatus();
}

absl::Status Catalog::RecordDropped(const std::string& table_id) {
  if (dropped_ids_.count(table_id)) return absl::OkStatus();
  std::string text;
  for (const std::string& id : dropped_ids_) text += id + "\n";
  text += table_id + "\n";
  NOBUS_RETURN_IF_ERROR(fs_->PutAtomically(DroppedIdsPath(), text));
  dropped_ids_.insert(table_id);
  return absl::OkStatus();
}

bool Catalog::WasDropped(const std::string& table_id) {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_ids_.count(table_id) > 0;
}

const std::string& Catalog::root() const { return root_; }

std::string Catalog::TableDir(const TableName& name) const {
  return env::JoinPath(env::JoinPath(env::JoinPath(root_, name.catalog), name.schema), name.table);
}

absl::Status Catalog::CleanTombstones() {
  std::string dir = env::JoinPath(root_, kTombstoneDir);
  auto names = fs_->ListDir(dir);
  if (absl::IsNotFound(names.status())) return absl::OkStatus();
  if (!names.ok()) return names.status();
  for (const std::string& n : *names) {
    absl::Status st = DeleteTree(fs_, env::JoinPath(dir, n));
    if (!st.ok()) return Annotate(st, Cat("deleting the dropped table left at ", dir, "/", n));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Catalog::IsTable(const std::string& dir) {
  delta::FileLogStore store(fs_, dir);
  absl::StatusOr<delta::LogListing> listing = store.List();
  if (absl::IsNotFound(listing.status())) return false;
  if (!listing.ok()) return listing.status();
  return !listing->commits.empty() || !listing->checkpoints.empty();
}

absl::StatusOr<TableInfo> Catalog::Load(const TableName& name) {
  std::string dir = TableDir(name);
  NOBUS_ASSIGN_OR_RETURN(bool exists, IsTable(dir));
  if (!exists) return NotFound(name);
  delta::FileLogStore store(fs_, dir);
  absl::StatusOr<delta::Snapshot> snapshot = delta::Snapshot::Load(&store);
  if (!snapshot.ok()) return Annotate(snapshot.status(), Cat("table '", name.ToString(), "'"));
  TableInfo info;
  info.name = name;
  info.schema = snapshot->schema();
  info.partition_columns = snapshot->metadata().partition_columns;
  info.path = dir;
  info.storage_location = fs_->Location(dir);
  info.table_id = snapshot->metadata().id;
  info.created_at_ms = snapshot->metadata().created_time_ms.value_or(0);
  info.version = snapshot->version();
  info.properties = snapshot->metadata().configuration;
  return info;
}

absl::StatusOr<TableInfo> Catalog::Create(const TableName& name, const schema::Schema& schema,
                                          const std::vector<std::string>& partition_columns,
                                          const std::map<std::string, std::string>& properties) {
  NOBUS_ASSIGN_OR_RETURN(TableName n, Normalize(name));
  std::lock_guard<std::mutex> l(mu_);
  std::string dir = TableDir(n);
  NOBUS_ASSIGN_OR_RETURN(bool exists, IsTable(dir));
  if (exists) return absl::AlreadyExistsError(Cat("table '", n.ToString(), "' already exists"));
  delta::CreateTableOptions options{
      .schema = schema, .partition_columns = partition_columns, .configuration = properties};
  auto committer = delta::Committer::Create(fs_, clock_, dir, options);
  if (absl::IsAlreadyExists(committer.status()))
    return absl::AlreadyExistsError(Cat("table '", n.ToString(), "' already exists"));
  if (!committer.ok()) return Annotate(committer.status(), Cat("creating table '", n.ToString(), "'"));
  // Commit 0 is durable; make the new directories' entries durable too, bottom up to the root.
  for (std::string d = dir;; d = std::string(env::Dirname(d))) {
    NOBUS_RETURN_IF_ERROR(fs_->SyncDir(d));
    if (d.size() <= root_.size()) break;
  }
  return Load(n);
}

absl::StatusOr<TableInfo> Catalog::Get(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(TableName n, Normalize(name));
  std::lock_guard<std::mutex> l(mu_);
  return Load(n);
}

absl::Status Catalog::ListSchema(const std::string& catalog, const std::string& schema,
                                 std::vector<TableInfo>* out) {
  TableName name{catalog, schema, ""};
  std::string schema_dir = env::JoinPath(env::JoinPath(root_, catalog), schema);
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> tables, ListNameDirs(fs_, schema_dir));
  for (std::string& t : tables) {
    name.table = std::move(t);
    NOBUS_ASSIGN_OR_RETURN(bool exists, IsTable(TableDir(name)));
    if (!exists) continue;
    NOBUS_ASSIGN_OR_RETURN(TableInfo info, Load(name));
    out->push_back(std::move(info));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<TableInfo>> Catalog::List(std::string_view catalog,
                                                     std::optional<std::string_view> schema) {
  NOBUS_RETURN_IF_ERROR(ValidateNamePart(catalog, "catalog"));
  if (schema) NOBUS_RETURN_IF_ERROR(ValidateNamePart(*schema, "schema"));
  std::string c = Lower(catalog);
  std::lock_guard<std::mutex> l(mu_);
  std::vector<std::string> schemas;
  if (schema) {
    schemas.push_back(Lower(*schema));
  } else {
    NOBUS_ASSIGN_OR_RETURN(schemas, ListNameDirs(fs_, env::JoinPath(root_, c)));
  }
  std::vector<TableInfo> out;
  for (const std::string& s : schemas) NOBUS_RETURN_IF_ERROR(ListSchema(c, s, &out));
  return out;
}

absl::StatusOr<std::vector<TableInfo>> Catalog::ListAll() {
  std::lock_guard<std::mutex> l(mu_);
  NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> catalogs, ListNameDirs(fs_, root_));
  std::vector<TableInfo> out;
  for (const std::string& c : catalogs) {
    NOBUS_ASSIGN_OR_RETURN(std::vector<std::string> schemas,
                           ListNameDirs(fs_, env::JoinPath(root_, c)));
    for (const std::string& s : schemas) NOBUS_RETURN_IF_ERROR(ListSchema(c, s, &out));
  }
  return out;
}

absl::Status Catalog::Drop(const TableName& name) {
  NOBUS_ASSIGN_OR_RETURN(TableName n, Normalize(name));
  std::lock_guard<std::mutex> l(mu_);
  std::string dir = TableDir(n);
  NOBUS_ASSIGN_OR_RETURN(bool exists, IsTable(dir));
  if (!exists) return NotFound(n);
  // Before the rename: once the table is gone, recovery must know it went on purpose. A log that
  // cannot be read has no id to record; recovery then names the table if the WAL still needs it.
  absl::StatusOr<TableInfo> info = Load(n);
  if (info.ok()) NOBUS_RETURN_IF_ERROR(RecordDropped(info->table_id));
  std::string tombstones = env::JoinPath(root_, kTombstoneDir);
  std::string tombstone = env::JoinPath(tombstones, NewUuid());
  NOBUS_RETURN_IF_ERROR(fs_->CreateDirs(tombstones));
  NOBUS_RETURN_IF_ERROR(fs_->Rename(dir, tombstone));
  NOBUS_RETURN_IF_ERROR(fs_->SyncDir(env::Dirname(dir)));
  NOBUS_RETURN_IF_ERROR(fs_->SyncDir(tombstones));
  absl::Status st = DeleteTree(fs_, tombstone);
  if (!st.ok()) {
    NOBUS_LOG_WARN("table dropped but its files remain until restart table={} path={} error={}",
                   n.ToString(), tombstone, st.ToString());
  }
  return absl::OkStatus();
}

}  // namespace nobus::table
