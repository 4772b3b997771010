#include "server/config.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "env/env.h"
#include "objstore/s3_location.h"
#include "parquet/compression.h"

namespace nobus::server {
namespace {

using nlohmann::json;

absl::Status KeyError(std::string_view origin, std::string_view key, std::string_view what) {
  return absl::InvalidArgumentError(Cat("config ", origin, ": key '", key, "' ", what));
}

absl::Status ReadString(const json& doc, std::string_view origin, const char* key,
                        std::string* out) {
  if (!doc.contains(key)) return absl::OkStatus();
  if (!doc[key].is_string()) return KeyError(origin, key, "must be a string");
  *out = doc[key].get<std::string>();
  return absl::OkStatus();
}

// An integer of at least `min` (1: "a positive integer", 0: "an integer >= 0").
absl::Status ReadInteger(const json& doc, std::string_view origin, const char* key, int64_t min,
                         int64_t* out) {
  if (!doc.contains(key)) return absl::OkStatus();
  const json& v = doc[key];
  if (!v.is_number_integer() || v.get<int64_t>() < min)
    return KeyError(origin, key,
                    min == 1 ? std::string("must be a positive integer")
                             : Cat("must be an integer >= ", min));
  *out = v.get<int64_t>();
  return absl::OkStatus();
}

absl::Status ReadPositive(const json& doc, std::string_view origin, const char* key, int64_t* out) {
  return ReadInteger(doc, origin, key, 1, out);
}

absl::Status ReadPercent(const json& doc, std::string_view origin, const char* key, double* out) {
  if (!doc.contains(key)) return absl::OkStatus();
  const json& v = doc[key];
  if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 100)
    return KeyError(origin, key, "must be a percentage from 0 to 100");
  *out = v.get<double>();
  return absl::OkStatus();
}

absl::StatusOr<TokenGrant> ParseGrant(const json& item, std::string_view origin, size_t index) {
  std::string key = Cat("tokens[", index, "]");
  if (!item.is_object()) return KeyError(origin, key, "must be an object");
  for (const auto& [k, v] : item.items()) {
    if (k != "token" && k != "tables" && k != "admin")
      return KeyError(origin, Cat(key, ".", k), "is unknown (expected token, tables, admin)");
  }
  TokenGrant grant;
  if (!item.contains("token") || !item["token"].is_string() ||
      item["token"].get<std::string>().empty())
    return KeyError(origin, Cat(key, ".token"), "must be a non-empty string");
  grant.token = item["token"].get<std::string>();
  if (item.contains("tables")) {
    const json& tables = item["tables"];
    if (!tables.is_array()) return KeyError(origin, Cat(key, ".tables"), "must be an array");
    for (const json& t : tables) {
      if (!t.is_string())
        return KeyError(origin, Cat(key, ".tables"), "must hold strings like \"main.default.*\"");
      grant.tables.push_back(t.get<std::string>());
    }
  }
  if (item.contains("admin")) {
    if (!item["admin"].is_boolean())
      return KeyError(origin, Cat(key, ".admin"), "must be a boolean");
    grant.admin = item["admin"].get<bool>();
  }
  return grant;
}

absl::Status ParseTokens(const json& doc, std::string_view origin, ServerConfig* config) {
  if (!doc.contains("tokens")) return absl::OkStatus();
  if (!doc["tokens"].is_array())
    return KeyError(origin, "tokens",
                    "must be an array of {\"token\": ..., \"tables\": [...], \"admin\": false}");
  size_t i = 0;
  for (const json& item : doc["tokens"]) {
    NOBUS_ASSIGN_OR_RETURN(TokenGrant grant, ParseGrant(item, origin, i));
    config->tokens.push_back(std::move(grant));
    ++i;
  }
  return absl::OkStatus();
}

// "mqtt_routes": [{"filter": "plant/+/telemetry", "table": "main.iot.telemetry",
//                  "columns": {"plant": 2}}, ...] (mqtt/routes.h).
absl::Status ParseMqttRoutes(const json& doc, std::string_view origin, ServerConfig* config) {
  if (!doc.contains("mqtt_routes")) return absl::OkStatus();
  constexpr std::string_view kShape =
      "must be an array of {\"filter\": \"plant/+/telemetry\", \"table\": \"main.iot.t\", "
      "\"columns\": {\"plant\": 2}} (columns optional; levels count from 1)";
  if (!doc["mqtt_routes"].is_array()) return KeyError(origin, "mqtt_routes", kShape);
  size_t i = 0;
  for (const json& item : doc["mqtt_routes"]) {
    const std::string key = Cat("mqtt_routes[", i++, "]");
    if (!item.is_object() || !item.contains("filter") || !item["filter"].is_string() ||
        !item.contains("table") || !item["table"].is_string())
      return KeyError(origin, key, kShape);
    for (const auto& [k, v] : item.items()) {
      if (k != "filter" && k != "table" && k != "columns")
        return KeyError(origin, Cat(key, ".", k), "is unknown (expected filter, table, columns)");
    }
    std::vector<std::pair<size_t, std::string>> columns;
    if (item.contains("columns")) {
      if (!item["columns"].is_object()) return KeyError(origin, Cat(key, ".columns"), kShape);
      for (const auto& [column, level] : item["columns"].items()) {
        if (!level.is_number_unsigned())
          return KeyError(origin, Cat(key, ".columns.", column),
                          "must be a topic level number (counting from 1)");
        columns.emplace_back(level.get<size_t>(), column);
      }
    }
    absl::StatusOr<mqtt::Route> route = mqtt::MakeRoute(
        item["filter"].get<std::string>(), item["table"].get<std::string>(), std::move(columns));
    if (!route.ok()) return KeyError(origin, key, MessageOf(route.status()));
    config->mqtt_routes.push_back(*std::move(route));
  }
  return absl::OkStatus();
}

}  // namespace

