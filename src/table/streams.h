// Persistent streams (exactly-once ingest, doc/exactly-once.md): what the ingest service knows of
// each stream id of one table, and the ids themselves. In the data path: a persistent stream's
// request is appended with its StreamMark (stream id + the request's offset) in the WAL record
// header; once durable, StreamOffsets::Durable raises the stream's durable offset; every Delta
// commit carries txn{appId = stream id, version = highest offset committed}; at load, the table's
// snapshot seeds the state back (and WAL replay raises it past the last commit).
//
// A stream id is `<catalog.schema.table>/<created unix ms>/<16 hex digits>`: the table it belongs
// to and when it was minted travel with it, so a resume names its table, and an id the node has
// no state for can be told apart (minted within the retention: nothing durable yet; before it:
// expired).
//
// Thread-safety: StreamOffsets has none of its own (IngestService guards it with mu_); the free
// functions are pure.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "delta/actions.h"
#include "delta/snapshot.h"
#include "table/wal_record.h"

namespace nobus::table {

// A retired stream's txn version: above any offset, so nothing may follow it.
inline constexpr int64_t kRetiredStreamVersion = std::numeric_limits<int64_t>::max();

struct StreamStatus {
  std::optional<int64_t> durable;  // highest offset that is durable (none yet: nullopt)
  bool retired = false;
  int64_t last_active_ms = 0;      // wall clock: minted, last durable request, or last commit
};

// REST idempotency keys ride the same state: `<table>/idempotency/<hex digest of the key>`, whose
// "offset" is a fingerprint of the request body (0..2^63-1) instead of a growing offset.
std::string IdempotencyId(std::string_view table, std::string_view key_digest_hex);
bool IsIdempotencyId(std::string_view id);
// Kafka idempotent producers too: `<table>/kafka-producer/<producer id>` for partition 0 and
// `<table>/kafka-producer/<producer id>/<partition>` for the others (sequences are per
// partition), whose offset is the producer's (epoch, last sequence) mark
// (kafka/producer_state.h), a number that only grows.
std::string KafkaProducerId(std::string_view table, int64_t producer_id, int32_t partition = 0);
// MQTT QoS 2 sessions too (mqtt/qos2.h): `<table>/mqtt-session/<client digest>/<slot>`, whose
// offset packs the message counter, packet identifier and released bit, a number that only grows.
// MqttSessionPrefix is every slot id of one client in `table`.
std::string MqttSessionPrefix(std::string_view table, std::string_view client_digest);

// A new id for a stream of `table` ("catalog.schema.table"), minted at `now_ms`.
std::string NewStreamId(std::string_view table, int64_t now_ms);
// The table and mint time an id names; InvalidArgument for anything that is not such an id.
struct ParsedStreamId {
  std::string table;
  int64_t created_ms = 0;
};
[[nodiscard]] absl::StatusOr<ParsedStreamId> ParseStreamId(std::string_view id);

class StreamOffsets {
 public:
  // Seeds every stream of table `table` from the snapshot's txn actions.
  void Load(const delta::Snapshot& snapshot, std::string_view table);
  // One txn of the table (Load's step; also a resume's look at the latest commit): raises the
  // durable offset, marks retirement, and counts the txn's lastUpdated (else
  // `updated_if_unknown_ms`) as activity.
  void Merge(const delta::Txn& txn, int64_t updated_if_unknown_ms = 0);
  // A stream id was minted (create): known from now on, nothing durable.
  void Minted(const std::string& id, int64_t now_ms);
  // A request of `mark` is durable (WAL replay too). A stream's offset only grows; a key's
  // fingerprint is replaced (a key reused after it expired).
  void Durable(const StreamMark& mark, int64_t now_ms);
  void Retire(const std::string& id, int64_t now_ms);
  std::optional<StreamStatus> Find(const std::string& id) const;
  bool retired(const std::string& id) const;
  // Streams neither retired nor idle for longer than `retention_ms`.
  int64_t LiveCount(int64_t now_ms, int64_t retention_ms) const;
  // Whether any state id (stream, idempotency key, Kafka producer, MQTT slot) that is not retired
  // was active within `retention_ms`: the table must stay open for it (IngestService idle closing).
  bool AnyActive(int64_t now_ms, int64_t retention_ms) const;
  // The ids starting with `prefix` that have a durable offset, and whether each was active within
  // `retention_ms` (an expired one is gone from the next checkpoint).
  struct PrefixedMark {
    std::string id;
    int64_t offset = 0;
    bool expired = false;
  };
  std::vector<PrefixedMark> WithPrefix(std::string_view prefix, int64_t now_ms,
                                       int64_t retention_ms) const;

 private:
  std::map<std::string, StreamStatus, std::less<>> streams_;
};

// The checkpoint policy for a table's txns (delta::TxnExpiry): a persistent stream's txn is
// dropped once it has been idle for longer than the table's nobus.streams.retention, so
// checkpoints stay bounded; every other txn (the nodes' WAL txns, other writers') is kept.
bool ExpiredStreamTxn(const delta::Txn& txn, const delta::Metadata& metadata, int64_t now_ms);

// Whether the table already holds the request `mark` names, whichever node committed it: a
// persistent stream's offset at or below the table's txn for the stream, or an idempotency key
// whose txn has the same fingerprint. During a failover another node may commit requests that
// this node's WAL also holds (doc/exactly-once.md "Several nodes"); a commit skips them. Kafka and
// MQTT marks are never skipped (they are numbered per node), nor are a retired stream's (its txn
// no longer tells which offsets landed: at-least-once rather than a loss).
bool CommittedByTable(const StreamMark& mark, const delta::Snapshot& snapshot);

// The txn actions a commit of `marks` carries: per stream, the highest offset among them, skipping
// streams `offsets` knows as retired (a txn after the retirement would hide it).
std::vector<delta::Txn> StreamTxns(const std::vector<const StreamMark*>& marks,
                                   const StreamOffsets& offsets, int64_t now_ms);

}  // namespace nobus::table
