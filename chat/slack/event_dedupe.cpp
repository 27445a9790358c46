#include "chat/slack/event_dedupe.hpp"

#include <algorithm>

namespace hostline::chat::slack {

EventDedupe::EventDedupe(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {
    seen_.reserve(capacity_ + 1);
}

bool EventDedupe::first_time(std::string_view event_id) {
    if (event_id.empty()) return true;
    const auto [it, inserted] = seen_.emplace(event_id);
    if (!inserted) return false;
    arrival_order_.push_back(*it);
    if (arrival_order_.size() > capacity_) {
        seen_.erase(arrival_order_.front());
        arrival_order_.pop_front();
    }
    return true;
}

}  // namespace hostline::chat::slack
