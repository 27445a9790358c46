// What a chat report says about runs that wait on the controller or were retried
// (docs/scheduling.md): pure text from the runs a report has seen, for chat_service.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/jobs/job.hpp"

namespace hostline::controller {

// The queued runs, oldest first: "web-1 queued, position 3; web-2 retrying (attempt 2)", at
// most three named and "+N more queued" after them; empty when none waits.
std::string queue_note(const std::map<std::int64_t, RunRecord>& runs);

// Each agent's last attempt, in run order: what a job's summary counts, since the job's state
// follows them (an agent that failed once and then succeeded counts once, as succeeded).
std::vector<const RunRecord*> last_attempts(const std::map<std::int64_t, RunRecord>& runs);

}  // namespace hostline::controller
