#include "nobus/errors.h"

#include <gtest/gtest.h>

#include "client/status_util.h"

namespace nobus {
namespace {

TEST(ErrorsTest, MarkedStatusIsNonRetriableAndKeepsCodeAndMessage) {
  absl::Status status = MakeNonRetriable(absl::InvalidArgumentError("column 'id': not a number"));
  EXPECT_TRUE(IsNonRetriable(status));
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "column 'id': not a number");
}

TEST(ErrorsTest, UnmarkedStatusIsRetriable) {
  EXPECT_FALSE(IsNonRetriable(absl::UnavailableError("server gone")));
  EXPECT_FALSE(IsNonRetriable(absl::InvalidArgumentError("not marked")));
  EXPECT_FALSE(IsNonRetriable(absl::OkStatus()));
  EXPECT_TRUE(MakeNonRetriable(absl::OkStatus()).ok());
}

TEST(ErrorsTest, CodeTableMatchesTheSpec) {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kOutOfRange,
        absl::StatusCode::kPermissionDenied, absl::StatusCode::kUnimplemented})
    EXPECT_TRUE(IsNonRetriableCode(code)) << absl::StatusCodeToString(code);
  for (absl::StatusCode code :
       {absl::StatusCode::kOk, absl::StatusCode::kUnavailable,
        absl::StatusCode::kResourceExhausted, absl::StatusCode::kAborted,
        absl::StatusCode::kInternal, absl::StatusCode::kDeadlineExceeded,
        absl::StatusCode::kCancelled, absl::StatusCode::kUnknown})
    EXPECT_FALSE(IsNonRetriableCode(code)) << absl::StatusCodeToString(code);
}

TEST(ErrorsTest, PrefixKeepsTheKind) {
  absl::Status status = client::Prefix(MakeNonRetriable(absl::NotFoundError("no table")), "open");
  EXPECT_TRUE(IsNonRetriable(status));
  EXPECT_EQ(status.message(), "open: no table");
  EXPECT_FALSE(IsNonRetriable(client::Prefix(absl::UnavailableError("x"), "open")));
}

}  // namespace
}  // namespace nobus
