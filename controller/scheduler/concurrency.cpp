#include "controller/scheduler/concurrency.hpp"

#include <utility>

namespace hostline::controller {

Concurrency::Concurrency(std::uint32_t max_running_runs) : max_running_(max_running_runs) {}

void Concurrency::hold(std::int64_t run_id, const std::string& command) {
    if (held_.emplace(run_id, command).second) ++per_command_[command];
}

bool Concurrency::release(std::int64_t run_id) {
    auto it = held_.find(run_id);
    if (it == held_.end()) return false;
    auto count = per_command_.find(it->second);
    if (--count->second == 0) per_command_.erase(count);
    held_.erase(it);
    return true;
}

std::size_t Concurrency::running(const std::string& command) const {
    auto it = per_command_.find(command);
    return it == per_command_.end() ? 0 : it->second;
}

Concurrency::Verdict Concurrency::may_start(std::size_t agent_active, std::uint32_t capacity,
                                            const std::string& command, int command_limit) const {
    if (max_running_ > 0 && held_.size() >= max_running_) return Verdict::fleet_full;
    if (agent_active >= capacity) return Verdict::agent_full;
    if (command_limit > 0 && running(command) >= static_cast<std::size_t>(command_limit))
        return Verdict::command_full;
    return Verdict::start;
}

std::map<std::int64_t, std::uint32_t> queue_positions(const std::vector<QueuedRun>& oldest_first,
                                                      bool fleet_capped) {
    std::map<std::int64_t, std::uint32_t> positions;
    std::uint32_t before = 0;
    std::map<std::string, std::uint32_t> on_agent, of_command;
    std::map<std::pair<std::string, std::string>, std::uint32_t> both;  // counted twice above
    for (const QueuedRun& run : oldest_first) {
        std::uint32_t ahead = on_agent[run.agent];
        if (run.command_capped) {
            std::uint32_t& shared = both[{run.agent, run.command}];
            ahead += of_command[run.command] - shared;
            ++of_command[run.command];
            ++shared;
        }
        positions[run.run_id] = 1 + (fleet_capped ? before : ahead);
        ++on_agent[run.agent];
        ++before;
    }
    return positions;
}

std::string busy_message(const std::string& command, std::int64_t running_job, int limit) {
    std::string allows = limit == 1 ? "one" : std::to_string(limit);
    return command + " is already running (job #" + std::to_string(running_job) + "); it allows " +
           allows + " at a time";
}

}  // namespace hostline::controller
