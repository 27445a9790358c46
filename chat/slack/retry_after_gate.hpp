// Honours Slack's 429 answers: after "HTTP 429, Retry-After: N" for a method, nothing more is
// sent to that method before N seconds have passed.
//
// Per method, because Slack counts its limits per method per workspace per app ("Rate limits"
// page; the tiers of ../shared/chat-platforms.md §1.2), and one adapter is one app in one
// workspace: a 429 on chat.update says nothing about chat.postMessage or reactions.add, and
// holding those back too would stall progress for no reason. (chat.postMessage's extra
// per-channel limit is also answered by a 429 on chat.postMessage, so it holds that method.)
//
// Time is passed in, never read, so tests use a fake clock. Not thread-safe: owned by the
// adapter, used on its thread only. The header itself is read by chat/net/retry_after.hpp,
// which the Teams adapter shares.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace hostline::chat::slack {

class RetryAfterGate {
  public:
    using Clock = std::chrono::steady_clock;

    // Slack's Retry-After is whole seconds; longer than this is treated as this, so a broken
    // header cannot silence the bot for days.
    static constexpr std::chrono::seconds kLongestWait{15 * 60};

    // A 429 for `method` at `now` said to wait `retry_after`. A later 429 can only lengthen
    // the wait, never shorten one already in force.
    void on_rate_limited(std::string_view method, std::chrono::seconds retry_after,
                         Clock::time_point now);

    // How long after `now` before a request to `method` may be sent; zero when it may be now.
    Clock::duration wait_before(std::string_view method, Clock::time_point now) const;

  private:
    // Guarded by the adapter's thread. One entry per method that has been limited; only the
    // handful of methods the adapter calls ever appear, so it needs no bound.
    std::map<std::string, Clock::time_point, std::less<>> open_at_;
};

}  // namespace hostline::chat::slack
