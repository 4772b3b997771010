// Broker: request dispatch and the small APIs (ApiVersions, Metadata, InitProducerId and the
// advertised-but-refused Fetch / FindCoordinator). Produce is in produce.cc.
#include "kafka/broker.h"

#include <atomic>
#include <cctype>
#include <chrono>

#include "common/logging.h"
#include "kafka/broker_impl.h"

namespace nobus::kafka {
namespace {

struct Range {
  int16_t key, min, max;
};
// What nobus advertises (spec 2.4 / 2.10: Produce from 0 and Fetch and FindCoordinator so that
// old librdkafka turns on RecordBatch v2, compression and idempotence).
constexpr Range kAdvertised[] = {
    {kProduce, 0, 9},         {kFetch, 4, 12},          {kMetadata, 0, 12},
    {kFindCoordinator, 0, 4}, {kApiVersions, 0, 3},     {kInitProducerId, 0, 4},
    {kSaslHandshake, 0, 1},   {kSaslAuthenticate, 0, 2},
};

const Range* Find(int16_t key) {
  for (const Range& r : kAdvertised)
    if (r.key == key) return &r;
  return nullptr;
}

}  // namespace

Broker::Impl::Impl(BrokerOptions o) : options(std::move(o)) {
  if (options.metrics == nullptr) return;
  produce_requests = options.metrics->GetCounter("nobus_kafka_produce_requests_total",
                                                 "Kafka Produce requests received.");
  batches_rejected = options.metrics->GetCounter(
      "nobus_kafka_batches_rejected_total",
      "Kafka partition batches answered with an error (bad record, unknown topic, ...).");
  duplicate_batches = options.metrics->GetCounter(
      "nobus_kafka_duplicate_batches_total",
      "Retried batches of idempotent producers answered with their original offset, not written.");
}

Broker::Broker(BrokerOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {
  // Producer ids never repeat across restarts: wall-clock milliseconds, then a counter.
  impl_->next_producer_id.store(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count() *
      1000);
}

void Broker::Advertise(std::string host, int port) {
  impl_->options.advertised_host = std::move(host);
  impl_->options.advertised_port = port;
}

void Broker::Handle(std::string frame, ConnectionContext& connection, Reply reply) {
  const std::string& peer = connection.peer;
  if (connection.state == nullptr) connection.state = std::make_shared<Session>();
  std::shared_ptr<Session> session = std::static_pointer_cast<Session>(connection.state);
  if (session->raw_token_next) return reply(impl_->RawSaslToken(*session, peer, frame));
  absl::StatusOr<RequestHeader> header = ParseRequestHeader(frame);
  if (!header.ok()) {
    NOBUS_LOG_WARN_LIMITED("kafka: closing connection from {}: malformed request header: {}", peer,
                           std::string(header.status().message()));
    return reply(Answer{.close = true});
  }
  Request req{*header, peer, std::move(frame), session};
  const Range* range = Find(req.header.api_key);
  if (req.header.api_key == kApiVersions) return reply(impl_->ApiVersions(req));
  if (range == nullptr || req.header.api_version < range->min ||
      req.header.api_version > range->max) {
    NOBUS_LOG_WARN_LIMITED(
        "kafka: closing connection from {} (client {}): API key {} version {} is not served here "
        "(nobus serves a producer: ApiVersions, Metadata, Produce, InitProducerId)",
        peer, req.header.client_id.value_or(""), req.header.api_key, req.header.api_version);
    return reply(Answer{.close = true});
  }
  switch (req.header.api_key) {
    case kMetadata:
      return reply(impl_->Metadata(req));
    case kInitProducerId:
      return reply(impl_->InitProducerId(req));
    case kFindCoordinator:
      return reply(impl_->FindCoordinator(req));
    case kFetch:
      return reply(impl_->Fetch(req));
    case kSaslHandshake:
      return reply(impl_->SaslHandshake(req));
    case kSaslAuthenticate:
      return reply(impl_->SaslAuthenticate(req));
    case kProduce:
      return impl_->Produce(std::move(req), std::move(reply));
  }
  return reply(Answer{.close = true});
}

Answer Broker::Impl::ApiVersions(const Request& req) {
  const int16_t v = req.header.api_version;
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, /*flexible=*/false);  // always v0 (spec 2.1)
  if (v > 3) {  // KIP-511: answer in v0 form with UNSUPPORTED_VERSION and our range
    w.Int16(kUnsupportedVersion);
    w.ArrayLength(1, false);
    w.Int16(kApiVersions), w.Int16(0), w.Int16(3);
    return Answer{w.Take()};
  }
  const bool flexible = v >= 3;
  w.Int16(kNone);
  w.ArrayLength(static_cast<int32_t>(std::size(kAdvertised)), flexible);
  for (const Range& r : kAdvertised) {
    w.Int16(r.key), w.Int16(r.min), w.Int16(r.max);
    if (flexible) w.EmptyTags();
  }
  if (v >= 1) w.Int32(0);  // throttle_time_ms
  if (flexible) w.EmptyTags();
  std::string version_label = "unknown";
  if (flexible) {
    Reader r = BodyReader(req);
    absl::StatusOr<std::string_view> name = r.String(true);
    absl::StatusOr<std::string_view> version = r.String(true);
    if (name.ok() && version.ok()) {
      NOBUS_LOG_INFO("kafka client connected peer={} client_id={} software={}/{}", req.peer,
                     req.header.client_id.value_or(""), *name, *version);
      req.session->software = SoftwareLabel(*name);
      version_label = req.session->software == "other" ? "other" : SoftwareLabel(*version);
    }
  }
  if (options.metrics != nullptr)
    options.metrics
        ->GetCounter("nobus_kafka_clients_total",
                     "Kafka connections by the client software and version they named "
                     "(ApiVersions v3+; \"unknown\" for older clients).",
                     {{"software", req.session->software}, {"version", version_label}})
        ->Add();
  return Answer{w.Take()};
}

std::string Broker::Impl::SoftwareLabel(std::string_view name) {
  std::string label;
  for (char c : name.substr(0, 40))
    label.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'
                        ? c
                        : '_');
  if (label.empty()) return "unknown";
  std::lock_guard<std::mutex> l(software_mu);
  if (software_seen.contains(label)) return label;
  if (software_seen.size() >= 100) return "other";
  software_seen.insert(label);
  return label;
}

