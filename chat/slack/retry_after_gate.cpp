#include "chat/slack/retry_after_gate.hpp"

#include <algorithm>

namespace hostline::chat::slack {

void RetryAfterGate::on_rate_limited(std::string_view method, std::chrono::seconds retry_after,
                                     Clock::time_point now) {
    const auto wait = std::clamp(retry_after, std::chrono::seconds(0), kLongestWait);
    const auto open_at = now + wait;
    const auto it = open_at_.find(method);
    if (it == open_at_.end()) {
        open_at_.emplace(std::string(method), open_at);
    } else {
        it->second = std::max(it->second, open_at);
    }
}

RetryAfterGate::Clock::duration RetryAfterGate::wait_before(std::string_view method,
                                                            Clock::time_point now) const {
    const auto it = open_at_.find(method);
    if (it == open_at_.end() || it->second <= now) return Clock::duration::zero();
    return it->second - now;
}

}  // namespace hostline::chat::slack
