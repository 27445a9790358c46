#include "chat/slack/name_cache.hpp"

#include <algorithm>

namespace hostline::chat::slack {

NameCache::NameCache(std::size_t capacity, Clock::duration ttl)
    : capacity_(std::max<std::size_t>(capacity, 1)), ttl_(ttl) {}

std::optional<std::string> NameCache::find(std::string_view id, Clock::time_point now) const {
    const auto it = entries_.find(std::string(id));
    if (it == entries_.end() || now - it->second.stored_at > ttl_) return std::nullopt;
    return it->second.name;
}

void NameCache::put(std::string_view id, std::string name, Clock::time_point now) {
    std::string key(id);
    if (const auto it = entries_.find(key); it != entries_.end()) {
        order_.erase(it->second.in_order);
        entries_.erase(it);
    }
    order_.push_back(key);
    entries_.emplace(std::move(key), Entry{std::move(name), now, std::prev(order_.end())});
    if (entries_.size() > capacity_) {
        entries_.erase(order_.front());
        order_.pop_front();
    }
}

}  // namespace hostline::chat::slack
