#include "http/router.h"

#include <gtest/gtest.h>

namespace nobus::http {
namespace {

Router Routes() {
  Router r;
  Handler noop = [](const Request&, Response&) {};
  r.Add("GET", "/healthz", Runs::kEventLoop, noop);
  r.Add("POST", "/zerobus/v1/tables/{}/insert", Runs::kWorker, noop);
  r.Add("GET", "/api/2.1/unity-catalog/tables/{}", Runs::kWorker, noop);
  r.Add("DELETE", "/api/2.1/unity-catalog/tables/{}", Runs::kWorker, noop);
  return r;
}

TEST(RouterTest, MatchesLiteralsAndSegments) {
  Router r = Routes();
  const Router::Route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  EXPECT_EQ(r.Find("GET", "/healthz", &route, &params, &allowed), Router::Found::kRoute);
  EXPECT_TRUE(params.empty());
  EXPECT_EQ(r.Find("POST", "/zerobus/v1/tables/main.default.t/insert", &route, &params, &allowed),
            Router::Found::kRoute);
  EXPECT_EQ(route->runs, Runs::kWorker);
  EXPECT_EQ(params, std::vector<std::string>{"main.default.t"});
}

TEST(RouterTest, SegmentsAreWholeAndNonEmpty) {
  Router r = Routes();
  const Router::Route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  for (const char* path : {"/zerobus/v1/tables//insert", "/zerobus/v1/tables/a/b/insert",
                           "/zerobus/v1/tables/a/insertx", "/healthz/", "/health",
                           "/api/2.1/unity-catalog/tables/"})
    EXPECT_EQ(r.Find("POST", path, &route, &params, &allowed), Router::Found::kNoPath) << path;
}

TEST(RouterTest, WrongMethodListsTheAllowedOnes) {
  Router r = Routes();
  const Router::Route* route = nullptr;
  std::vector<std::string> params;
  std::string allowed;
  EXPECT_EQ(r.Find("PUT", "/api/2.1/unity-catalog/tables/x", &route, &params, &allowed),
            Router::Found::kWrongMethod);
  EXPECT_EQ(allowed, "GET, DELETE");
}

TEST(ParseTargetTest, DecodesPathAndQuery) {
  std::string path;
  Fields query;
  ASSERT_TRUE(ParseTarget("/a%20b/c?catalog_name=main&x=1+2%2B3&flag&=v&", &path, &query).ok());
  EXPECT_EQ(path, "/a b/c");
  ASSERT_EQ(query.size(), 4u);
  EXPECT_EQ(query[0], (std::pair<std::string, std::string>{"catalog_name", "main"}));
  EXPECT_EQ(query[1].second, "1 2+3");
  EXPECT_EQ(query[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(query[3], (std::pair<std::string, std::string>{"", "v"}));
  ASSERT_TRUE(ParseTarget("/p+q", &path, &query).ok());
  EXPECT_EQ(path, "/p+q");  // '+' is literal in the path
  ASSERT_TRUE(ParseTarget("http://host:80/a?b=c", &path, &query).ok());
  EXPECT_EQ(path, "/a");
  EXPECT_EQ(query[0].second, "c");
  ASSERT_TRUE(ParseTarget("HTTPS://host", &path, &query).ok());
  EXPECT_EQ(path, "/");
}

TEST(ParseTargetTest, RefusesMalformedTargets) {
  std::string path;
  Fields query;
  for (const char* target : {"", "x", "*", "ftp://host/a", "/a%", "/a%2", "/a%zz", "/a%00",
                             "/a?x=%4", "/a?x=%00"}) {
    absl::Status s = ParseTarget(target, &path, &query);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << target;
  }
}

}  // namespace
}  // namespace nobus::http
