#include "common/log/log_throttle.hpp"

#include <gtest/gtest.h>

namespace hostline::log {
namespace {

using namespace std::chrono_literals;
using Clock = LogThrottle::Clock;

TEST(LogThrottle, AdmitsTheFirstFewOfAnIntervalAndSumsUpTheRest) {
    LogThrottle throttle({.burst = 3, .interval = 10s, .max_keys = 16});
    const Clock::time_point t0{};
    int logged = 0;
    for (int i = 0; i < 1'000'000; ++i)
        if (throttle.admit("agent evil-01", t0 + std::chrono::microseconds(i))) ++logged;
    EXPECT_EQ(logged, 3);
    EXPECT_TRUE(throttle.expire(t0 + 9s).empty()) << "the interval has not ended";
    ASSERT_EQ(throttle.next_summary(), t0 + 10s);

    auto summaries = throttle.expire(t0 + 10s);
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_EQ(summaries[0].key, "agent evil-01");
    EXPECT_EQ(summaries[0].suppressed, 999'997u);
    EXPECT_EQ(summaries[0].interval, 10s);
    EXPECT_FALSE(throttle.next_summary().has_value());

    // A new interval, a new burst.
    EXPECT_TRUE(throttle.admit("agent evil-01", t0 + 11s));
}

TEST(LogThrottle, KeysAreThrottledApart) {
    LogThrottle throttle({.burst = 1, .interval = 10s, .max_keys = 16});
    const Clock::time_point t0{};
    EXPECT_TRUE(throttle.admit("agent evil-01", t0));
    EXPECT_FALSE(throttle.admit("agent evil-01", t0));
    EXPECT_TRUE(throttle.admit("agent good-01", t0)) << "one noisy peer does not silence another";
    auto summaries = throttle.expire(t0 + 10s);
    ASSERT_EQ(summaries.size(), 1u) << "nothing of good-01 was held back";
    EXPECT_EQ(summaries[0].key, "agent evil-01");
}

TEST(LogThrottle, AQuietSourceGetsNoSummary) {
    LogThrottle throttle({.burst = 5, .interval = 10s, .max_keys = 16});
    const Clock::time_point t0{};
    for (int i = 0; i < 5; ++i) EXPECT_TRUE(throttle.admit("agent good-01", t0));
    EXPECT_FALSE(throttle.next_summary().has_value());
    EXPECT_TRUE(throttle.expire(t0 + 1h).empty());
}

TEST(LogThrottle, ACountHeldBackIsReportedEvenIfTheSourceGoesOnAfterTheInterval) {
    LogThrottle throttle({.burst = 1, .interval = 10s, .max_keys = 16});
    const Clock::time_point t0{};
    EXPECT_TRUE(throttle.admit("k", t0));
    EXPECT_FALSE(throttle.admit("k", t0 + 1s));
    // The interval ended, but expire() has not run yet: the event joins the pending count.
    EXPECT_FALSE(throttle.admit("k", t0 + 12s));
    auto summaries = throttle.expire(t0 + 12s);
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_EQ(summaries[0].suppressed, 2u);
    EXPECT_EQ(summaries[0].interval, 12s);
}

TEST(LogThrottle, ACrowdOfSourcesSharesOneKeyBeyondTheLimit) {
    LogThrottle throttle({.burst = 1, .interval = 10s, .max_keys = 4});
    const Clock::time_point t0{};
    int logged = 0;
    for (int i = 0; i < 100'000; ++i)
        if (throttle.admit("key " + std::to_string(i), t0)) ++logged;
    EXPECT_EQ(logged, 5) << "four keys of their own and one for all the others";
    auto summaries = throttle.expire(t0 + 10s);
    ASSERT_EQ(summaries.size(), 1u);
    EXPECT_EQ(summaries[0].key, LogThrottle::kOtherKeys);
    EXPECT_EQ(summaries[0].suppressed, 100'000u - 5u);
}

}  // namespace
}  // namespace hostline::log
