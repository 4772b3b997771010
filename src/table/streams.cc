#include "table/streams.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <random>

#include "delta/config.h"

namespace nobus::table {

std::string NewStreamId(std::string_view table, int64_t now_ms) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char random[17];
  std::snprintf(random, sizeof(random), "%016llx", static_cast<unsigned long long>(rng()));
  return Cat(table, "/", now_ms, "/", random);
}

namespace {

constexpr std::string_view kIdempotencyPart = "/idempotency/";
constexpr std::string_view kKafkaProducerPart = "/kafka-producer/";
constexpr std::string_view kMqttSessionPart = "/mqtt-session/";

bool IsKafkaProducerId(std::string_view id) {
  return id.find(kKafkaProducerPart) != std::string_view::npos;
}

// A txn appId nobus keeps as stream state: a stream id, an idempotency key or a Kafka producer.
bool IsStateId(std::string_view id) {
  return IsIdempotencyId(id) || IsKafkaProducerId(id) ||
         id.find(kMqttSessionPart) != std::string_view::npos || ParseStreamId(id).ok();
}

}  // namespace

std::string KafkaProducerId(std::string_view table, int64_t producer_id, int32_t partition) {
  if (partition == 0) return Cat(table, kKafkaProducerPart, producer_id);
  return Cat(table, kKafkaProducerPart, producer_id, "/", partition);
}

std::string MqttSessionPrefix(std::string_view table, std::string_view client_digest) {
  return Cat(table, kMqttSessionPart, client_digest, "/");
}

std::string IdempotencyId(std::string_view table, std::string_view key_digest_hex) {
  return Cat(table, kIdempotencyPart, key_digest_hex);
}

bool IsIdempotencyId(std::string_view id) {
  return id.find(kIdempotencyPart) != std::string_view::npos;
}

absl::StatusOr<ParsedStreamId> ParseStreamId(std::string_view id) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        Cat("'", id.substr(0, 200),
            "' is not a persistent stream id of this server (expected the stream_id a "
            "create_stream returned: catalog.schema.table/<created ms>/<16 hex digits>)"));
  };
  const size_t last = id.rfind('/');
  if (last == std::string_view::npos || last == 0) return bad();
  const size_t mid = id.rfind('/', last - 1);
  if (mid == std::string_view::npos || mid == 0) return bad();
  std::string_view random = id.substr(last + 1), created = id.substr(mid + 1, last - mid - 1);
  if (random.size() != 16 || random.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return bad();
  ParsedStreamId out;
  auto [end, ec] = std::from_chars(created.data(), created.data() + created.size(), out.created_ms);
  if (ec != std::errc() || end != created.data() + created.size() || out.created_ms < 0)
    return bad();
  out.table = std::string(id.substr(0, mid));
  return out;
}

void StreamOffsets::Load(const delta::Snapshot& snapshot, std::string_view table) {
  const std::string prefix = Cat(table, "/");
  for (const auto& [app_id, txn] : snapshot.txns()) {
    if (app_id.starts_with(prefix) && IsStateId(app_id)) Merge(txn);
  }
}

void StreamOffsets::Merge(const delta::Txn& txn, int64_t updated_if_unknown_ms) {
  StreamStatus& s = streams_[txn.app_id];
  s.retired = txn.version == kRetiredStreamVersion;
  if (!s.retired) s.durable = std::max(s.durable.value_or(-1), txn.version);
  s.last_active_ms = std::max(s.last_active_ms, txn.last_updated_ms.value_or(updated_if_unknown_ms));
}

void StreamOffsets::Minted(const std::string& id, int64_t now_ms) {
  streams_[id].last_active_ms = now_ms;
}

void StreamOffsets::Durable(const StreamMark& mark, int64_t now_ms) {
  StreamStatus& s = streams_[mark.stream_id];
  s.durable = IsIdempotencyId(mark.stream_id) ? mark.offset
                                              : std::max(s.durable.value_or(-1), mark.offset);
  s.last_active_ms = std::max(s.last_active_ms, now_ms);
}

std::vector<StreamOffsets::PrefixedMark> StreamOffsets::WithPrefix(std::string_view prefix,
                                                                   int64_t now_ms,
                                                                   int64_t retention_ms) const {
  std::vector<PrefixedMark> out;
  for (auto it = streams_.lower_bound(prefix); it != streams_.end() && it->first.starts_with(prefix);
       ++it) {
    if (it->second.durable)
      out.push_back(PrefixedMark{it->first, *it->second.durable,
                                 it->second.last_active_ms < now_ms - retention_ms});
  }
  return out;
}

void StreamOffsets::Retire(const std::string& id, int64_t now_ms) {
  StreamStatus& s = streams_[id];
  s.retired = true;
  s.last_active_ms = now_ms;
}

std::optional<StreamStatus> StreamOffsets::Find(const std::string& id) const {
  auto it = streams_.find(id);
  if (it == streams_.end()) return std::nullopt;
  return it->second;
}

bool StreamOffsets::retired(const std::string& id) const {
  auto it = streams_.find(id);
  return it != streams_.end() && it->second.retired;
}

int64_t StreamOffsets::LiveCount(int64_t now_ms, int64_t retention_ms) const {
  int64_t n = 0;
  for (const auto& [id, s] : streams_)
    if (!s.retired && s.last_active_ms >= now_ms - retention_ms && ParseStreamId(id).ok()) ++n;
  return n;
}

bool StreamOffsets::AnyActive(int64_t now_ms, int64_t retention_ms) const {
  for (const auto& [id, s] : streams_)
    if (!s.retired && s.last_active_ms >= now_ms - retention_ms) return true;
  return false;
}

bool ExpiredStreamTxn(const delta::Txn& txn, const delta::Metadata& metadata, int64_t now_ms) {
  if (!txn.last_updated_ms || !IsStateId(txn.app_id)) return false;
  return *txn.last_updated_ms < now_ms - delta::StreamRetentionMs(metadata);
}

bool CommittedByTable(const StreamMark& mark, const delta::Snapshot& snapshot) {
  if (mark.empty()) return false;
  std::optional<int64_t> txn = snapshot.TxnVersion(mark.stream_id);
  if (!txn || *txn == kRetiredStreamVersion) return false;
  if (IsIdempotencyId(mark.stream_id)) return *txn == mark.offset;
  return ParseStreamId(mark.stream_id).ok() && *txn >= mark.offset;
}

std::vector<delta::Txn> StreamTxns(const std::vector<const StreamMark*>& marks,
                                   const StreamOffsets& offsets, int64_t now_ms) {
  std::map<std::string, int64_t> highest;
  for (const StreamMark* m : marks) {
    if (m->empty() || offsets.retired(m->stream_id)) continue;
    auto [it, fresh] = highest.emplace(m->stream_id, m->offset);
    if (!fresh) it->second = std::max(it->second, m->offset);
  }
  std::vector<delta::Txn> txns;
  txns.reserve(highest.size());
  for (const auto& [id, offset] : highest) txns.push_back(delta::Txn{id, offset, now_ms});
  return txns;
}

}  // namespace nobus::table
