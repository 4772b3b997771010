// Topic routing (routes.h): MQTT filter matching, rule checks, level columns spliced into the
// payload before the table's decoder.
#include "mqtt/routes.h"

#include <gtest/gtest.h>

namespace nobus::mqtt {
namespace {

TEST(RoutesTest, FiltersMatchLikeMqtt) {
  EXPECT_TRUE(TopicMatches("plant/+/telemetry", "plant/7/telemetry"));
  EXPECT_FALSE(TopicMatches("plant/+/telemetry", "plant/7/8/telemetry"));
  EXPECT_FALSE(TopicMatches("plant/+/telemetry", "plant/7/status"));
  EXPECT_TRUE(TopicMatches("plant/+/telemetry", "plant//telemetry"));  // an empty level
  EXPECT_TRUE(TopicMatches("plant/#", "plant"));
  EXPECT_TRUE(TopicMatches("plant/#", "plant/7/a/b"));
  EXPECT_FALSE(TopicMatches("plant/#", "plants/7"));
  EXPECT_TRUE(TopicMatches("#", "a/b"));
  EXPECT_FALSE(TopicMatches("#", "$SYS/uptime"));
  EXPECT_FALSE(TopicMatches("+/uptime", "$SYS/uptime"));
  EXPECT_TRUE(TopicMatches("$SYS/uptime", "$SYS/uptime"));
  EXPECT_FALSE(TopicMatches("a/b", "a"));
}

TEST(RoutesTest, TheFirstMatchingRuleWins) {
  std::vector<Route> routes;
  routes.push_back(*MakeRoute("plant/1/+", "main.iot.first", {}));
  routes.push_back(*MakeRoute("plant/+/+", "main.iot.second", {}));
  EXPECT_EQ(FindRoute(routes, "plant/1/x")->table.table, "first");
  EXPECT_EQ(FindRoute(routes, "plant/2/x")->table.table, "second");
  EXPECT_EQ(FindRoute(routes, "main.iot.t"), nullptr);
}

TEST(RoutesTest, BadRulesAreRefusedWithWhatIsWrong) {
  EXPECT_EQ(MakeRoute("plant/a+/x", "main.iot.t", {}).status().message(),
            "filter 'plant/a+/x' is no MQTT topic filter ('+' alone in a level, '#' alone in the "
            "last level, UTF-8)");
  EXPECT_FALSE(MakeRoute("plant/+", "main.iot", {}).ok());
  EXPECT_EQ(MakeRoute("plant/+/#", "main.iot.t", {{3, "rest"}}).status().message(),
            "column 'rest' takes topic level 3, but filter 'plant/+/#' has 2 levels before any "
            "'#' (levels count from 1)");
  EXPECT_FALSE(MakeRoute("plant/+", "main.iot.t", {{0, "zero"}}).ok());
  EXPECT_FALSE(MakeRoute("plant/+", "main.iot.t", {{1, "a"}, {2, "a"}}).ok());
  EXPECT_TRUE(MakeRoute("plant/+/#", "main.iot.t", {{1, "site"}, {2, "plant"}}).ok());
}

TEST(RoutesTest, LevelColumnsGoInFrontOfThePayloadsMembers) {
  const Route r = *MakeRoute("site/+/plant/+/#", "main.iot.t", {{2, "site"}, {4, "plant"}});
  std::string out;
  ASSERT_TRUE(WithLevelColumns(r, "site/eu \"1\"/plant/7/x", R"( {"temp": 1.5})", &out).ok());
  EXPECT_EQ(out, R"( {"site":"eu \"1\"","plant":"7","temp": 1.5})");
  ASSERT_TRUE(WithLevelColumns(r, "site/a/plant/b", "{}", &out).ok());
  EXPECT_EQ(out, R"({"site":"a","plant":"b"})");
  ASSERT_TRUE(WithLevelColumns(r, "site/a/plant/b", "[1]", &out).ok());
  EXPECT_EQ(out, "[1]");  // no object: left for the decoder to refuse
}

}  // namespace
}  // namespace nobus::mqtt