const TableCounters* Broker::Impl::CountersFor(Session& session, const std::string& table) {
  if (options.metrics == nullptr) return nullptr;
  auto it = session.counters.find(table);
  if (it != session.counters.end()) return &it->second;
  MetricsRegistry& m = *options.metrics;
  auto batches = [&](const char* result) {
    return m.GetCounter("nobus_kafka_batches_total",
                        "Kafka partition batches to an existing table, by how they were answered: "
                        "written, duplicate (a retry, not written again), rejected (an error).",
                        {{"table", table}, {"result", result}});
  };
  TableCounters c{
      .ingest_records = m.GetCounter("nobus_ingest_records_total",
                                     "Records made durable through the front ends.",
                                     {{"table", table}}),
      .records = m.GetCounter("nobus_kafka_records_total",
                              "Records made durable through the Kafka endpoint, by table and "
                              "client software.",
                              {{"table", table}, {"software", session.software}}),
      .written = batches("written"),
      .duplicate = batches("duplicate"),
      .rejected = batches("rejected")};
  return &session.counters.emplace(table, c).first->second;
}

Answer Broker::Impl::InitProducerId(const Request& req) {
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kInitProducerId, v);
  Reader r = BodyReader(req);
  absl::StatusOr<std::optional<std::string_view>> transactional_id = r.NullableString(flexible);
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  w.Int32(0);  // throttle_time_ms
  if (!transactional_id.ok()) {
    w.Int16(kInvalidRequest), w.Int64(-1), w.Int16(-1);
  } else if (transactional_id->has_value()) {
    // Transactions are not offered (like Zerobus): a transactional producer gets a clear refusal.
    w.Int16(kTransactionalIdAuthorizationFailed), w.Int64(-1), w.Int16(-1);
  } else {
    w.Int16(kNone), w.Int64(next_producer_id.fetch_add(1)), w.Int16(0);
  }
  if (flexible) w.EmptyTags();
  return Answer{w.Take()};
}

Answer Broker::Impl::FindCoordinator(const Request& req) {
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kFindCoordinator, v);
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  if (v >= 1) w.Int32(0);  // throttle_time_ms
  const char* why = "nobus is a producer-only endpoint: no consumer groups or transactions";
  if (v >= 4) {  // a coordinators array (keys batched); answer one refused entry
    w.ArrayLength(1, flexible);
    w.String("", flexible), w.Int32(-1), w.String("", flexible), w.Int32(-1);
    w.Int16(kCoordinatorNotAvailable), w.NullableString(why, flexible);
    if (flexible) w.EmptyTags();
  } else {
    w.Int16(kCoordinatorNotAvailable);
    if (v >= 1) w.NullableString(why, flexible);
    w.Int32(-1), w.String("", flexible), w.Int32(-1);
  }
  if (flexible) w.EmptyTags();
  return Answer{w.Take()};
}

Answer Broker::Impl::Fetch(const Request& req) {
  // Advertised only for old librdkafka's feature checks; consuming is not offered.
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kFetch, v);
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  w.Int32(0);                                      // throttle_time_ms
  if (v >= 7) w.Int16(kUnsupportedVersion), w.Int32(0);  // error_code, session_id
  w.ArrayLength(0, flexible);                      // no topics
  if (flexible) w.EmptyTags();
  return Answer{w.Take()};
}

}  // namespace nobus::kafka
