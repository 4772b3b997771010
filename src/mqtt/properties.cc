#include "mqtt/properties.h"

#include <bitset>
#include <type_traits>
#include <string>

namespace nobus::mqtt {
namespace {

using C = PropertyContext;
using Id = PropertyId;

enum class Type : uint8_t { kByte, kTwo, kFour, kVarInt, kUtf8, kBinary, kPair };

constexpr uint16_t Bit(C c) { return static_cast<uint16_t>(1u << static_cast<unsigned>(c)); }
constexpr uint16_t kMessage = Bit(C::kPublish) | Bit(C::kWill);
constexpr uint16_t kEverywhere = 0x3fff;
constexpr uint16_t kReasonStringContexts =
    Bit(C::kConnack) | Bit(C::kPuback) | Bit(C::kPubrec) | Bit(C::kPubrel) | Bit(C::kPubcomp) |
    Bit(C::kSuback) | Bit(C::kUnsuback) | Bit(C::kDisconnect) | Bit(C::kAuth);

struct Info {
  Id id;
  Type type;
  uint16_t contexts;
  bool zero_or_one;  // a Byte whose only legal values are 0 and 1
  bool nonzero;      // an integer that must not be 0
};

constexpr Info kInfos[] = {
    {Id::kPayloadFormatIndicator, Type::kByte, kMessage, true, false},
    {Id::kMessageExpiryInterval, Type::kFour, kMessage, false, false},
    {Id::kContentType, Type::kUtf8, kMessage, false, false},
    {Id::kResponseTopic, Type::kUtf8, kMessage, false, false},
    {Id::kCorrelationData, Type::kBinary, kMessage, false, false},
    {Id::kSubscriptionIdentifier, Type::kVarInt, Bit(C::kPublish) | Bit(C::kSubscribe), false,
     true},
    {Id::kSessionExpiryInterval, Type::kFour,
     Bit(C::kConnect) | Bit(C::kConnack) | Bit(C::kDisconnect), false, false},
    {Id::kAssignedClientIdentifier, Type::kUtf8, Bit(C::kConnack), false, false},
    {Id::kServerKeepAlive, Type::kTwo, Bit(C::kConnack), false, false},
    {Id::kAuthenticationMethod, Type::kUtf8, Bit(C::kConnect) | Bit(C::kConnack) | Bit(C::kAuth),
     false, false},
    {Id::kAuthenticationData, Type::kBinary, Bit(C::kConnect) | Bit(C::kConnack) | Bit(C::kAuth),
     false, false},
    {Id::kRequestProblemInformation, Type::kByte, Bit(C::kConnect), true, false},
    {Id::kWillDelayInterval, Type::kFour, Bit(C::kWill), false, false},
    {Id::kRequestResponseInformation, Type::kByte, Bit(C::kConnect), true, false},
    {Id::kResponseInformation, Type::kUtf8, Bit(C::kConnack), false, false},
    {Id::kServerReference, Type::kUtf8, Bit(C::kConnack) | Bit(C::kDisconnect), false, false},
    {Id::kReasonString, Type::kUtf8, kReasonStringContexts, false, false},
    {Id::kReceiveMaximum, Type::kTwo, Bit(C::kConnect) | Bit(C::kConnack), false, true},
    {Id::kTopicAliasMaximum, Type::kTwo, Bit(C::kConnect) | Bit(C::kConnack), false, false},
    {Id::kTopicAlias, Type::kTwo, Bit(C::kPublish), false, true},
    {Id::kMaximumQos, Type::kByte, Bit(C::kConnack), true, false},
    {Id::kRetainAvailable, Type::kByte, Bit(C::kConnack), true, false},
    {Id::kUserProperty, Type::kPair, kEverywhere, false, false},
    {Id::kMaximumPacketSize, Type::kFour, Bit(C::kConnect) | Bit(C::kConnack), false, true},
    {Id::kWildcardSubscriptionAvailable, Type::kByte, Bit(C::kConnack), true, false},
    {Id::kSubscriptionIdentifierAvailable, Type::kByte, Bit(C::kConnack), true, false},
    {Id::kSharedSubscriptionAvailable, Type::kByte, Bit(C::kConnack), true, false},
};

const Info* Find(uint32_t id) {
  for (const Info& info : kInfos) {
    if (static_cast<uint32_t>(info.id) == id) return &info;
  }
  return nullptr;
}

// A decoded value, whatever its type.
struct Value {
  uint32_t number = 0;
  std::string_view text;
  std::string_view text2;  // the value of a string pair
};

absl::StatusOr<Value> ReadValue(Reader& s, const Info& info, const std::string& field) {
  Value v;
  switch (info.type) {
    case Type::kByte: {
      NOBUS_ASSIGN_OR_RETURN(v.number, s.Byte(field));
      break;
    }
    case Type::kTwo: {
      NOBUS_ASSIGN_OR_RETURN(v.number, s.TwoByteInt(field));
      break;
    }
    case Type::kFour: {
      NOBUS_ASSIGN_OR_RETURN(v.number, s.FourByteInt(field));
      break;
    }
    case Type::kVarInt: {
      NOBUS_ASSIGN_OR_RETURN(v.number, s.VariableByteInt(field));
      break;
    }
    case Type::kUtf8: {
      NOBUS_ASSIGN_OR_RETURN(v.text, s.Utf8String(field));
      break;
    }
    case Type::kBinary: {
      NOBUS_ASSIGN_OR_RETURN(v.text, s.Binary(field));
      break;
    }
    case Type::kPair: {
      NOBUS_ASSIGN_OR_RETURN(v.text, s.Utf8String(Cat(field, " name")));
      NOBUS_ASSIGN_OR_RETURN(v.text2, s.Utf8String(Cat(field, " value")));
      break;
    }
  }
  return v;
}

void Store(Id id, const Value& v, Properties& p) {
  const auto u8 = static_cast<uint8_t>(v.number);
  const auto u16 = static_cast<uint16_t>(v.number);
  switch (id) {
    case Id::kPayloadFormatIndicator: p.payload_format_indicator = u8; break;
    case Id::kMessageExpiryInterval: p.message_expiry_interval_s = v.number; break;
    case Id::kContentType: p.content_type = v.text; break;
    case Id::kResponseTopic: p.response_topic = v.text; break;
    case Id::kCorrelationData: p.correlation_data = v.text; break;
    case Id::kSubscriptionIdentifier: p.subscription_identifiers.push_back(v.number); break;
    case Id::kSessionExpiryInterval: p.session_expiry_interval_s = v.number; break;
    case Id::kAssignedClientIdentifier: p.assigned_client_identifier = v.text; break;
    case Id::kServerKeepAlive: p.server_keep_alive_s = u16; break;
    case Id::kAuthenticationMethod: p.authentication_method = v.text; break;
    case Id::kAuthenticationData: p.authentication_data = v.text; break;
    case Id::kRequestProblemInformation: p.request_problem_information = u8 != 0; break;
    case Id::kWillDelayInterval: p.will_delay_interval_s = v.number; break;
    case Id::kRequestResponseInformation: p.request_response_information = u8 != 0; break;
    case Id::kResponseInformation: p.response_information = v.text; break;
    case Id::kServerReference: p.server_reference = v.text; break;
    case Id::kReasonString: p.reason_string = v.text; break;
    case Id::kReceiveMaximum: p.receive_maximum = u16; break;
    case Id::kTopicAliasMaximum: p.topic_alias_maximum = u16; break;
    case Id::kTopicAlias: p.topic_alias = u16; break;
    case Id::kMaximumQos: p.maximum_qos = u8; break;
    case Id::kRetainAvailable: p.retain_available = u8 != 0; break;
    case Id::kUserProperty: p.user_properties.push_back({v.text, v.text2}); break;
    case Id::kMaximumPacketSize: p.maximum_packet_size = v.number; break;
    case Id::kWildcardSubscriptionAvailable: p.wildcard_subscription_available = u8 != 0; break;
    case Id::kSubscriptionIdentifierAvailable:
      p.subscription_identifier_available = u8 != 0;
      break;
    case Id::kSharedSubscriptionAvailable: p.shared_subscription_available = u8 != 0; break;
  }
}

// Reads one identifier / value pair into `p`; `seen` holds the identifiers read so far.
absl::Status ReadOne(Reader& s, PropertyContext where, std::bitset<64>& seen, Properties& p) {
  const size_t at = s.position();
  NOBUS_ASSIGN_OR_RETURN(uint32_t id, s.VariableByteInt("property identifier"));
  const Info* info = Find(id);
  if (info == nullptr) {
    return s.Malformed(at, "property identifier", "", Cat("unknown property ", Hex(id)));
  }
  const std::string field = Cat(PropertyName(info->id), " (property ", Hex(id), ")");
  if ((info->contexts & Bit(where)) == 0) {
    return s.Malformed(at, field, "", Cat("not allowed in ", PropertyContextName(where)));
  }
  const bool repeatable = info->id == Id::kUserProperty ||
                          (info->id == Id::kSubscriptionIdentifier && where == C::kPublish);
  if (seen[id] && !repeatable) return s.ProtocolError(at, field, "", "appears more than once");
  seen[id] = true;
  const size_t value_at = s.position();
  NOBUS_ASSIGN_OR_RETURN(Value v, ReadValue(s, *info, field));
  if (info->zero_or_one && v.number > 1) {
    return s.ProtocolError(value_at, field, "", Cat("value ", v.number, ", must be 0 or 1"));
  }
  if (info->nonzero && v.number == 0) return s.ProtocolError(value_at, field, "", "value 0");
  if (info->id == Id::kResponseTopic && !IsValidTopicName(v.text)) {
    return s.Malformed(value_at, field, "", "not a valid Topic Name (empty or a wildcard)");
  }
  Store(info->id, v, p);
  return absl::OkStatus();
}

// Writers of one property of each type.
void Id8(Writer& w, Id id) { w.Byte(static_cast<uint8_t>(id)); }
template <typename T>
void Put(Writer& w, Id id, const std::optional<T>& v) {
  if (!v) return;
  Id8(w, id);
  if constexpr (std::is_same_v<T, std::string_view>) {
    // Binary Data and UTF-8 Strings share the layout.
    w.Binary(*v);
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    w.TwoByteInt(*v);
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    w.FourByteInt(*v);
  } else {
    w.Byte(static_cast<uint8_t>(*v));  // uint8_t, bool
  }
}
void PutText(Writer& w, Id id, const std::optional<std::string_view>& v) {
  if (!v) return;
  Id8(w, id);
  w.Utf8String(*v);
}

}  // namespace

std::string_view PropertyName(PropertyId id) {
  switch (id) {
    case Id::kPayloadFormatIndicator: return "Payload Format Indicator";
    case Id::kMessageExpiryInterval: return "Message Expiry Interval";
    case Id::kContentType: return "Content Type";
    case Id::kResponseTopic: return "Response Topic";
    case Id::kCorrelationData: return "Correlation Data";
    case Id::kSubscriptionIdentifier: return "Subscription Identifier";
    case Id::kSessionExpiryInterval: return "Session Expiry Interval";
    case Id::kAssignedClientIdentifier: return "Assigned Client Identifier";
    case Id::kServerKeepAlive: return "Server Keep Alive";
    case Id::kAuthenticationMethod: return "Authentication Method";
    case Id::kAuthenticationData: return "Authentication Data";
    case Id::kRequestProblemInformation: return "Request Problem Information";
    case Id::kWillDelayInterval: return "Will Delay Interval";
    case Id::kRequestResponseInformation: return "Request Response Information";
    case Id::kResponseInformation: return "Response Information";
    case Id::kServerReference: return "Server Reference";
    case Id::kReasonString: return "Reason String";
    case Id::kReceiveMaximum: return "Receive Maximum";
    case Id::kTopicAliasMaximum: return "Topic Alias Maximum";
    case Id::kTopicAlias: return "Topic Alias";
    case Id::kMaximumQos: return "Maximum QoS";
    case Id::kRetainAvailable: return "Retain Available";
    case Id::kUserProperty: return "User Property";
    case Id::kMaximumPacketSize: return "Maximum Packet Size";
    case Id::kWildcardSubscriptionAvailable: return "Wildcard Subscription Available";
    case Id::kSubscriptionIdentifierAvailable: return "Subscription Identifier Available";
    case Id::kSharedSubscriptionAvailable: return "Shared Subscription Available";
  }
  return "unknown property";
}

std::string_view PropertyContextName(PropertyContext where) {
  switch (where) {
    case C::kConnect: return "CONNECT";
    case C::kWill: return "Will Properties";
    case C::kConnack: return "CONNACK";
    case C::kPublish: return "PUBLISH";
    case C::kPuback: return "PUBACK";
    case C::kPubrec: return "PUBREC";
    case C::kPubrel: return "PUBREL";
    case C::kPubcomp: return "PUBCOMP";
    case C::kSubscribe: return "SUBSCRIBE";
    case C::kSuback: return "SUBACK";
    case C::kUnsubscribe: return "UNSUBSCRIBE";
    case C::kUnsuback: return "UNSUBACK";
    case C::kDisconnect: return "DISCONNECT";
    case C::kAuth: return "AUTH";
  }
  return "unknown";
}

bool IsPropertyAllowed(PropertyId id, PropertyContext where) {
  const Info* info = Find(static_cast<uint32_t>(id));
  return info != nullptr && (info->contexts & Bit(where)) != 0;
}

absl::StatusOr<Properties> ReadProperties(Reader& r, PropertyContext where) {
  const size_t at = r.position();
  NOBUS_ASSIGN_OR_RETURN(uint32_t length, r.VariableByteInt("Property Length"));
  auto section = r.Section(length, "Property Length");
  if (!section.ok()) {
    return r.Malformed(at, "Property Length", "Variable Byte Integer",
                       Cat(length, " exceeds the ", r.remaining(), " bytes left"));
  }
  Properties p;
  std::bitset<64> seen;
  while (!section->empty()) NOBUS_RETURN_IF_ERROR(ReadOne(*section, where, seen, p));
  return p;
}

void WriteProperties(Writer& out, const Properties& p) {
  std::string body;
  Writer w(&body);
  Put(w, Id::kPayloadFormatIndicator, p.payload_format_indicator);
  Put(w, Id::kMessageExpiryInterval, p.message_expiry_interval_s);
  PutText(w, Id::kContentType, p.content_type);
  PutText(w, Id::kResponseTopic, p.response_topic);
  Put(w, Id::kCorrelationData, p.correlation_data);
  for (uint32_t id : p.subscription_identifiers) {
    Id8(w, Id::kSubscriptionIdentifier);
    w.VariableByteInt(id);
  }
  Put(w, Id::kSessionExpiryInterval, p.session_expiry_interval_s);
  PutText(w, Id::kAssignedClientIdentifier, p.assigned_client_identifier);
  Put(w, Id::kServerKeepAlive, p.server_keep_alive_s);
  PutText(w, Id::kAuthenticationMethod, p.authentication_method);
  Put(w, Id::kAuthenticationData, p.authentication_data);
  Put(w, Id::kRequestProblemInformation, p.request_problem_information);
  Put(w, Id::kWillDelayInterval, p.will_delay_interval_s);
  Put(w, Id::kRequestResponseInformation, p.request_response_information);
  PutText(w, Id::kResponseInformation, p.response_information);
  PutText(w, Id::kServerReference, p.server_reference);
  PutText(w, Id::kReasonString, p.reason_string);
  Put(w, Id::kReceiveMaximum, p.receive_maximum);
  Put(w, Id::kTopicAliasMaximum, p.topic_alias_maximum);
  Put(w, Id::kTopicAlias, p.topic_alias);
  Put(w, Id::kMaximumQos, p.maximum_qos);
  Put(w, Id::kRetainAvailable, p.retain_available);
  for (const UserProperty& u : p.user_properties) {
    Id8(w, Id::kUserProperty);
    w.Utf8String(u.name);
    w.Utf8String(u.value);
  }
  Put(w, Id::kMaximumPacketSize, p.maximum_packet_size);
  Put(w, Id::kWildcardSubscriptionAvailable, p.wildcard_subscription_available);
  Put(w, Id::kSubscriptionIdentifierAvailable, p.subscription_identifier_available);
  Put(w, Id::kSharedSubscriptionAvailable, p.shared_subscription_available);
  out.VariableByteInt(static_cast<uint32_t>(body.size()));
  out.Raw(body);
}

Properties WithoutDiagnostics(const Properties& p) {
  Properties out = p;
  out.reason_string.reset();
  out.user_properties.clear();
  return out;
}

}  // namespace nobus::mqtt