int64_t ServerConfig::grpc_hard_limit_bytes() const {
  return std::max<int64_t>(2 * max_message_bytes, max_message_bytes + (4 << 20));
}

absl::StatusOr<ServerConfig> ParseConfigJson(std::string_view text, std::string_view origin) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return absl::InvalidArgumentError(Cat("config ", origin, ": not valid JSON"));
  if (!doc.is_object())
    return absl::InvalidArgumentError(Cat("config ", origin, ": must be a JSON object"));
  static const char* const kKeys[] = {
      "data_dir",          "table_root",        "s3_endpoint",       "s3_region",
      "s3_path_style",     "grpc_listen",       "http_listen",       "ops_listen",
      "kafka_listen",      "kafka_advertised",  "mqtt_listen",       "mqtt_routes",
      "flush_interval_ms", "commit_threads", "wal_group_delay_us", "parquet_compression",
      "max_message_bytes", "max_inflight_bytes_per_stream",
      "max_buffered_bytes", "drain_timeout_ms", "log_level",
      "tokens",            "tls_cert",          "tls_key",
      "tls_client_ca",     "insecure",          "auth_dir",
      "token_ttl_s",       "principals",        "grants",
      "maintenance",       "maintenance_interval_ms",
      "disk_pause_below_free_bytes", "disk_pause_below_free_percent",
      "disk_resume_above_free_bytes", "disk_resume_above_free_percent",
      "slow_sync_ms",      "stuck_table_after_ms",
      "http_max_connections", "http_max_connections_per_client",
      "http_header_timeout_ms", "http_body_timeout_ms", "http_idle_timeout_ms",
      "http_max_header_bytes"};
  for (const auto& [k, v] : doc.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys))
      return KeyError(origin, k, "is unknown (see doc/server.md for the keys)");
  }
  ServerConfig config;
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "data_dir", &config.data_dir));
  for (auto [key, out] : {std::pair{"table_root", &config.table_root},
                          std::pair{"s3_endpoint", &config.s3_endpoint},
                          std::pair{"s3_region", &config.s3_region}})
    NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, key, out));
  if (doc.contains("s3_path_style")) {
    if (!doc["s3_path_style"].is_boolean())
      return KeyError(origin, "s3_path_style", "must be a boolean");
    config.s3_path_style = doc["s3_path_style"].get<bool>();
  }
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "grpc_listen", &config.grpc_listen));
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "http_listen", &config.http_listen));
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "ops_listen", &config.ops_listen));
  if (doc.contains("kafka_listen")) config.kafka_listen_explicit = true;
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "kafka_listen", &config.kafka_listen));
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "kafka_advertised", &config.kafka_advertised));
  if (doc.contains("mqtt_listen")) config.mqtt_listen_explicit = true;
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "mqtt_listen", &config.mqtt_listen));
  NOBUS_RETURN_IF_ERROR(ParseMqttRoutes(doc, origin, &config));
  NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, "log_level", &config.log_level));
  NOBUS_RETURN_IF_ERROR(
      ReadString(doc, origin, "parquet_compression", &config.parquet_compression));
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "flush_interval_ms", &config.flush_interval_ms));
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "commit_threads", &config.commit_threads));
  if (config.commit_threads > 256)
    return KeyError(origin, "commit_threads", "must be at most 256 (tables committed at once)");
  NOBUS_RETURN_IF_ERROR(
      ReadInteger(doc, origin, "wal_group_delay_us", 0, &config.wal_group_delay_us));
  if (config.wal_group_delay_us > 100'000)
    return KeyError(origin, "wal_group_delay_us",
                    "must be at most 100000 (it adds up to that much latency to every ack)");
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "max_message_bytes", &config.max_message_bytes));
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "max_inflight_bytes_per_stream",
                                     &config.max_inflight_bytes_per_stream));
  NOBUS_RETURN_IF_ERROR(
      ReadPositive(doc, origin, "max_buffered_bytes", &config.max_buffered_bytes));
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "drain_timeout_ms", &config.drain_timeout_ms));
  NOBUS_RETURN_IF_ERROR(ParseTokens(doc, origin, &config));
  for (auto [key, out] : {std::pair{"tls_cert", &config.tls_cert},
                          std::pair{"tls_key", &config.tls_key},
                          std::pair{"tls_client_ca", &config.tls_client_ca},
                          std::pair{"auth_dir", &config.auth_dir}})
    NOBUS_RETURN_IF_ERROR(ReadString(doc, origin, key, out));
  for (auto [key, out] : {std::pair{"insecure", &config.insecure},
                          std::pair{"maintenance", &config.maintenance}}) {
    if (!doc.contains(key)) continue;
    if (!doc[key].is_boolean()) return KeyError(origin, key, "must be a boolean");
    *out = doc[key].get<bool>();
  }
  NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, "token_ttl_s", &config.token_ttl_s));
  NOBUS_RETURN_IF_ERROR(
      ReadPositive(doc, origin, "maintenance_interval_ms", &config.maintenance_interval_ms));
  for (auto [key, out] :
       {std::pair{"disk_pause_below_free_bytes", &config.disk_pause_below_free_bytes},
        std::pair{"disk_resume_above_free_bytes", &config.disk_resume_above_free_bytes}})
    NOBUS_RETURN_IF_ERROR(ReadInteger(doc, origin, key, 0, out));
  for (auto [key, out] :
       {std::pair{"slow_sync_ms", &config.slow_sync_ms},
        std::pair{"stuck_table_after_ms", &config.stuck_table_after_ms},
        std::pair{"http_max_connections", &config.http_max_connections},
        std::pair{"http_header_timeout_ms", &config.http_header_timeout_ms},
        std::pair{"http_body_timeout_ms", &config.http_body_timeout_ms},
        std::pair{"http_idle_timeout_ms", &config.http_idle_timeout_ms},
        std::pair{"http_max_header_bytes", &config.http_max_header_bytes}})
    NOBUS_RETURN_IF_ERROR(ReadPositive(doc, origin, key, out));
  NOBUS_RETURN_IF_ERROR(ReadInteger(doc, origin, "http_max_connections_per_client", 0,
                                    &config.http_max_connections_per_client));
  for (auto [key, out] :
       {std::pair{"disk_pause_below_free_percent", &config.disk_pause_below_free_percent},
        std::pair{"disk_resume_above_free_percent", &config.disk_resume_above_free_percent}})
    NOBUS_RETURN_IF_ERROR(ReadPercent(doc, origin, key, out));
  if (doc.contains("principals") || doc.contains("grants")) {
    json policy = json::object();
    for (const char* key : {"principals", "grants"})
      if (doc.contains(key)) policy[key] = doc[key];
    NOBUS_ASSIGN_OR_RETURN(config.declared,
                           auth::PolicyFromJson(policy.dump(), Cat("config ", origin), true));
  }
  return config;
}

