#include "chat/irc/token_bucket.hpp"

#include <gtest/gtest.h>

namespace hostline::chat::irc {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

const Clock::time_point kStart = Clock::time_point{} + 1000h;

TEST(TokenBucket, BucketAllowsBurstThenRate) {
    TokenBucket bucket(1.0, 4.0);
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.try_take(kStart)) << i;
    EXPECT_FALSE(bucket.try_take(kStart));
    EXPECT_EQ(bucket.wait_for_next(kStart), 1s);
    EXPECT_FALSE(bucket.try_take(kStart + 999ms));
    EXPECT_EQ(bucket.wait_for_next(kStart + 999ms), 1ms);
    EXPECT_TRUE(bucket.try_take(kStart + 1s));
    EXPECT_FALSE(bucket.try_take(kStart + 1s));
    EXPECT_TRUE(bucket.try_take(kStart + 2s));
    EXPECT_FALSE(bucket.try_take(kStart + 2500ms));
    EXPECT_TRUE(bucket.try_take(kStart + 3s));
}

TEST(TokenBucket, RefillsToTheBurstAndNoMore) {
    TokenBucket bucket(2.0, 3.0);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(kStart));
    EXPECT_FALSE(bucket.try_take(kStart));
    // A long idle period refills only up to the burst.
    const auto later = kStart + 1h;
    EXPECT_EQ(bucket.wait_for_next(later), Clock::duration::zero());
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.try_take(later)) << i;
    EXPECT_FALSE(bucket.try_take(later));
    EXPECT_EQ(bucket.wait_for_next(later), 500ms);
}

TEST(TokenBucket, SendingAtTheAnnouncedTimeAlwaysSucceeds) {
    TokenBucket bucket(3.0, 2.0);  // 1/3 s does not divide into nanoseconds evenly
    auto now = kStart;
    int sent = 0;
    while (now < kStart + 10s) {
        if (bucket.try_take(now)) {
            ++sent;
            continue;
        }
        const auto wait = bucket.wait_for_next(now);
        ASSERT_GT(wait, Clock::duration::zero());
        now += wait;
        ASSERT_TRUE(bucket.try_take(now));
        ++sent;
    }
    // Burst of 2, then 3 per second for 10 s, never more.
    EXPECT_GE(sent, 31);
    EXPECT_LE(sent, 32);
}

TEST(TokenBucket, BurstBelowOneStillSendsOneAtATime) {
    TokenBucket bucket(1.0, 0.0);
    EXPECT_TRUE(bucket.try_take(kStart));
    EXPECT_FALSE(bucket.try_take(kStart + 500ms));
    EXPECT_TRUE(bucket.try_take(kStart + 1s));
}

}  // namespace
}  // namespace hostline::chat::irc
