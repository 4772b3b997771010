// Table properties (`metaData.configuration`) that steer how nobus writes a Delta table: the
// defaults it sets at creation and typed readers for the keys it honours (checkpoint cadence, log
// and tombstone retention, data-skipping columns). In the data path: table creation writes
// DefaultConfiguration(); the committer reads the rest from the snapshot before each commit.
// Stateless functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "delta/actions.h"

namespace nobus::delta {

inline constexpr char kLogRetentionKey[] = "delta.logRetentionDuration";
inline constexpr char kCheckpointIntervalKey[] = "delta.checkpointInterval";
inline constexpr char kWriteStatsAsStructKey[] = "delta.checkpoint.writeStatsAsStruct";
inline constexpr char kDeletedFileRetentionKey[] = "delta.deletedFileRetentionDuration";
inline constexpr char kNumIndexedColsKey[] = "delta.dataSkippingNumIndexedCols";
inline constexpr char kEnableExpiredLogCleanupKey[] = "delta.enableExpiredLogCleanup";
inline constexpr char kTargetFileSizeKey[] = "delta.targetFileSize";
inline constexpr char kAutoCompactKey[] = "delta.autoOptimize.autoCompact";
// nobus's own: how many small files a partition collects before auto-compaction merges them,
// and whether and how often the node vacuums the table by itself.
inline constexpr char kAutoCompactMinFilesKey[] = "nobus.autoCompact.minNumFiles";
inline constexpr char kAutoVacuumKey[] = "nobus.autoVacuum.enabled";
inline constexpr char kAutoVacuumIntervalKey[] = "nobus.autoVacuum.interval";
// nobus's own: how long a persistent stream id may stay idle before resuming it fails, and how
// many live (neither retired nor expired) persistent stream ids the table keeps.
inline constexpr char kStreamRetentionKey[] = "nobus.streams.retention";
inline constexpr char kStreamMaxLiveKey[] = "nobus.streams.maxLive";
// nobus's own: how many partitions the table has as a Kafka topic (src/kafka; default 1).
inline constexpr char kKafkaPartitionsKey[] = "nobus.kafka.partitions";
inline constexpr int32_t kMaxKafkaPartitions = 1024;

// What nobus writes into a new table: 2-day log retention, a checkpoint every 10 commits, JSON
// stats only in checkpoints.
StringMap DefaultConfiguration();

// Parses Spark's interval syntax, "interval 2 days", "interval 1 week", "interval 36 hours"
// (units: millisecond, second, minute, hour, day, week; singular or plural; "interval" optional).
// InvalidArgument for anything else or a negative count.
[[nodiscard]] absl::StatusOr<int64_t> ParseIntervalMs(std::string_view text);

// Typed views of `configuration`, falling back to Delta's defaults (checkpoint interval 10, log
// retention 30 days, deleted-file retention 1 week, 32 indexed columns, cleanup on) when a key is
// absent or unparsable.
int64_t CheckpointInterval(const Metadata& metadata);
int64_t LogRetentionMs(const Metadata& metadata);
int64_t DeletedFileRetentionMs(const Metadata& metadata);
int NumIndexedCols(const Metadata& metadata);
bool ExpiredLogCleanupEnabled(const Metadata& metadata);
// Compaction and vacuum settings: target file size (default 128 MiB; "134217728", "128mb",
// "1gb"), auto-compaction (default on; "false" turns it off), files a partition collects before
// auto-compaction (default 10), auto-vacuum (default on, every day).
int64_t TargetFileSize(const Metadata& metadata);
bool AutoCompactEnabled(const Metadata& metadata);
int64_t AutoCompactMinFiles(const Metadata& metadata);
bool AutoVacuumEnabled(const Metadata& metadata);
int64_t AutoVacuumIntervalMs(const Metadata& metadata);
// Persistent streams: idle retention (default 7 days) and live ids per table (default 10,000).
int64_t StreamRetentionMs(const Metadata& metadata);
int64_t StreamMaxLive(const Metadata& metadata);
// Kafka endpoint: partitions of the table's topic (default 1, at most kMaxKafkaPartitions).
int32_t KafkaPartitions(const Metadata& metadata);

// Checks table properties a user sets (at creation or later): every `delta.*` and `nobus.*` key
// must be one nobus honours, with a value it parses (InvalidArgument naming the key, the value
// and what is expected). Keys without those prefixes are free-form and always accepted.
[[nodiscard]] absl::Status ValidateProperties(const StringMap& properties);

}  // namespace nobus::delta
