#include "server/config.h"

#include <gtest/gtest.h>

namespace nobus::server {
namespace {

TEST(ConfigTest, ParsesEveryKey) {
  auto c = ParseConfigJson(R"({"data_dir": "/d", "grpc_listen": "0.0.0.0:1", "http_listen":
      "[::1]:2", "flush_interval_ms": 250, "max_message_bytes": 1000,
      "max_inflight_bytes_per_stream": 5000, "max_buffered_bytes": 9000, "drain_timeout_ms": 7,
      "log_level": "warn", "maintenance": false, "maintenance_interval_ms": 500,
      "tokens": [{"token": "t1", "tables": ["main.default.*"]}, {"token": "a", "admin": true}]})",
                           "test");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "/d");
  EXPECT_EQ(c->grpc_listen, "0.0.0.0:1");
  EXPECT_EQ(c->http_listen, "[::1]:2");
  EXPECT_EQ(c->flush_interval_ms, 250);
  EXPECT_EQ(c->max_message_bytes, 1000);
  EXPECT_EQ(c->max_inflight_bytes_per_stream, 5000);
  EXPECT_EQ(c->max_buffered_bytes, 9000);
  EXPECT_EQ(c->drain_timeout_ms, 7);
  EXPECT_EQ(c->log_level, "warn");
  EXPECT_FALSE(c->maintenance);
  EXPECT_EQ(c->maintenance_interval_ms, 500);
  ASSERT_EQ(c->tokens.size(), 2u);
  EXPECT_EQ(c->tokens[0].tables, std::vector<std::string>{"main.default.*"});
  EXPECT_FALSE(c->tokens[0].admin);
  EXPECT_TRUE(c->tokens[1].admin);
}

TEST(ConfigTest, EmptyObjectKeepsDefaults) {
  auto c = ParseConfigJson("{}", "test");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->grpc_listen, "127.0.0.1:7070");
  EXPECT_EQ(c->http_listen, "127.0.0.1:7071");
  EXPECT_EQ(c->data_dir, "./data");
  EXPECT_EQ(c->flush_interval_ms, 1000);
  EXPECT_TRUE(c->maintenance);
  EXPECT_EQ(c->maintenance_interval_ms, 10000);
  EXPECT_FALSE(ParseConfigJson(R"({"maintenance": "yes"})", "test").ok());
}

TEST(ConfigTest, ParquetCompressionIsValidatedWhereverItComesFrom) {
  auto c = ParseConfigJson("{}", "t");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->parquet_compression, "snappy");
  EXPECT_TRUE(ValidateConfig(*c).ok());
  c = ParseConfigJson(R"({"parquet_compression": "zstd:1"})", "t");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->parquet_compression, "zstd:1");
  EXPECT_TRUE(ValidateConfig(*c).ok());
  EXPECT_FALSE(ParseConfigJson(R"({"parquet_compression": 1})", "t").ok());
  // A flag sets the field directly: ValidateConfig refuses a bad value, naming the setting.
  c->parquet_compression = "gzip";
  absl::Status st = ValidateConfig(*c);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("parquet_compression"), std::string::npos) << st;
  EXPECT_NE(st.message().find("'gzip'"), std::string::npos) << st;
}

TEST(ConfigTest, CommitThreadsArePositiveAndAtMost256) {
  EXPECT_EQ(ParseConfigJson("{}", "t")->commit_threads, 8);
  EXPECT_EQ(ParseConfigJson(R"({"commit_threads": 32})", "t")->commit_threads, 32);
  EXPECT_EQ(ParseConfigJson("{}", "t")->wal_group_delay_us, 0);
  EXPECT_EQ(ParseConfigJson(R"({"wal_group_delay_us": 500})", "t")->wal_group_delay_us, 500);
  for (const char* bad : {R"({"wal_group_delay_us": -1})", R"({"wal_group_delay_us": 100001})"}) {
    auto c = ParseConfigJson(bad, "t");
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("'wal_group_delay_us'"), std::string::npos) << c.status();
  }
  for (const char* bad : {R"({"commit_threads": 0})", R"({"commit_threads": 257})"}) {
    auto c = ParseConfigJson(bad, "x.json");
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(c.status().message().find("'commit_threads'"), std::string::npos) << c.status();
  }
}

