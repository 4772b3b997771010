#include "auth/authorizer.h"

#include <gtest/gtest.h>

namespace nobus::auth {
namespace {

table::TableName Name(std::string c, std::string s, std::string t) {
  return {std::move(c), std::move(s), std::move(t)};
}

Authorizer Make() {
  return Authorizer({{.token = "writer", .tables = {"main.default.*", "cat.sch.tbl"}},
                     {.token = "root", .admin = true}});
}

TEST(AuthTest, DisabledWithoutTokens) {
  Authorizer auth({});
  EXPECT_FALSE(auth.enabled());
  EXPECT_TRUE(auth.AuthorizeTable("", Name("a", "b", "c")).ok());
  EXPECT_TRUE(auth.AuthorizeAdmin("").ok());
}

TEST(AuthTest, MissingHeaderIsUnauthenticated) {
  EXPECT_EQ(Make().AuthorizeTable("", Name("main", "default", "t")).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthTest, UnknownTokenIsUnauthenticated) {
  EXPECT_EQ(Make().AuthorizeTable("Bearer nope", Name("main", "default", "t")).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Make().Authenticate("Basic d3JpdGVy").code(), absl::StatusCode::kUnauthenticated);
}

TEST(AuthTest, WildcardPatternCoversItsSchema) {
  Authorizer auth = Make();
  EXPECT_TRUE(auth.AuthorizeTable("Bearer writer", Name("main", "default", "events")).ok());
  EXPECT_TRUE(auth.AuthorizeTable("Bearer writer", Name("cat", "sch", "tbl")).ok());
}

TEST(AuthTest, TokenNotCoveringTableIsPermissionDenied) {
  absl::Status s =
      Make().AuthorizeTable("Bearer writer", Name("main", "other", "events")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("main.other.events"), std::string::npos);
  EXPECT_EQ(Make().AuthorizeTable("Bearer writer", Name("cat", "sch", "tbl2")).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(AuthTest, AdminCoversEverything) {
  Authorizer auth = Make();
  EXPECT_TRUE(auth.AuthorizeTable("Bearer root", Name("x", "y", "z")).ok());
  EXPECT_TRUE(auth.AuthorizeAdmin("Bearer root").ok());
  EXPECT_EQ(auth.AuthorizeAdmin("Bearer writer").code(), absl::StatusCode::kPermissionDenied);
}

TEST(AuthTest, PatternsCompareCaseInsensitively) {
  EXPECT_TRUE(PatternCovers("Main.Default.*", Name("main", "default", "t")));
  EXPECT_FALSE(PatternCovers("main.default.t", Name("main", "default", "u")));
  EXPECT_TRUE(PatternCovers("*.*.*", Name("a", "b", "c")));
}

TEST(AuthTest, ValidatesPatterns) {
  EXPECT_TRUE(ValidateTablePattern("main.default.*").ok());
  EXPECT_TRUE(ValidateTablePattern("*.*.*").ok());
  EXPECT_FALSE(ValidateTablePattern("main.default").ok());
  EXPECT_FALSE(ValidateTablePattern("main.def-ault.*").ok());
  EXPECT_FALSE(ValidateTablePattern("main..t").ok());
}

}  // namespace
}  // namespace nobus::auth
