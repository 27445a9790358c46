#include "chat/slack/edit_throttle.hpp"

namespace hostline::chat::slack {

EditThrottle::EditThrottle(Clock::duration interval) : interval_(interval) {}

std::optional<std::string> EditThrottle::offer(const PostedMessage& message, std::string text,
                                               Clock::time_point now) {
    Key key{message.channel, message.message_id};
    const auto it = messages_.find(key);
    if (it == messages_.end()) forget_quiet(now);
    if (it == messages_.end() || now - it->second.last_sent >= interval_) {
        // Nothing pending can exist past the interval unless take_due was late; this text
        // supersedes it either way.
        messages_[std::move(key)] = State{now, std::nullopt};
        return text;
    }
    it->second.pending = std::move(text);
    return std::nullopt;
}

void EditThrottle::forget_quiet(Clock::time_point now) {
    std::erase_if(messages_, [&](const auto& entry) {
        return !entry.second.pending && now - entry.second.last_sent >= interval_;
    });
}

std::vector<EditThrottle::Edit> EditThrottle::take_due(Clock::time_point now) {
    std::vector<Edit> due;
    for (auto it = messages_.begin(); it != messages_.end();) {
        State& state = it->second;
        const bool interval_over = now - state.last_sent >= interval_;
        if (interval_over && state.pending) {
            due.push_back(
                Edit{PostedMessage{it->first.first, it->first.second}, std::move(*state.pending)});
            state.pending.reset();
            state.last_sent = now;
            ++it;
        } else if (interval_over) {
            it = messages_.erase(it);
        } else {
            ++it;
        }
    }
    return due;
}

std::optional<EditThrottle::Clock::time_point> EditThrottle::next_due() const {
    std::optional<Clock::time_point> earliest;
    for (const auto& [key, state] : messages_) {
        if (!state.pending) continue;
        const auto at = state.last_sent + interval_;
        if (!earliest || at < *earliest) earliest = at;
    }
    return earliest;
}

}  // namespace hostline::chat::slack