TEST(ConfigTest, WrongTypeNamesTheKey) {
  auto c = ParseConfigJson(R"({"flush_interval_ms": "fast"})", "x.json");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("'flush_interval_ms'"), std::string::npos) << c.status();
  EXPECT_NE(c.status().message().find("x.json"), std::string::npos);
}

TEST(ConfigTest, UnknownKeyIsAnError) {
  auto c = ParseConfigJson(R"({"data_dri": "/d"})", "x.json");
  EXPECT_NE(c.status().message().find("'data_dri' is unknown"), std::string::npos) << c.status();
}

TEST(ConfigTest, TokenWithoutSecretNamesTheKey) {
  auto c = ParseConfigJson(R"({"tokens": [{"tables": ["a.b.c"]}]})", "x.json");
  EXPECT_NE(c.status().message().find("'tokens[0].token'"), std::string::npos) << c.status();
}

TEST(ConfigTest, MalformedJson) {
  EXPECT_EQ(ParseConfigJson("{", "x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseConfigJson("[]", "x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, MissingFileIsNotFound) {
  auto c = LoadConfigFile("/nonexistent/nobusd.json");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(c.status().message().find("/nonexistent/nobusd.json"), std::string::npos);
}

TEST(ConfigTest, NonLoopbackNeedsTlsAndAuthenticationOrInsecure) {
  ServerConfig c;
  c.grpc_listen = "0.0.0.0:7070";
  absl::Status s = ValidateConfig(c);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("without TLS"), std::string::npos) << s;
  EXPECT_NE(s.message().find("nobus dev-certs"), std::string::npos) << s;
  c.tls_cert = "server.pem";
  c.tls_key = "server.key";
  s = ValidateConfig(c);
  EXPECT_NE(s.message().find("without authentication"), std::string::npos) << s;
  EXPECT_NE(s.message().find("nobus principal create"), std::string::npos) << s;
  EXPECT_NE(s.message().find("\"tokens\""), std::string::npos) << s;
  EXPECT_TRUE(ValidateConfig(c, /*principals_exist=*/true).ok());
  c.tokens.push_back({.token = "t", .tables = {"main.default.*"}});
  EXPECT_TRUE(ValidateConfig(c).ok());
  ServerConfig open;
  open.http_listen = "0.0.0.0:7071";
  open.insecure = true;
  EXPECT_TRUE(ValidateConfig(open).ok());
}

TEST(ConfigTest, HalfATlsConfigIsRefused) {
  ServerConfig c;
  c.tls_cert = "server.pem";
  EXPECT_NE(ValidateConfig(c).message().find("both --tls-cert and --tls-key"), std::string::npos);
  ServerConfig m;
  m.tls_client_ca = "ca.pem";
  EXPECT_NE(ValidateConfig(m).message().find("--tls-client-ca"), std::string::npos);
}

TEST(ConfigTest, SecurityKeysParse) {
  auto c = ParseConfigJson(R"({"tls_cert": "s.pem", "tls_key": "s.key", "insecure": true,
      "token_ttl_s": 600, "auth_dir": "/shared/auth",
      "principals": [{"name": "etl", "secret_hash": "pbkdf2-sha256$1$AAAA$AAAA"}],
      "grants": [{"privilege": "MODIFY", "on": "SCHEMA", "name": "main.sales", "principal": "etl"}]})",
                           "t.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls_cert, "s.pem");
  EXPECT_TRUE(c->insecure);
  EXPECT_EQ(c->token_ttl_s, 600);
  EXPECT_EQ(c->auth_directory(), "/shared/auth");
  ASSERT_EQ(c->declared.principals.size(), 1u);
  EXPECT_TRUE(c->declared.principals[0].declared);
  EXPECT_EQ(c->declared.Patterns("etl", auth::Privilege::kModify),
            std::vector<std::string>{"main.sales.*"});
  auto bad = ParseConfigJson(R"({"grants": [{"privilege": "WRITE", "on": "TABLE", "name": "a.b.c",
      "principal": "etl"}]})", "t.json");
  EXPECT_NE(bad.status().message().find("unknown privilege 'WRITE'"), std::string::npos)
      << bad.status();
}

