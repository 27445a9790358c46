// A cap on how often one source may write the same kind of warning: a peer that sends a
// million bad frames must not write a million log lines.
//
// Per key (e.g. "agent evil-01"), the first `burst` events of each interval are admitted and
// the caller logs them; the rest are only counted, and once the interval has ended expire()
// hands back one summary per key that had events held back, for one line such as "agent
// evil-01: 12345 more malformed messages dropped in the last 10 s". At most `max_keys` keys
// are tracked at once; events of further keys share the key kOtherKeys, so a crowd of sources
// (e.g. fresh CURVE keys) cannot make it grow without bound.
//
// Not thread-safe: it belongs to one thread (the agent transport's). The time is the caller's,
// so that tests need no clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostline::log {

class LogThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    struct Options {
        std::size_t burst = 20;  // events logged per key and interval
        Clock::duration interval = std::chrono::seconds(10);
        std::size_t max_keys = 1024;
    };

    // Events of one key that were counted and not logged in an interval that has ended.
    struct Summary {
        std::string key;
        std::uint64_t suppressed = 0;
        Clock::duration interval{};  // how long the interval really lasted
    };

    static constexpr std::string_view kOtherKeys = "other peers";

    explicit LogThrottle(Options options);

    // Whether this event of key should be logged; if not, it is counted for the summary.
    bool admit(std::string_view key, Clock::time_point now);

    // The summaries of every interval that has ended by now; forgets those keys, so their next
    // event starts a new interval with a new burst.
    std::vector<Summary> expire(Clock::time_point now);

    // When the next summary is due, if any event is held back; the owner wakes up for it.
    std::optional<Clock::time_point> next_summary() const;

  private:
    struct Window {
        Clock::time_point start;
        std::size_t admitted = 0;
        std::uint64_t suppressed = 0;
    };

    // Constant after construction.
    const Options options_;

    std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace hostline::log
