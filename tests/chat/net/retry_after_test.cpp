// Retry-After as RFC 9110 writes it, with known answers: the instants below are checked against
// `date -u -d ... +%s`.
#include "chat/net/retry_after.hpp"

#include <gtest/gtest.h>

namespace hostline::chat::net {
namespace {

using namespace std::chrono_literals;
using std::chrono::seconds;
using SystemClock = std::chrono::system_clock;

// 1994-11-06T08:49:37Z, RFC 9110's own example date.
const SystemClock::time_point kRfcExample{seconds(784111777)};

TEST(RetryAfter, DelaySecondsAreReadAsTheyAre) {
    EXPECT_EQ(*parse_retry_after("120", kRfcExample), 120s);
    EXPECT_EQ(*parse_retry_after("0", kRfcExample), 0s);
    EXPECT_EQ(*parse_retry_after(" \t30 ", kRfcExample), 30s);  // OWS around a field value
}

TEST(RetryAfter, AnImfFixdateIsTheTimeFromNowUntilIt) {
    EXPECT_EQ(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 37s), 37s);
    // MDN's example, 1445412480.
    EXPECT_EQ(*parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT",
                                 SystemClock::time_point(seconds(1445412480 - 90))),
              90s);
    // Across a leap day and a month's end: 2024-02-29T23:59:59Z is 1709251199.
    EXPECT_EQ(*parse_retry_after("Thu, 29 Feb 2024 23:59:59 GMT",
                                 SystemClock::time_point(seconds(1709251199 - 3600))),
              3600s);
}

TEST(RetryAfter, TheObsoleteDateFormsAreReadToo) {
    EXPECT_EQ(*parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", kRfcExample - 37s), 37s);
    EXPECT_EQ(*parse_retry_after("Sun Nov  6 08:49:37 1994", kRfcExample - 37s), 37s);
    EXPECT_EQ(*parse_retry_after("Wed Nov 16 08:49:37 1994", kRfcExample - 37s), 37s + 10 * 24h);
}

TEST(RetryAfter, ATwoDigitYearMoreThanFiftyYearsAheadIsThePast) {
    const SystemClock::time_point new_year_2026{seconds(1767225600)};
    // "30" is 2030 (four years ahead), 1893456000.
    EXPECT_EQ(*parse_retry_after("Tuesday, 01-Jan-30 00:00:00 GMT", new_year_2026),
              seconds(1893456000 - 1767225600));
    // "99" would be 2099, more than 50 years ahead: it is 1999, past, so no wait.
    EXPECT_EQ(*parse_retry_after("Friday, 01-Jan-99 00:00:00 GMT", new_year_2026), 0s);
}

TEST(RetryAfter, ADateIsRoundedUpSoNothingIsSentBeforeIt) {
    EXPECT_EQ(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 10500ms), 11s);
    EXPECT_EQ(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 1ms), 1s);
}

TEST(RetryAfter, ADateAlreadyPastMeansNow) {
    EXPECT_EQ(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample), 0s);
    EXPECT_EQ(*parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample + 24h), 0s);
}

TEST(RetryAfter, GarbageIsAnErrorAndTheWaitFallsBackToTheDefault) {
    for (const char* bad : {"", "  ", "soon", "-1", "+5", "1.5", "0x10", "12 s",
                            "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
                            "Sun, 06 Nov 1994 08:49 GMT", "Sun 06 Nov 1994 08:49:37 GMT",
                            "Fri, 31 Feb 2025 10:00:00 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                            "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 GMT x"}) {
        EXPECT_FALSE(parse_retry_after(bad, kRfcExample)) << bad;
        EXPECT_EQ(retry_after_wait(bad, kRfcExample, {.fallback = 7s, .longest = 300s}), 7s) << bad;
    }
}

TEST(RetryAfter, TheWaitIsCapped) {
    const RetryAfterBounds bounds{.fallback = 1s, .longest = 300s};
    EXPECT_EQ(retry_after_wait("120", kRfcExample, bounds), 120s);
    EXPECT_EQ(retry_after_wait("301", kRfcExample, bounds), 300s);
    EXPECT_EQ(retry_after_wait("99999999999999999999999", kRfcExample, bounds), 300s);
    EXPECT_EQ(retry_after_wait("Fri, 31 Dec 9999 23:59:59 GMT", kRfcExample, bounds), 300s);
    EXPECT_EQ(retry_after_wait("Sun, 06 Nov 1994 08:49:37 GMT", kRfcExample - 5s, bounds), 5s);
    // The default cap is a quarter of an hour.
    EXPECT_EQ(retry_after_wait("86400", kRfcExample), 15min);
}

}  // namespace
}  // namespace hostline::chat::net
