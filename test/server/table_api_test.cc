// The HTTP side of nobusd: /healthz, the Unity-Catalog-shaped table API and `nobus table`.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "server_fixture.h"

namespace nobus::server::testing {
namespace {

using nlohmann::json;

constexpr const char* kTables = "/api/2.1/unity-catalog/tables";

class TableApiTest : public ServerTest {};

TEST_F(TableApiTest, HealthzAnswersOkOnceServing) {
  HttpReply r = HttpCall(*server_, "GET", "/healthz");
  EXPECT_EQ(r.status, 200);
}

TEST_F(TableApiTest, CreateReturnsTableInfo) {
  HttpReply r = CreateTable(*server_, "Main.Default.Events",
                            "id BIGINT NOT NULL, amount DECIMAL(10,2), day DATE", {"day"});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["full_name"], "main.default.events");
  EXPECT_EQ(r.body["table_type"], "MANAGED");
  EXPECT_EQ(r.body["data_source_format"], "DELTA");
  EXPECT_EQ(r.body["storage_location"], TableRoot(server_->data_dir(), "main.default.events"));
  EXPECT_FALSE(r.body["table_id"].get<std::string>().empty());
  EXPECT_GT(r.body["created_at"].get<int64_t>(), 0);
  ASSERT_EQ(r.body["columns"].size(), 3u);
  EXPECT_EQ(r.body["columns"][0]["type_text"], "bigint");
  EXPECT_EQ(r.body["columns"][0]["nullable"], false);
  EXPECT_EQ(r.body["columns"][1]["type_text"], "decimal(10,2)");
  EXPECT_EQ(r.body["columns"][2]["partition_index"], 0);
}

TEST_F(TableApiTest, GetListAndDrop) {
  MakeTable("main.default.a", "id BIGINT");
  MakeTable("main.default.b", "id BIGINT");
  MakeTable("main.other.c", "id BIGINT");
  HttpReply got = HttpCall(*server_, "GET", Cat(kTables, "/main.default.a"));
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body["full_name"], "main.default.a");
  EXPECT_EQ(got.body["columns"][0]["name"], "id");

  HttpReply all = HttpCall(*server_, "GET", Cat(kTables, "?catalog_name=main"));
  ASSERT_EQ(all.status, 200);
  ASSERT_EQ(all.body["tables"].size(), 3u);
  HttpReply one_schema =
      HttpCall(*server_, "GET", Cat(kTables, "?catalog_name=main&schema_name=default"));
  ASSERT_EQ(one_schema.body["tables"].size(), 2u);
  EXPECT_EQ(one_schema.body["tables"][0]["full_name"], "main.default.a");
  EXPECT_EQ(one_schema.body["tables"][1]["full_name"], "main.default.b");

  EXPECT_EQ(HttpCall(*server_, "DELETE", Cat(kTables, "/main.default.a")).status, 200);
  HttpReply gone = HttpCall(*server_, "GET", Cat(kTables, "/main.default.a"));
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.body["error_code"], "TABLE_DOES_NOT_EXIST");
  EXPECT_EQ(HttpCall(*server_, "GET", Cat(kTables, "?catalog_name=main&schema_name=default"))
                .body["tables"]
                .size(),
            1u);
}

TEST_F(TableApiTest, CreatingTwiceIsAlreadyExists) {
  MakeTable("main.default.t", "id BIGINT");
  HttpReply r = CreateTable(*server_, "main.default.t", "id BIGINT");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error_code"], "TABLE_ALREADY_EXISTS");
}

TEST_F(TableApiTest, BadTableNameIsInvalidParameter) {
  HttpReply r = CreateTable(*server_, "main.def-ault.t", "id BIGINT");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(r.body["message"].get<std::string>().find("def-ault"), std::string::npos);
  HttpReply get = HttpCall(*server_, "GET", Cat(kTables, "/main.t"));
  EXPECT_EQ(get.status, 400);
  EXPECT_NE(get.body["message"].get<std::string>().find("three parts"), std::string::npos);
}

TEST_F(TableApiTest, UnknownTableIsNotFound) {
  EXPECT_EQ(HttpCall(*server_, "GET", Cat(kTables, "/main.default.nope")).body["error_code"],
            "TABLE_DOES_NOT_EXIST");
  HttpReply drop = HttpCall(*server_, "DELETE", Cat(kTables, "/main.default.nope"));
  EXPECT_EQ(drop.status, 404);
  EXPECT_EQ(drop.body["error_code"], "TABLE_DOES_NOT_EXIST");
}

