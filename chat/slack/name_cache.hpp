// Display names of Slack users and channels (users.info, conversations.info), remembered for a
// while so a busy channel costs one lookup per person, not one per message. Names are for
// messages only; identity is always the id.
//
// Bounded in time (an entry older than the TTL is not returned, so renames show within it) and
// in size (past `capacity`, the entry least recently stored is dropped). Time is passed in,
// never read, so tests use a fake clock. Not thread-safe: owned by the adapter, used on its
// thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hostline::chat::slack {

class NameCache {
  public:
    using Clock = std::chrono::steady_clock;

    // A capacity of 0 counts as 1.
    NameCache(std::size_t capacity, Clock::duration ttl);

    // The name stored for `id` no longer than the TTL before `now`, else nullopt.
    std::optional<std::string> find(std::string_view id, Clock::time_point now) const;
    // Stores (or refreshes) the name of `id` as of `now`.
    void put(std::string_view id, std::string name, Clock::time_point now);

    std::size_t size() const { return entries_.size(); }

  private:
    struct Entry {
        std::string name;
        Clock::time_point stored_at;
        std::list<std::string>::iterator in_order;
    };
    // Constant after construction:
    std::size_t capacity_;
    Clock::duration ttl_;
    // Guarded by the adapter's thread. order_ holds the ids, least recently stored first.
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;
};

}  // namespace hostline::chat::slack
