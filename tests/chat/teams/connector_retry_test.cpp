// Which connector answers are tried again, and how long the wait before each try is.
#include "chat/teams/connector_retry.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace hostline::chat::teams {
namespace {

using namespace std::chrono_literals;

TEST(ConnectorRetry, PassingFailuresAreTriedAgainAndLastingOnesAreNot) {
    EXPECT_EQ(connector_verdict(200), ConnectorVerdict::delivered);
    EXPECT_EQ(connector_verdict(201), ConnectorVerdict::delivered);
    for (int status : {0, 412, 502, 503, 504})
        EXPECT_EQ(connector_verdict(status), ConnectorVerdict::retry) << status;
    EXPECT_EQ(connector_verdict(429), ConnectorVerdict::rate_limited);
    EXPECT_EQ(connector_verdict(401), ConnectorVerdict::refresh_token);
    for (int status : {301, 400, 403, 404, 405, 409, 413, 500, 501})
        EXPECT_EQ(connector_verdict(status), ConnectorVerdict::failed) << status;
}

TEST(ConnectorRetry, TheWaitDoublesWithEachFailureAndIsJitteredInItsUpperHalf) {
    constexpr auto kAnyBits = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(retry_backoff(1, 0), 250ms);
    EXPECT_EQ(retry_backoff(1, 250), 500ms);  // the span is [half, full], both ends included
    EXPECT_EQ(retry_backoff(2, 0), 500ms);
    EXPECT_EQ(retry_backoff(4, 0), 2000ms);
    for (std::uint64_t bits : {std::uint64_t{0}, std::uint64_t{12345}, kAnyBits}) {
        for (int failures = 1; failures <= 4; ++failures) {
            const auto full = kFirstRetryWait * (1 << (failures - 1));
            EXPECT_GE(retry_backoff(failures, bits), full / 2) << failures;
            EXPECT_LE(retry_backoff(failures, bits), full) << failures;
        }
    }
    // Different bits, different waits: calls that failed together spread out.
    EXPECT_NE(retry_backoff(3, 1), retry_backoff(3, 700));
}

TEST(ConnectorRetry, TheWaitStopsGrowingAtTheLongest) {
    EXPECT_EQ(retry_backoff(7, 0), kLongestRetryWait / 2);
    EXPECT_LE(retry_backoff(1000, std::numeric_limits<std::uint64_t>::max()), kLongestRetryWait);
    EXPECT_GE(retry_backoff(1000, 0), kLongestRetryWait / 2);
}

}  // namespace
}  // namespace hostline::chat::teams