TEST_F(TableApiTest, BadColumnTypeIsInvalidParameter) {
  json body = {{"catalog_name", "main"},
               {"schema_name", "default"},
               {"name", "t"},
               {"columns", json::array({{{"name", "x"}, {"type_text", "varchar2"}}})}};
  HttpReply r = HttpCall(*server_, "POST", kTables, body.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(r.body["message"].get<std::string>().find("column 'x'"), std::string::npos);
}

TEST_F(TableApiTest, OnlyManagedDeltaTables) {
  json body = {{"catalog_name", "main"},
               {"schema_name", "default"},
               {"name", "t"},
               {"table_type", "EXTERNAL"},
               {"data_source_format", "DELTA"},
               {"columns", json::array({{{"name", "x"}, {"type_text", "int"}}})}};
  HttpReply r = HttpCall(*server_, "POST", kTables, body.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("EXTERNAL"), std::string::npos);
  body["table_type"] = "MANAGED";
  body["data_source_format"] = "ICEBERG";
  EXPECT_EQ(HttpCall(*server_, "POST", kTables, body.dump()).status, 400);
}

TEST_F(TableApiTest, MalformedCreateBodyIsInvalidParameter) {
  HttpReply r = HttpCall(*server_, "POST", kTables, "{not json");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["error_code"], "INVALID_PARAMETER_VALUE");
}

TEST_F(TableApiTest, UnknownEndpointIsJson404) {
  HttpReply r = HttpCall(*server_, "GET", "/api/2.1/unity-catalog/schemas");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body["error_code"], "ENDPOINT_NOT_FOUND");
}

TEST_F(TableApiTest, ListNeedsCatalogName) {
  HttpReply r = HttpCall(*server_, "GET", kTables);
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body["message"].get<std::string>().find("catalog_name"), std::string::npos);
}

// Runs build/bin/nobus with `args`; returns the exit code and sets *out to stdout+stderr.
int RunNobus(const std::string& args, std::string* out) {
  const char* bin_dir = std::getenv("NOBUS_BIN_DIR");
  std::string cmd = Cat(bin_dir != nullptr ? bin_dir : "build/bin", "/nobus ", args, " 2>&1");
  FILE* pipe = popen(cmd.c_str(), "r");
  out->clear();
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), pipe)) > 0;) out->append(buf, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(TableApiTest, CliCreateGetListDrop) {
  std::string server = Cat(" --server http://", server_->http_address());
  std::string out;
  ASSERT_EQ(RunNobus(Cat("table create main.default.events --columns \"id BIGINT NOT NULL, msg "
                         "STRING, day DATE\" --partition-by day",
                         server),
                     &out),
            0)
      << out;
  EXPECT_NE(out.find("created main.default.events"), std::string::npos) << out;
  ASSERT_EQ(RunNobus(Cat("table get main.default.events", server), &out), 0) << out;
  EXPECT_NE(out.find("id bigint NOT NULL"), std::string::npos) << out;
  EXPECT_NE(out.find("partitioned by: day"), std::string::npos) << out;
  EXPECT_NE(out.find(TableRoot(server_->data_dir(), "main.default.events")), std::string::npos);
  ASSERT_EQ(RunNobus(Cat("table list main.default", server), &out), 0) << out;
  EXPECT_EQ(out, "main.default.events\n");
  ASSERT_EQ(RunNobus(Cat("table drop main.default.events", server), &out), 0) << out;
  EXPECT_NE(RunNobus(Cat("table get main.default.events", server), &out), 0);
  EXPECT_NE(out.find("TABLE_DOES_NOT_EXIST"), std::string::npos) << out;
}

TEST_F(TableApiTest, CliExplainsAnUnreachableServer) {
  std::string out;
  EXPECT_EQ(RunNobus("table list main --server http://127.0.0.1:1", &out), 1);
  EXPECT_NE(out.find("cannot reach nobusd at http://127.0.0.1:1"), std::string::npos) << out;
  EXPECT_NE(out.find("build/bin/nobusd"), std::string::npos) << out;
}

TEST_F(TableApiTest, CliRejectsBadColumns) {
  std::string out;
  EXPECT_EQ(RunNobus(Cat("table create main.default.t --columns \"id BIGNT\" --server http://",
                         server_->http_address()),
                     &out),
            1);
  EXPECT_NE(out.find("BIGNT"), std::string::npos) << out;
}

}  // namespace
}  // namespace nobus::server::testing
