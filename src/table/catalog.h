// The table catalog: which Delta tables this node serves, by three-part name. Tables live as
// Delta tables under `<data dir>/tables/<catalog>/<schema>/<table>`; the Delta log is the only
// record of a table (no separate catalog file), so the catalog is a directory listing plus each
// table's latest metadata. In the data path it sits beside ingest: the HTTP table API creates,
// lists and drops tables here; IngestService resolves names here.
//
// Thread-safety: all methods are thread-safe. Durability: Create returns once commit 0 is durable;
// Drop returns once the table directory is gone (renamed aside, synced, then deleted).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "env/env.h"
#include "schema/types.h"

namespace nobus::table {

// A Unity-Catalog-style three-part name. Parts are 1-255 characters of [A-Za-z0-9_], stored
// lowercase (names are case-insensitive, as in Unity Catalog).
struct TableName {
  std::string catalog;
  std::string schema;
  std::string table;
  std::string ToString() const;  // "catalog.schema.table"
  bool operator==(const TableName&) const = default;
  bool operator<(const TableName& o) const { return ToString() < o.ToString(); }
};

// InvalidArgument naming the problem ("table name 'a.b' must have three parts:
// catalog.schema.table", "table name part 'x-y' may contain only letters, digits and '_'").
[[nodiscard]] absl::StatusOr<TableName> ParseTableName(std::string_view full_name);
[[nodiscard]] absl::Status ValidateNamePart(std::string_view part, std::string_view what);

struct TableInfo {
  TableName name;
  schema::Schema schema;
  std::vector<std::string> partition_columns;
  std::string path;              // the Delta table root in the catalog's FileSystem
  std::string storage_location;  // the same as users name it (FileSystem::Location)
  std::string table_id;          // Delta metaData.id: a re-created table gets a new one
  int64_t created_at_ms = 0;
  int64_t version = 0;  // latest Delta version when read
  std::map<std::string, std::string> properties;  // Delta table properties (metaData.configuration)
};

class Catalog {
 public:
  // `root` is `<data dir>/tables` (created if missing). Borrows fs and clock.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Catalog>> Open(env::FileSystem* fs,
                                                                    env::Clock* clock,
                                                                    std::string root);
  // AlreadyExists; InvalidArgument for a bad schema, partition column or table property
  // (`properties` are merged over nobus's defaults, see delta/config.h).
  [[nodiscard]] absl::StatusOr<TableInfo> Create(
      const TableName& name, const schema::Schema& schema,
      const std::vector<std::string>& partition_columns,
      const std::map<std::string, std::string>& properties = {});
  // NotFound ("table 'a.b.c' does not exist; create it with POST /api/2.1/unity-catalog/tables").
  [[nodiscard]] absl::StatusOr<TableInfo> Get(const TableName& name);
  // Tables of one catalog (and schema, when given), sorted by name.
  [[nodiscard]] absl::StatusOr<std::vector<TableInfo>> List(
      std::string_view catalog, std::optional<std::string_view> schema = std::nullopt);
  // Every table, for recovery. A directory is a table when its `_delta_log` holds a commit or a
  // checkpoint (a directory left by an interrupted Create is not); directories whose names are not
  // valid name parts are ignored. A table whose log cannot be read fails the whole call.
  [[nodiscard]] absl::StatusOr<std::vector<TableInfo>> ListAll();
  // NotFound if absent. Deletes the table's data and log: the table id is added to
  // `<root>/.dropped-ids` (WasDropped), the directory is renamed aside to
  // `<root>/.dropped/<uuid>` (the drop is durable once that rename is synced), then deleted;
  // leftovers of an interrupted deletion are removed by the next Open. Writers of the table must be
  // stopped first: use IngestService::DropTable, which does that, rather than calling this.
  [[nodiscard]] absl::Status Drop(const TableName& name);

  // Whether a table with this Delta table id was dropped through Drop. Recovery tells a dropped
  // table (its WAL records are discarded) from one whose directory went missing (they are not).
  bool WasDropped(const std::string& table_id);
  // The file listing dropped table ids, one per line.
  std::string DroppedIdsPath() const;

  const std::string& root() const;
  // Where the table `name` lives (whether or not it exists).
  std::string TableDir(const TableName& name) const;

 private:
  Catalog(env::FileSystem* fs, env::Clock* clock, std::string root);
  [[nodiscard]] absl::StatusOr<bool> IsTable(const std::string& dir);
  [[nodiscard]] absl::StatusOr<TableInfo> Load(const TableName& name);
  [[nodiscard]] absl::Status ListSchema(const std::string& catalog, const std::string& schema,
                                        std::vector<TableInfo>* out);
  [[nodiscard]] absl::Status CleanTombstones();
  [[nodiscard]] absl::Status LoadDroppedIds();
  [[nodiscard]] absl::Status RecordDropped(const std::string& table_id);  // requires mu_

  env::FileSystem* const fs_;
  env::Clock* const clock_;
  const std::string root_;
  std::mutex mu_;  // serializes table operations
  std::set<std::string> dropped_ids_;  // guarded by mu_
};

}  // namespace nobus::table
