#include "controller/scheduler/retry_policy.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace hostline::controller {

std::optional<std::chrono::milliseconds> RetryPolicy::next_after(int attempt,
                                                                 RunState state) const {
    if (attempt < 1 || attempt > retries || retry_on.count(state) == 0) return std::nullopt;
    // backoff, 2 x backoff, 4 x backoff, ...: doubled step by step so it can be capped
    // before it overflows.
    std::chrono::milliseconds wait = backoff;
    for (int i = 1; i < attempt && wait < kMaxBackoff; ++i) wait *= 2;
    return std::min(wait, kMaxBackoff);
}

std::vector<RunState> last_attempt_states(const std::vector<const RunRecord*>& runs) {
    std::map<std::string, std::pair<int, RunState>> last;  // agent -> (attempt, state)
    std::vector<std::string> order;                        // agents in first-run order
    for (const RunRecord* run : runs) {
        auto [it, added] = last.try_emplace(run->agent, run->attempt, run->state);
        if (added)
            order.push_back(run->agent);
        else if (run->attempt >= it->second.first)
            it->second = {run->attempt, run->state};
    }
    std::vector<RunState> states;
    for (const std::string& agent : order) states.push_back(last.at(agent).second);
    return states;
}

}  // namespace hostline::controller