absl::StatusOr<ServerConfig> LoadConfigFile(std::string_view path) {
  absl::StatusOr<std::string> text = env::ReadFile(env::PosixFileSystem(), path);
  if (!text.ok())
    return absl::Status(text.status().code(),
                        Cat("cannot read config file ", path, ": ", text.status().message()));
  return ParseConfigJson(*text, path);
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return absl::InvalidArgumentError(
        Cat("listen address '", text, "' must be HOST:PORT, e.g. 127.0.0.1:7070"));
  HostPort out;
  out.host = std::string(text.substr(0, colon));
  if (out.host.find(':') != std::string::npos &&
      (out.host.front() != '[' || out.host.back() != ']'))
    return absl::InvalidArgumentError(
        Cat("listen address '", text, "': write IPv6 hosts in brackets, e.g. [::1]:7070"));
  std::string_view port = text.substr(colon + 1);
  int value = 0;
  for (char c : port) {
    if (c < '0' || c > '9' || value > 65535)
      return absl::InvalidArgumentError(Cat("listen address '", text, "': bad port '", port, "'"));
    value = value * 10 + (c - '0');
  }
  if (value > 65535)
    return absl::InvalidArgumentError(Cat("listen address '", text, "': port above 65535"));
  out.port = value;
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || host.starts_with("127.");
}

