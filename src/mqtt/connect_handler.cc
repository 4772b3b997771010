// Endpoint::Impl::Connect (doc/mqtt.md "CONNECT"): the first packet of a connection. Decodes it,
// applies nobus's policy (client identifier, Will, enhanced authentication, the token, the
// optional table header, keep alive) and answers with the CONNACK: accepted with the limits nobus
// announces, or refused with its reason code (3.1.1: return code) and the connection closed.
#include <algorithm>

#include "common/logging.h"
#include "mqtt/endpoint_impl.h"

namespace nobus::mqtt {
namespace {

constexpr size_t kMaxClientIdBytes = 128;
constexpr uint16_t kMinKeepAliveS = 5;
constexpr uint16_t kMaxKeepAliveS = 300;
// Zerobus's user properties: the token, and the table the connection writes.
constexpr std::string_view kAuthorizationProperty = "authorization";
constexpr std::string_view kTableProperty = "x-databricks-zerobus-table-name";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

std::optional<std::string_view> FindUserProperty(const Properties& p, std::string_view name) {
  for (const UserProperty& u : p.user_properties)
    if (EqualsIgnoreCase(u.name, name)) return u.value;
  return std::nullopt;
}

// A refused CONNECT: the CONNACK with `code` (5.0: and `why` as its Reason String), then close.
net::Answer Refuse(Endpoint::Impl& impl, const Session& s, Version version,
                   std::optional<uint32_t> client_max_packet, ReasonCode code, std::string_view why) {
  NOBUS_LOG_WARN_LIMITED("mqtt: refused the CONNECT (MQTT {}) of {}: {} ({})", VersionName(version),
                         s.peer, ReasonCodeName(code), why);
  impl.CountConnect(version, ReasonCodeName(code));
  Connack ack{.reason = code};
  if (version == Version::kV5) ack.properties.reason_string = why;
  return net::Answer{.response = EncodeConnack(ack, version, client_max_packet), .close = true};
}

}  // namespace

net::Answer Endpoint::Impl::Connect(Session& s, std::string_view packet) {
  absl::StatusOr<mqtt::Connect> c = DecodeConnect(packet);
  if (!c.ok()) {
    const std::optional<uint8_t> level = PeekProtocolLevel(packet);
    const ReasonCode code = ReasonCodeFor(c.status());
    // A 3.1.1 CONNACK has a return code only for an unsupported protocol version.
    if (level == 5 || (level && code == ReasonCode::kUnsupportedProtocolVersion))
      return Refuse(*this, s, level == 5 ? Version::kV5 : Version::kV311, std::nullopt, code,
                    MessageOf(c.status()));
    NOBUS_LOG_WARN_LIMITED("mqtt: closing the connection from {}: its first packet is no valid "
                           "CONNECT: {}", s.peer, MessageOf(c.status()));
    return net::Answer{.close = true};
  }
  const Version v = c->version;
  const bool v5 = v == Version::kV5;
  const std::optional<uint32_t> max_packet = c->properties.maximum_packet_size;
  auto refuse = [&](ReasonCode code, std::string_view why) {
    return Refuse(*this, s, v, max_packet, code, why);
  };

  Connack ack;
  std::string client_id(c->client_id);
  if (client_id.empty()) {
    if (!c->clean_start)
      return refuse(ReasonCode::kClientIdentifierNotValid,
                    "an empty client identifier needs Clean Start (nobus assigns one then)");
    std::lock_guard<std::mutex> l(mu);
    client_id = Cat("nobus-assigned-", ++next_assigned_id);
  }
  if (client_id.size() > kMaxClientIdBytes)
    return refuse(ReasonCode::kClientIdentifierNotValid,
                  Cat("the client identifier has ", client_id.size(), " bytes; at most ",
                      kMaxClientIdBytes));
  if (c->will && v5)
    return refuse(ReasonCode::kImplementationSpecificError,
                  "nobus has no subscribers, so a Will Message would never be delivered: connect "
                  "without one");
  if (c->properties.authentication_method)
    return refuse(ReasonCode::kBadAuthenticationMethod,
                  Cat("enhanced authentication (method '", *c->properties.authentication_method,
                      "') is not supported: send a nobus token as the password or as the ",
                      "Authorization user property"));

  // The token: the Authorization user property (5.0), else the password.
  std::string authorization;
  bool from_password = false;
  if (std::optional<std::string_view> a = FindUserProperty(c->properties, kAuthorizationProperty))
    authorization = std::string(*a);
  else if (c->password)
    authorization = Cat("Bearer ", *c->password), from_password = true;
  if (options.auth != nullptr && options.auth->enabled()) {
    if (authorization.empty())
      return refuse(ReasonCode::kNotAuthorized,
                    "this node requires authentication: send a nobus token as the password (any "
                    "user name) or as the user property 'Authorization: Bearer <token>'");
    if (absl::Status st = options.auth->Authenticate(authorization); !st.ok())
      return refuse(from_password ? ReasonCode::kBadUserNameOrPassword : ReasonCode::kNotAuthorized,
                    MessageOf(st));
  }

  // The table header: checked now, and every PUBLISH must name that table.
  std::optional<table::TableName> table;
  if (std::optional<std::string_view> name = FindUserProperty(c->properties, kTableProperty)) {
    absl::StatusOr<table::TableName> parsed = table::ParseTableName(*name);
    if (!parsed.ok())
      return refuse(ReasonCode::kTopicNameInvalid,
                    Cat(kTableProperty, " '", *name, "' is not a table name catalog.schema.table: ",
                        MessageOf(parsed.status())));
    absl::StatusOr<table::IngestService*> ingest = options.serving();
    if (!ingest.ok()) return refuse(ReasonCode::kServerUnavailable, MessageOf(ingest.status()));
    absl::StatusOr<std::shared_ptr<const table::LiveTable>> live = (*ingest)->OpenTable(*parsed);
    if (!live.ok())
      return absl::IsNotFound(live.status())
                 ? refuse(ReasonCode::kTopicNameInvalid, MessageOf(live.status()))
                 : refuse(ReasonCode::kServerUnavailable, MessageOf(live.status()));
    if (options.auth != nullptr)
      if (absl::Status st = options.auth->AuthorizeTable(authorization, *parsed).status(); !st.ok())
        return refuse(ReasonCode::kNotAuthorized, MessageOf(st));
    table = *parsed;
  }

  // Keep alive: 5.0 clients get 5-300 s (Server Keep Alive when theirs is outside); a 3.1.1
  // client's interval is taken as it is (0: none). The deadline is 1.5 x the interval.
  uint16_t keep_alive = c->keep_alive_s;
  if (v5) {
    const uint16_t wanted = keep_alive;
    keep_alive = keep_alive == 0 ? kMaxKeepAliveS : std::clamp(keep_alive, kMinKeepAliveS, kMaxKeepAliveS);
    if (keep_alive != wanted) ack.properties.server_keep_alive_s = keep_alive;
  }
  if (c->will) {
    NOBUS_LOG_INFO("mqtt: client '{}' (MQTT 3.1.1) from {} sent a Will; it is accepted and never "
                   "published (nobus has no subscribers)", client_id, s.peer);
  }

  s.client_id = std::move(client_id);
  absl::StatusOr<bool> session_present = AttachQos2(s, c->clean_start);
  if (!session_present.ok())
    return refuse(ReasonCode::kServerUnavailable, MessageOf(session_present.status()));
  ack.session_present = *session_present;
  s.connected = true;
  s.version = v;
  s.authorization = std::move(authorization);
  s.table = std::move(table);
  s.client_max_packet = max_packet;
  if (connections != nullptr) connections->Add(1);
  CountConnect(v, "accepted");
  NOBUS_LOG_DEBUG("mqtt: {} connected", s.Who());

  if (v5) {
    Properties& p = ack.properties;
    p.receive_maximum = options.receive_maximum;
    p.retain_available = false;
    p.maximum_packet_size = options.max_packet_bytes;
    p.topic_alias_maximum = 0;
    p.wildcard_subscription_available = false;
    p.subscription_identifier_available = false;
    p.shared_subscription_available = false;
    if (c->client_id.empty()) p.assigned_client_identifier = s.client_id;
  }
  return net::Answer{.response = s.Encode(ack),
                     .idle_timeout_ms = int64_t{keep_alive} * 1500};
}

}  // namespace nobus::mqtt
