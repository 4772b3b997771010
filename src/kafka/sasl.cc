// Broker::Impl SASL (spec 2.5 "SaslHandshake", "SaslAuthenticate", "OAUTHBEARER tokens"): a client
// authenticates with a nobus token, either as the PLAIN password (any user name) or as the
// OAUTHBEARER bearer token; the token then decides, per Produce and Metadata, which tables the
// connection may write (auth::Authorizer, as for gRPC and REST). SaslHandshake v0 means the token
// follows as a bare frame (kafka-python), v1 inside SaslAuthenticate.
#include "common/logging.h"
#include "kafka/broker_impl.h"

namespace nobus::kafka {
namespace {

constexpr std::string_view kMechanisms[] = {"PLAIN", "OAUTHBEARER"};
// After a failed authentication the connection closes this much later, as Kafka brokers do
// (connection.failed.authentication.delay.ms): a client that reads the answer together with the
// EOF may drop it (kafka-python 3.0.12 does) and report a bare disconnect instead.
constexpr int kFailedAuthCloseDelayMs = 100;

// The token in the client's first SASL message; InvalidArgument naming what is malformed.
absl::StatusOr<std::string> TokenOf(std::string_view mechanism, std::string_view bytes) {
  if (mechanism == "PLAIN") {  // authzid NUL authcid NUL password (RFC 4616)
    const size_t first = bytes.find('\0');
    const size_t second = first == std::string_view::npos ? first : bytes.find('\0', first + 1);
    if (second == std::string_view::npos)
      return absl::InvalidArgumentError("malformed SASL PLAIN message (authzid NUL user NUL password)");
    return std::string(bytes.substr(second + 1));
  }
  // OAUTHBEARER (RFC 7628): "n,," 0x01 "auth=Bearer <token>" [0x01 key=value]* 0x01 0x01
  constexpr std::string_view kAuth = "\x01" "auth=Bearer ";
  const size_t at = bytes.find(kAuth);
  if (!bytes.starts_with("n,") || at == std::string_view::npos)
    return absl::InvalidArgumentError(
        "malformed SASL OAUTHBEARER message: expected n,,<0x01>auth=Bearer <token><0x01><0x01>");
  std::string_view rest = bytes.substr(at + kAuth.size());
  return std::string(rest.substr(0, rest.find('\x01')));
}

}  // namespace

absl::Status Broker::Impl::Authorize(const Session& session, const table::TableName& table) const {
  if (options.auth == nullptr || !options.auth->enabled()) return absl::OkStatus();
  if (session.authorization.empty())
    return absl::UnauthenticatedError(
        "this node requires authentication: connect with SASL PLAIN (a nobus token as the "
        "password) or OAUTHBEARER (security.protocol=SASL_PLAINTEXT)");
  return options.auth->AuthorizeTable(session.authorization, table).status();
}

Answer Broker::Impl::SaslHandshake(const Request& req) {
  Reader r = BodyReader(req);
  absl::StatusOr<std::string_view> mechanism = r.String(false, "mechanism");
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, false);
  bool known = false;
  for (std::string_view m : kMechanisms) known |= mechanism.ok() && *mechanism == m;
  w.Int16(known ? kNone : kUnsupportedSaslMechanism);
  w.ArrayLength(static_cast<int32_t>(std::size(kMechanisms)), false);
  for (std::string_view m : kMechanisms) w.String(m, false);
  if (known) {
    req.session->mechanism = std::string(*mechanism);
    req.session->raw_token_next = req.header.api_version == 0;
  }
  return Answer{w.Take(), /*close=*/!known};
}

namespace {

// Checks `token` and, when valid, marks the session authenticated. The error message, if not.
std::optional<std::string> Authenticate(const auth::Authorizer* auth, Session& session,
                                        const std::string& peer, std::string_view bytes) {
  absl::StatusOr<std::string> token = TokenOf(session.mechanism, bytes);
  absl::Status st = token.status();
  if (st.ok() && auth != nullptr) st = auth->Authenticate(Cat("Bearer ", *token));
  if (!st.ok()) {
    NOBUS_LOG_WARN_LIMITED("kafka: SASL {} authentication failed for {}: {}", session.mechanism,
                           peer, std::string(st.message()));
    return std::string(st.message());
  }
  session.authorization = Cat("Bearer ", *token);
  return std::nullopt;
}

}  // namespace

Answer Broker::Impl::SaslAuthenticate(const Request& req) {
  const int16_t v = req.header.api_version;
  const bool flexible = IsFlexible(kSaslAuthenticate, v);
  Reader r = BodyReader(req);
  absl::StatusOr<std::string_view> bytes = r.Bytes(flexible, "auth_bytes");
  std::optional<std::string> error =
      req.session->mechanism.empty() ? std::optional<std::string>("SaslHandshake must come first")
      : bytes.ok() ? Authenticate(options.auth, *req.session, req.peer, *bytes)
                   : std::optional<std::string>(std::string(bytes.status().message()));
  Writer w;
  WriteResponseHeader(w, req.header.correlation_id, flexible);
  w.Int16(!error ? kNone
                 : req.session->mechanism.empty() ? kIllegalSaslState : kSaslAuthenticationFailed);
  w.NullableString(error ? std::optional<std::string_view>(*error) : std::nullopt, flexible);
  w.Bytes("", flexible);
  if (v >= 1) w.Int64(0);  // session_lifetime_ms: no re-authentication; tokens are checked per use
  w.EmptyTags(flexible);
  return Answer{w.Take(), /*close=*/error.has_value(),
                error ? kFailedAuthCloseDelayMs : 0};
}

Answer Broker::Impl::RawSaslToken(Session& session, const std::string& peer,
                                  std::string_view token) {
  session.raw_token_next = false;
  std::optional<std::string> error = Authenticate(options.auth, session, peer, token);
  // Success is an empty frame; a failure closes the connection (there is no error field).
  return error ? Answer{.close = true, .close_delay_ms = kFailedAuthCloseDelayMs}
               : Answer{std::string()};
}

}  // namespace nobus::kafka
