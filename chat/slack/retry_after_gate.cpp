#include "chat/slack/retry_after_gate.hpp"

#include <algorithm>
#include <charconv>

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

Result<std::chrono::seconds> parse_retry_after(std::string_view header) {
    while (!header.empty() && (header.front() == ' ' || header.front() == '\t')) {
        header.remove_prefix(1);
    }
    while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) {
        header.remove_suffix(1);
    }
    if (header.empty()) return fail("Retry-After is empty");
    if (header.size() > 9) return fail("Retry-After is too large");
    std::int64_t seconds = 0;
    const auto* end = header.data() + header.size();
    const auto [ptr, ec] = std::from_chars(header.data(), end, seconds);
    if (ec != std::errc() || ptr != end || seconds < 0) {
        return fail("Retry-After is not a number of seconds");
    }
    return std::chrono::seconds(seconds);
}

}  // namespace hostline::chat::slack
