#include "controller/scheduler/agent_presence.hpp"

namespace hostline::controller {

AgentPresence::AgentPresence(std::string reply) : reply_(std::move(reply)) {}

void AgentPresence::set_reply(std::string reply) {
    std::lock_guard lock(mutex_);
    reply_ = std::move(reply);
}

void AgentPresence::open(const std::string& agent) {
    std::lock_guard lock(mutex_);
    sessions_.try_emplace(agent);
}

void AgentPresence::close(const std::string& agent) {
    std::lock_guard lock(mutex_);
    sessions_.erase(agent);  // a name left in heard_ is skipped by take_heard()
}

std::vector<std::pair<std::string, AgentPresence::Clock::time_point>> AgentPresence::take_heard() {
    std::vector<std::string> names;
    std::vector<std::pair<std::string, Clock::time_point>> heard;
    std::lock_guard lock(mutex_);
    names.swap(heard_);
    heard.reserve(names.size());
    for (std::string& name : names) {
        auto it = sessions_.find(name);
        if (it == sessions_.end() || !it->second) continue;
        heard.emplace_back(std::move(name), *it->second);
        it->second.reset();
    }
    return heard;
}

std::optional<std::string> AgentPresence::answer(const std::string& agent, Clock::time_point at) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(agent);
    if (it == sessions_.end()) return std::nullopt;
    if (!it->second) heard_.push_back(agent);
    it->second = at;
    return reply_;
}

}  // namespace hostline::controller
