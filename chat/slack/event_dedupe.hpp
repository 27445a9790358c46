// Remembers the ids of recent Slack events so that a redelivered event (Slack retries an
// envelope that was not acked in time, with retry_attempt > 0) runs nothing twice.
//
// Bounded: it holds the last `capacity` distinct ids and forgets the oldest first, so memory
// does not grow with uptime. Slack redelivers within minutes, far fewer than 10,000 events.
// Not thread-safe: owned by the adapter, used on its thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace hostline::chat::slack {

class EventDedupe {
  public:
    static constexpr std::size_t kDefaultCapacity = 10'000;

    // A capacity of 0 counts as 1.
    explicit EventDedupe(std::size_t capacity = kDefaultCapacity);

    // True the first time `event_id` is seen (and remembers it); false for a repeat of an id
    // still remembered. Amortised O(1). An empty id cannot be told apart: always true.
    bool first_time(std::string_view event_id);

    std::size_t size() const { return seen_.size(); }

  private:
    // Constant after construction:
    std::size_t capacity_;
    // The remembered ids, and the order they came in (oldest first) to forget them by.
    std::unordered_set<std::string> seen_;
    std::deque<std::string> arrival_order_;
};

}  // namespace hostline::chat::slack
