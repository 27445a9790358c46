#include "common/log/log_throttle.hpp"

namespace hostline::log {

LogThrottle::LogThrottle(Options options) : options_(options) {}

bool LogThrottle::admit(std::string_view key, Clock::time_point now) {
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        if (windows_.size() >= options_.max_keys) {
            key = kOtherKeys;
            it = windows_.find(key);
        }
        if (it == windows_.end()) it = windows_.emplace(std::string(key), Window{now}).first;
    }
    Window& window = it->second;
    // An ended interval with nothing held back starts over here; one with events held back
    // keeps counting until expire() has reported it, so no count is lost.
    if (now - window.start >= options_.interval && window.suppressed == 0) window = Window{now};
    if (window.admitted < options_.burst) {
        ++window.admitted;
        return true;
    }
    ++window.suppressed;
    return false;
}

std::vector<LogThrottle::Summary> LogThrottle::expire(Clock::time_point now) {
    std::vector<Summary> summaries;
    for (auto it = windows_.begin(); it != windows_.end();) {
        const Window& window = it->second;
        if (now - window.start < options_.interval) {
            ++it;
            continue;
        }
        if (window.suppressed > 0)
            summaries.push_back({it->first, window.suppressed, now - window.start});
        it = windows_.erase(it);
    }
    return summaries;
}

std::optional<LogThrottle::Clock::time_point> LogThrottle::next_summary() const {
    std::optional<Clock::time_point> next;
    for (const auto& [key, window] : windows_)
        if (window.suppressed > 0 && (!next || window.start + options_.interval < *next))
            next = window.start + options_.interval;
    return next;
}

}  // namespace hostline::log