TEST(ConfigTest, LoopbackWithoutTokensIsOpenLocalUse) {
  ServerConfig c;
  c.grpc_listen = "localhost:0";
  c.http_listen = "[::1]:0";
  EXPECT_TRUE(ValidateConfig(c).ok());
}

TEST(ConfigTest, BadTablePatternIsRejected) {
  ServerConfig c;
  c.tokens.push_back({.token = "t", .tables = {"main.*"}});
  absl::Status s = ValidateConfig(c);
  EXPECT_NE(s.message().find("tokens[0].tables"), std::string::npos) << s;
}

TEST(ConfigTest, ParseHostPort) {
  auto hp = ParseHostPort("127.0.0.1:7070");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 7070);
  hp = ParseHostPort("[::1]:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->host, "[::1]");
  EXPECT_FALSE(ParseHostPort("7070").ok());
  EXPECT_FALSE(ParseHostPort("host:").ok());
  EXPECT_FALSE(ParseHostPort("host:70x").ok());
  EXPECT_FALSE(ParseHostPort("host:70000").ok());
  EXPECT_FALSE(ParseHostPort("::1:80").ok());
}

TEST(ConfigTest, MessageLimitAbove1GiBIsRejected) {
  ServerConfig c;
  c.max_message_bytes = int64_t{2} << 30;
  EXPECT_NE(ValidateConfig(c).message().find("max_message_bytes"), std::string::npos);
}

TEST(ConfigTest, FaultHandlingKeys) {
  auto c = ParseConfigJson(R"({"disk_pause_below_free_bytes": 1000, "disk_pause_below_free_percent": 0,
      "disk_resume_above_free_bytes": 2000, "disk_resume_above_free_percent": 2.5,
      "slow_sync_ms": 50, "stuck_table_after_ms": 700})",
                           "x.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->disk_pause_below_free_bytes, 1000);
  EXPECT_EQ(c->disk_pause_below_free_percent, 0);
  EXPECT_EQ(c->disk_resume_above_free_bytes, 2000);
  EXPECT_EQ(c->disk_resume_above_free_percent, 2.5);
  EXPECT_EQ(c->slow_sync_ms, 50);
  EXPECT_EQ(c->stuck_table_after_ms, 700);
  EXPECT_TRUE(ValidateConfig(*c).ok());
  auto bad = ParseConfigJson(R"({"disk_pause_below_free_percent": 101})", "x.json");
  EXPECT_NE(bad.status().message().find("disk_pause_below_free_percent"), std::string::npos);
  // Resuming below the pause watermark would flap: refused, naming both.
  c->disk_resume_above_free_bytes = 500;
  EXPECT_NE(ValidateConfig(*c).message().find("disk_resume_above_free_bytes"), std::string::npos);
}

TEST(ConfigTest, HttpListenerKeys) {
  auto c = ParseConfigJson(R"({"http_max_connections": 50, "http_max_connections_per_client": 0,
      "http_header_timeout_ms": 1, "http_body_timeout_ms": 2, "http_idle_timeout_ms": 3,
      "http_max_header_bytes": 4096, "ops_listen": "0.0.0.0:9"})",
                           "x.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->http_max_connections, 50);
  EXPECT_EQ(c->http_max_connections_per_client, 0);
  EXPECT_EQ(c->http_header_timeout_ms, 1);
  EXPECT_EQ(c->http_body_timeout_ms, 2);
  EXPECT_EQ(c->http_idle_timeout_ms, 3);
  EXPECT_EQ(c->http_max_header_bytes, 4096);
  EXPECT_EQ(c->ops_listen, "0.0.0.0:9");
  // The ops listener carries no records: a public address needs no TLS or tokens.
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  for (const char* bad : {R"({"http_max_connections": 0})", R"({"http_idle_timeout_ms": -1})",
                          R"({"http_max_connections_per_client": -1})"}) {
    auto parsed = ParseConfigJson(bad, "x.json");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  c->http_max_header_bytes = 100;
  EXPECT_NE(ValidateConfig(*c).message().find("http_max_header_bytes"), std::string::npos);
  c->http_max_header_bytes = 4096;
  c->ops_listen = "nope";
  EXPECT_NE(ValidateConfig(*c).message().find("ops_listen"), std::string::npos);
}

