// The Delta Lake action model and the newline-delimited JSON codec of commit files
// (`_delta_log/<N>.json`). In the data path: the committer serializes one CommitActions per commit;
// snapshot replay parses every commit after the latest checkpoint. See doc/delta.md.
//
// All types are plain values (copyable, no shared state, safe to read from several threads).
// Paths in the model are decoded (as they appear in storage below the table root); the codec
// URI-encodes on write and decodes on read, as the Delta protocol requires.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace nobus::delta {

// Partition column name -> value as a string; nullopt = null partition value.
using PartitionValues = std::map<std::string, std::optional<std::string>>;
using StringMap = std::map<std::string, std::string>;

struct Protocol {
  int min_reader_version = 1;
  int min_writer_version = 2;
  std::optional<std::vector<std::string>> reader_features;  // only at reader version 3
  std::optional<std::vector<std::string>> writer_features;  // only at writer version 7
  bool operator==(const Protocol&) const = default;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string format_provider = "parquet";
  StringMap format_options;
  std::string schema_string;  // Spark struct JSON (see schema/delta_json.h)
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::optional<int64_t> created_time_ms;
  bool operator==(const Metadata&) const = default;
};

struct AddFile {
  std::string path;  // decoded, relative to the table root
  PartitionValues partition_values;
  int64_t size_bytes = 0;
  int64_t modification_time_ms = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // the stats JSON document, kept as text
  StringMap tags;
  bool operator==(const AddFile&) const = default;
};

struct RemoveFile {
  std::string path;  // decoded, relative to the table root
  std::optional<int64_t> deletion_timestamp_ms;
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size_bytes;
  StringMap tags;
  std::optional<std::string> stats;  // the removed file's stats, when the writer kept them
  bool operator==(const RemoveFile&) const = default;
};

struct Txn {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated_ms;
  bool operator==(const Txn&) const = default;
};

// Free-form provenance; we parse what we write and keep the rest out of the model.
struct CommitInfo {
  std::optional<int64_t> timestamp_ms;
  std::string operation;
  StringMap operation_parameters;  // non-string values are kept as their JSON text
  std::optional<int64_t> read_version;
  std::optional<bool> is_blind_append;
  StringMap operation_metrics;
  std::string engine_info;
  std::string txn_id;
  bool operator==(const CommitInfo&) const = default;
};

// The actions of one commit (or of one checkpoint), grouped by kind. Unknown action kinds are
// counted and otherwise ignored, as the protocol requires of readers.
struct CommitActions {
  std::optional<CommitInfo> commit_info;
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::vector<Txn> txns;
  std::vector<RemoveFile> removes;
  std::vector<AddFile> adds;
  int unknown_actions = 0;
  bool operator==(const CommitActions&) const = default;
};

// numRecords of an add's (or remove's) stats JSON document, if it has one.
std::optional<int64_t> NumRecords(const std::optional<std::string>& stats);

// Parses a commit file body. `file_name` only labels errors: DataLoss "<file>:<line>: ..." for a
// line that is not valid JSON (e.g. a truncated last line) or an action with a field of the wrong
// type or a missing required field. Blank lines are skipped.
[[nodiscard]] absl::StatusOr<CommitActions> ParseCommit(std::string_view body,
                                                        std::string_view file_name);

// Serializes in the line order commitInfo, protocol, metaData, txn, removes, adds; one action per
// line, each line ending in '\n'. Never fails (invalid UTF-8 is replaced).
std::string SerializeCommit(const CommitActions& actions);

// RFC 2396 percent-encoding of a relative path ('/' kept) and its inverse. Decoding rejects a
// malformed escape with InvalidArgument.
std::string UriEncodePath(std::string_view path);
[[nodiscard]] absl::StatusOr<std::string> UriDecodePath(std::string_view path);

}  // namespace nobus::delta
