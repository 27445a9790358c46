#include "chat/teams/connector_retry.hpp"

#include <algorithm>

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
    full = std::min(full, kLongestRetryWait);
    const auto half = full.count() / 2;
    const auto span = static_cast<std::uint64_t>(full.count() - half + 1);
    return std::chrono::milliseconds(half + static_cast<std::int64_t>(random % span));
}

}  // namespace hostline::chat::teams
