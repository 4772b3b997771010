#include "client/retry_policy.h"

#include <gtest/gtest.h>

namespace nobus::client {
namespace {

using std::chrono::milliseconds;

StreamOptions Options(int retries, int64_t backoff_ms, double multiplier = 1.0,
                      int64_t max_ms = 30'000) {
  StreamOptions options;
  options.recovery_retries = retries;
  options.recovery_backoff_ms = backoff_ms;
  options.recovery_backoff_multiplier = multiplier;
  options.recovery_backoff_max_ms = max_ms;
  return options;
}

void ExpectAbout(std::optional<milliseconds> delay, int64_t ms) {
  ASSERT_TRUE(delay.has_value());
  EXPECT_GE(delay->count(), ms * 9 / 10);
  EXPECT_LE(delay->count(), ms * 11 / 10);
}

TEST(RetryPolicyTest, FirstReconnectAfterAnOpenCallIsImmediate) {
  RetryPolicy policy(Options(4, 2000), 1);
  std::optional<milliseconds> delay = policy.OnFailure(/*was_open=*/true);
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(delay->count(), 0);
}

TEST(RetryPolicyTest, FailedAttemptsBackOff) {
  RetryPolicy policy(Options(4, 2000), 1);
  ASSERT_TRUE(policy.OnFailure(true).has_value());
  ExpectAbout(policy.OnFailure(false), 2000);
  ExpectAbout(policy.OnFailure(false), 2000);
}

TEST(RetryPolicyTest, FailureBeforeAnyOpenBacksOffAtOnce) {
  RetryPolicy policy(Options(4, 500), 7);
  ExpectAbout(policy.OnFailure(false), 500);
}

TEST(RetryPolicyTest, MultiplierGrowsUpToTheCap) {
  RetryPolicy policy(Options(10, 100, 2.0, 500), 3);
  ExpectAbout(policy.OnFailure(false), 100);
  ExpectAbout(policy.OnFailure(false), 200);
  ExpectAbout(policy.OnFailure(false), 400);
  ExpectAbout(policy.OnFailure(false), 500);
  ExpectAbout(policy.OnFailure(false), 500);
}

TEST(RetryPolicyTest, GivesUpAfterTheRetries) {
  RetryPolicy policy(Options(2, 10), 1);
  EXPECT_TRUE(policy.OnFailure(false).has_value());
  EXPECT_TRUE(policy.OnFailure(false).has_value());
  EXPECT_FALSE(policy.OnFailure(false).has_value());
  EXPECT_EQ(policy.failures(), 3);
}

TEST(RetryPolicyTest, ProgressStartsANewOutage) {
  RetryPolicy policy(Options(2, 10), 1);
  EXPECT_TRUE(policy.OnFailure(true).has_value());
  EXPECT_TRUE(policy.OnFailure(false).has_value());
  policy.OnProgress();
  std::optional<milliseconds> delay = policy.OnFailure(true);
  ASSERT_TRUE(delay.has_value());
  EXPECT_EQ(delay->count(), 0);
  EXPECT_EQ(policy.failures(), 1);
}

TEST(RetryPolicyTest, RecoveryOffNeverRetries) {
  StreamOptions options = Options(4, 10);
  options.recovery = false;
  RetryPolicy policy(options, 1);
  EXPECT_FALSE(policy.OnFailure(true).has_value());
}

TEST(RetryPolicyTest, ZeroRetriesNeverRetries) {
  RetryPolicy policy(Options(0, 10), 1);
  EXPECT_FALSE(policy.OnFailure(true).has_value());
}

TEST(RetryPolicyTest, SameSeedSameDelays) {
  RetryPolicy a(Options(5, 1000), 42);
  RetryPolicy b(Options(5, 1000), 42);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a.OnFailure(false), b.OnFailure(false));
}

}  // namespace
}  // namespace nobus::client
