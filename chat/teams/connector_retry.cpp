#include "chat/teams/connector_retry.hpp"

#include <algorithm>

#include "chat/backoff.hpp"

namespace hostline::chat::teams {

ConnectorVerdict connector_verdict(int status) {
    if (status >= 200 && status < 300) return ConnectorVerdict::delivered;
    switch (status) {
        case 0:
        case 412:
        case 502:
        case 503:
        case 504:
            return ConnectorVerdict::retry;
        case 429:
            return ConnectorVerdict::rate_limited;
        case 401:
            return ConnectorVerdict::refresh_token;
        default:
            return ConnectorVerdict::failed;
    }
}

std::chrono::milliseconds retry_backoff(int failures, std::uint64_t random) {
    auto full = kFirstRetryWait;
    for (int i = 1; i < failures && full < kLongestRetryWait; ++i) full *= 2;
    return jittered(std::min(full, kLongestRetryWait), random);
}

}  // namespace hostline::chat::teams