TEST(ConfigTest, KafkaListenerKeys) {
  ServerConfig defaults;
  EXPECT_EQ(defaults.kafka_listen, "127.0.0.1:9092");
  EXPECT_FALSE(defaults.kafka_listen_explicit);
  auto c = ParseConfigJson(R"({"kafka_listen": "127.0.0.1:0", "kafka_advertised": "h:19092"})",
                           "x.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->kafka_listen_explicit);
  EXPECT_EQ(c->kafka_advertised, "h:19092");
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  c->kafka_listen = "";  // off
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  // A public Kafka address follows the other listeners' rule: TLS and authentication, or
  // --insecure; the error names the Kafka listener.
  c->kafka_listen = "0.0.0.0:9092";
  absl::Status st = ValidateConfig(*c);
  EXPECT_NE(st.message().find("without TLS"), std::string::npos) << st;
  EXPECT_NE(st.message().find("kafka 0.0.0.0:9092"), std::string::npos) << st;
  c->tls_cert = "cert.pem";
  c->tls_key = "key.pem";
  st = ValidateConfig(*c);
  EXPECT_NE(st.message().find("without authentication"), std::string::npos) << st;
  c->tokens.push_back(TokenGrant{.token = "t", .tables = {"main.default.*"}});
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  c->tokens.clear();
  c->tls_cert = c->tls_key = "";
  c->insecure = true;
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
  c->kafka_advertised = "no-port";
  EXPECT_NE(ValidateConfig(*c).message().find("kafka_advertised"), std::string::npos);
}

TEST(ConfigTest, MqttListenerAndRoutes) {
  ServerConfig defaults;
  EXPECT_EQ(defaults.mqtt_listen, "127.0.0.1:1883");
  auto c = ParseConfigJson(R"({"mqtt_listen": "127.0.0.1:0", "mqtt_routes": [
      {"filter": "plant/+/telemetry", "table": "main.iot.telemetry", "columns": {"plant": 2}},
      {"filter": "#", "table": "main.iot.other"}]})", "x.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->mqtt_listen_explicit);
  ASSERT_EQ(c->mqtt_routes.size(), 2u);
  EXPECT_EQ(c->mqtt_routes[0].table.ToString(), "main.iot.telemetry");
  ASSERT_EQ(c->mqtt_routes[0].level_columns.size(), 1u);
  EXPECT_EQ(c->mqtt_routes[0].level_columns[0], (std::pair<size_t, std::string>{2, "plant"}));
  c->mqtt_listen = "0.0.0.0:1883";  // public: TLS and authentication, or --insecure
  absl::Status st = ValidateConfig(*c);
  EXPECT_NE(st.message().find("mqtt 0.0.0.0:1883"), std::string::npos) << st;
  // Bad rules name the rule and what is wrong.
  st = ParseConfigJson(R"({"mqtt_routes": [{"filter": "a/+", "table": "main.x.t",
                                             "columns": {"c": 3}}]})", "x.json").status();
  EXPECT_EQ(st.message(),
            "config x.json: key 'mqtt_routes[0]' column 'c' takes topic level 3, but filter 'a/+' "
            "has 2 levels before any '#' (levels count from 1)");
  st = ParseConfigJson(R"({"mqtt_routes": [{"filter": "a", "table": "t"}]})", "x.json").status();
  EXPECT_NE(st.message().find("key 'mqtt_routes[0]'"), std::string::npos) << st;
  st = ParseConfigJson(R"({"mqtt_routes": [{"filter": "a", "table": "a.b.c", "x": 1}]})", "x.json")
           .status();
  EXPECT_NE(st.message().find("'mqtt_routes[0].x' is unknown"), std::string::npos) << st;
}

TEST(ConfigTest, HardLimitLeavesHeadroom) {
  ServerConfig c;
  EXPECT_GT(c.grpc_hard_limit_bytes(), c.max_message_bytes);
}

}  // namespace
}  // namespace nobus::server
