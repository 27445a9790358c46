// Retries of a catalog command's runs (its `retries`, `retry_on` and `retry_backoff` keys):
// when a run ends in a state the command retries, the same job runs again on the same agent
// after a wait that doubles with each attempt. Each attempt is a run of its own, so history
// keeps every one; the job's state follows each agent's last attempt.
//
// Plain values and pure functions: any thread may use them.
#pragma once

#include <chrono>
#include <optional>
#include <set>
#include <vector>

#include "controller/jobs/job.hpp"

namespace hostline::controller {

struct RetryPolicy {
    static constexpr int kMaxRetries = 10;
    // The longest wait between two attempts, however many came before.
    static constexpr std::chrono::milliseconds kMaxBackoff{std::chrono::hours{1}};

    int retries = 0;  // attempts after the first; 0: never retried
    // The final run states that earn another attempt. Cancelled and skipped runs never do.
    std::set<RunState> retry_on{RunState::lost, RunState::timed_out, RunState::failed};
    std::chrono::milliseconds backoff{std::chrono::seconds{10}};  // before attempt 2

    // The wait before the next attempt when attempt `attempt` (1-based) ended in `state`, or
    // nothing when it is not retried: a state not in retry_on, or no retries left.
    std::optional<std::chrono::milliseconds> next_after(int attempt, RunState state) const;
};

// The states that decide a job: each agent's last attempt (runs in creation order), so a host
// that failed once and then succeeded counts as succeeded.
std::vector<RunState> last_attempt_states(const std::vector<const RunRecord*>& runs);

}  // namespace hostline::controller
