// Which failures of a Bot Connector call are worth another try, and how long to wait before
// it. The adapter (teams_adapter.cpp) keeps the queue and the timers; this is the policy alone,
// pure, so its answers can be checked one by one.
//
// The connector answers 412 Precondition Failed while a conversation the bot was just added to
// is still being created, and 502/503/504 while a front end or the service behind it is
// restarting: each is over within seconds, so the call is tried again after a growing,
// jittered wait, a bounded number of times. A 429 is the connector's rate limit: the call is
// sent again once its Retry-After has passed, and that does not count as a try (the connector
// said when). A 401 means the cached token is no longer taken: a new one is fetched, once.
// Anything else (400, 403, 404, ...) will not change by asking again.
//
// Pure functions: any thread.
#pragma once

#include <chrono>
#include <cstdint>

namespace hostline::chat::teams {

enum class ConnectorVerdict {
    delivered,      // 2xx
    rate_limited,   // 429: held for its Retry-After, then sent again
    retry,          // 412, 502, 503, 504, or no reply at all: again after retry_backoff()
    refresh_token,  // 401: again with a new token, once
    failed,         // anything else: reported to the caller as it is
};

// `status` is the HTTP status, or 0 when the call got no reply (connection refused or reset,
// TLS failure, timeout).
ConnectorVerdict connector_verdict(int status);

// Tries of one call in all, for the `retry` verdicts: the first and four more, which with the
// waits below spans about 4 to 8 seconds: enough for a conversation's creation or a front
// end's restart, short enough that a reply that cannot go is reported while it still matters.
constexpr int kMaxConnectorAttempts = 5;
constexpr std::chrono::milliseconds kFirstRetryWait{500};
constexpr std::chrono::milliseconds kLongestRetryWait{30000};

// The wait after the `failures`th failed try (1, 2, ...): kFirstRetryWait doubled for each
// failure before it, at most kLongestRetryWait, then a point in its upper half picked by
// `random` (any 64 random bits), so that calls which failed together do not return together.
std::chrono::milliseconds retry_backoff(int failures, std::uint64_t random);

}  // namespace hostline::chat::teams
