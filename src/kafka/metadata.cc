// Broker::Impl::Metadata: this node is the only broker; each existing table is a topic with the
// partitions of its nobus.kafka.partitions property (default 1), all led by this node (spec 2.5
// "Metadata").
#include <vector>

#include "kafka/broker_impl.h"
#include "table/catalog.h"

namespace nobus::kafka {
namespace {

constexpr int32_t kNodeId = 0;
constexpr int32_t kNotRequested = INT32_MIN;  // authorized operations

struct Topic {
  std::string name;
  int16_t error = kNone;
  int32_t partitions = 0;  // when error is kNone: the table's nobus.kafka.partitions
};

// Fills the topic's error and partitions: no error when the table exists, the connection may
// write it and the node serves.
void Describe(const Broker::Impl& broker, const Session& session, Topic& topic) {
  absl::StatusOr<table::TableName> parsed = table::ParseTableName(topic.name);
  if (!parsed.ok()) return void(topic.error = kInvalidTopicException);
  if (!broker.Authorize(session, *parsed).ok()) return void(topic.error = kTopicAuthorizationFailed);
  absl::StatusOr<table::IngestService*> ingest = broker.options.serving();
  if (!ingest.ok()) return void(topic.error = kNotLeaderOrFollower);
  absl::StatusOr<std::shared_ptr<const table::LiveTable>> live = (*ingest)->OpenTable(*parsed);
  if (live.ok()) return void(topic.partitions = (*live)->kafka_partitions());
  topic.error = absl::IsNotFound(live.status()) ? kUnknownTopicOrPartition : kUnknownServerError;
}

void WritePartition(Writer& w, int16_t v, bool flexible, int32_t index, int16_t error) {
  w.Int16(error), w.Int32(index), w.Int32(error == kNone ? kNodeId : -1);
  if (v >= 7) w.Int32(0);  // leader_epoch
  for (int list = 0; list < (v >= 5 ? 3 : 2); ++list) {  // replicas, isr, offline replicas
    const bool offline = list == 2;
    w.ArrayLength(error == kNone && !offline ? 1 : 0, flexible);
    if (error == kNone && !offline) w.Int32(kNodeId);
  }
  if (flexible) w.EmptyTags();
}

}  // namespace

Answer Broker::Impl::Metadata(const Request& req) {
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kMetadata, v);
  Reader r = BodyReader(req);
  std::vector<Topic> topics;
  absl::StatusOr<int32_t> count = r.ArrayLength(flexible);
  // v0: an empty list means all topics; v1+: null means all. "All" is answered with no topics
  // (a producer asks for the topics it writes).
  for (int32_t i = 0; count.ok() && i < *count; ++i) {
    if (v >= 10) (void)r.Uuid();
    absl::StatusOr<std::optional<std::string_view>> name =
        v >= 10 ? r.NullableString(flexible)
                : absl::StatusOr<std::optional<std::string_view>>(r.String(flexible));
    if (!name.ok()) break;
    if (!r.SkipTaggedFields(flexible).ok()) break;
    if (name->has_value()) topics.push_back(Topic{std::string(**name)});
  }
  for (Topic& t : topics) Describe(*this, *req.session, t);

  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  if (v >= 3) w.Int32(0);  // throttle_time_ms
  w.ArrayLength(1, flexible);  // brokers: this node
  w.Int32(kNodeId), w.String(options.advertised_host, flexible), w.Int32(options.advertised_port);
  if (v >= 1) w.NullableString(std::nullopt, flexible);  // rack
  if (flexible) w.EmptyTags();
  if (v >= 2) w.NullableString(options.cluster_id, flexible);
  if (v >= 1) w.Int32(kNodeId);  // controller_id
  w.ArrayLength(static_cast<int32_t>(topics.size()), flexible);
  for (const Topic& t : topics) {
    w.Int16(t.error), w.String(t.name, flexible);
    if (v >= 10) w.Uuid();  // topic_id: zero (none)
    if (v >= 1) w.Bool(false);  // is_internal
    w.ArrayLength(t.error == kNone ? t.partitions : 0, flexible);
    for (int32_t p = 0; t.error == kNone && p < t.partitions; ++p)
      WritePartition(w, v, flexible, p, kNone);
    if (v >= 8) w.Int32(kNotRequested);
    if (flexible) w.EmptyTags();
  }
  if (v >= 8 && v <= 10) w.Int32(kNotRequested);
  if (flexible) w.EmptyTags();
  return Answer{w.Take()};
}

}  // namespace nobus::kafka