std::string ServerConfig::auth_directory() const {
  return auth_dir.empty() ? env::JoinPath(data_dir, "auth") : auth_dir;
}

namespace {

// "grpc A, http B[, kafka C][, mqtt D]": the listeners named when a non-loopback one needs TLS
// or auth.
std::string PublicListeners(const ServerConfig& config) {
  std::string s = Cat("grpc ", config.grpc_listen, ", http ", config.http_listen);
  if (!config.kafka_listen.empty()) s += Cat(", kafka ", config.kafka_listen);
  if (!config.mqtt_listen.empty()) s += Cat(", mqtt ", config.mqtt_listen);
  return s;
}

}  // namespace

absl::Status ValidateConfig(const ServerConfig& config, bool principals_exist) {
  if (config.data_dir.empty()) return absl::InvalidArgumentError("data_dir must not be empty");
  if (objstore::IsS3Url(config.table_root))
    NOBUS_RETURN_IF_ERROR(Annotate(objstore::ParseS3Url(config.table_root).status(), "table_root"));
  if (config.max_message_bytes > (1 << 30))
    return absl::InvalidArgumentError(
        Cat("max_message_bytes ", config.max_message_bytes, " is above the 1 GiB maximum"));
  parquet::WriterOptions data_files;
  NOBUS_RETURN_IF_ERROR(Annotate(parquet::ParseCompression(config.parquet_compression, &data_files),
                                 "parquet_compression"));
  if (config.http_max_header_bytes < 1024 || config.http_max_header_bytes > (1 << 20))
    return absl::InvalidArgumentError(Cat("http_max_header_bytes ", config.http_max_header_bytes,
                                          " must be between 1024 and 1048576"));
  bool any_public = false;
  using KeyAddr = std::pair<const char*, const std::string*>;
  for (auto [key, addr] :
       {KeyAddr{"grpc_listen", &config.grpc_listen}, KeyAddr{"http_listen", &config.http_listen}}) {
    absl::StatusOr<HostPort> hp = ParseHostPort(*addr);
    if (!hp.ok()) return Annotate(hp.status(), key);
    if (!IsLoopbackHost(hp->host)) any_public = true;
  }
  for (auto [key, addr] : {KeyAddr{"kafka_listen", &config.kafka_listen},
                           KeyAddr{"kafka_advertised", &config.kafka_advertised},
                           KeyAddr{"mqtt_listen", &config.mqtt_listen}}) {
    if (addr->empty()) continue;
    absl::StatusOr<HostPort> hp = ParseHostPort(*addr);
    if (!hp.ok()) return Annotate(hp.status(), key);
    if (std::string(key) != "kafka_advertised" && !IsLoopbackHost(hp->host)) any_public = true;
  }
  // The ops listener carries no records and no credentials: it may listen anywhere.
  if (!config.ops_listen.empty()) {
    absl::StatusOr<HostPort> hp = ParseHostPort(config.ops_listen);
    if (!hp.ok()) return Annotate(hp.status(), "ops_listen");
  }
  for (size_t i = 0; i < config.tokens.size(); ++i) {
    const TokenGrant& g = config.tokens[i];
    if (g.token.empty())
      return absl::InvalidArgumentError(Cat("tokens[", i, "].token must not be empty"));
    for (const std::string& pattern : g.tables) {
      absl::Status s = auth::ValidateTablePattern(pattern);
      if (!s.ok()) return Annotate(s, Cat("tokens[", i, "].tables"));
    }
  }
  if (config.tls_cert.empty() != config.tls_key.empty())
    return absl::InvalidArgumentError(
        "TLS needs both --tls-cert and --tls-key (tls_cert and tls_key in the config file)");
  if (!config.tls_client_ca.empty() && config.tls_cert.empty())
    return absl::InvalidArgumentError(
        "--tls-client-ca (mutual TLS) needs --tls-cert and --tls-key too");
  if (config.token_ttl_s > 86400)
    return absl::InvalidArgumentError(
        Cat("token_ttl_s ", config.token_ttl_s, " is above the 86400 s (one day) maximum"));
  if (config.disk_resume_above_free_bytes < config.disk_pause_below_free_bytes ||
      config.disk_resume_above_free_percent < config.disk_pause_below_free_percent)
    return absl::InvalidArgumentError(Cat(
        "disk_resume_above_free_bytes/_percent (", config.disk_resume_above_free_bytes, " bytes, ",
        config.disk_resume_above_free_percent, "%) must not be below disk_pause_below_free_bytes/",
        "_percent (", config.disk_pause_below_free_bytes, " bytes, ",
        config.disk_pause_below_free_percent, "%): admission resumes above where it pauses"));
  const bool authenticated =
      !config.tokens.empty() || !config.declared.principals.empty() || principals_exist;
  if (any_public && !config.insecure && config.tls_cert.empty())
    return absl::InvalidArgumentError(
        Cat("refusing to listen on a non-loopback address (", PublicListeners(config),
            ") without TLS: pass --tls-cert PEM --tls-key PEM (try `nobus dev-certs DIR` for a "
            "local CA), listen on 127.0.0.1, or pass --insecure on a trusted network"));
  if (any_public && !config.insecure && !authenticated)
    return absl::InvalidArgumentError(
        Cat("refusing to listen on a non-loopback address (", PublicListeners(config),
            ") without authentication: create a service principal (`nobus principal create NAME "
            "--data-dir DIR`, then `nobus grant MODIFY ON TABLE ... TO NAME`), or add static "
            "tokens to the config file (--config FILE) \"tokens\": [{\"token\": \"<secret>\", "
            "\"tables\": [\"main.default.*\"]}], listen on 127.0.0.1, or pass --insecure on a "
            "trusted network"));
  return absl::OkStatus();
}

}  // namespace nobus::server
