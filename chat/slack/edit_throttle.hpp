// Live progress edits one message many times a second; Slack allows chat.update about once per
// second per message before it answers 429. The throttle lets the first edit of a message go at
// once and holds later ones until its interval has passed since the last sent, keeping only the
// latest text (an intermediate progress line that nobody saw is not worth a request). The last
// text offered is always sent in the end: none is lost.
//
// Use: offer() each edit; send what it returns at once; arm a timer for next_due() and send what
// take_due() returns when it fires. Time is passed in, never read, so tests use a fake clock.
// Not thread-safe: owned by the adapter, used on its thread only.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat/adapter.hpp"

namespace hostline::chat::slack {

class EditThrottle {
  public:
    using Clock = std::chrono::steady_clock;

    struct Edit {
        PostedMessage message;
        std::string text;
    };

    explicit EditThrottle(Clock::duration interval = std::chrono::seconds(1));

    // The text to send now for `message`, or nullopt when it must wait; it is then kept as
    // the message's pending text, replacing any earlier pending one.
    std::optional<std::string> offer(const PostedMessage& message, std::string text,
                                     Clock::time_point now);

    // The pending edits whose interval has passed at `now`, to send now (each counts as sent
    // at `now`). Also forgets messages that have been quiet for an interval, so the throttle
    // holds only messages being edited.
    std::vector<Edit> take_due(Clock::time_point now);

    // When the earliest pending edit becomes due; nullopt when nothing is pending.
    std::optional<Clock::time_point> next_due() const;

    // Messages with a pending edit or an interval still running.
    std::size_t tracked() const { return messages_.size(); }

  private:
    struct State {
        Clock::time_point last_sent;
        std::optional<std::string> pending;
    };
    using Key = std::pair<std::string, std::string>;  // channel, message id

    // Drops messages with nothing pending whose interval is over: they need no state, and
    // without this a message edited once would be remembered until the next take_due.
    void forget_quiet(Clock::time_point now);

    // Constant after construction:
    Clock::duration interval_;
    // Guarded by the adapter's thread:
    std::map<Key, State> messages_;
};

}  // namespace hostline::chat::slack
