#include "controller/jobs/job.hpp"

#include <array>
#include <utility>

namespace hostline::controller {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 10> kJobStates{{
    {JobState::pending_approval, "pending_approval"},
    {JobState::queued, "queued"},
    {JobState::running, "running"},
    {JobState::succeeded, "succeeded"},
    {JobState::failed, "failed"},
    {JobState::partial, "partial"},
    {JobState::timed_out, "timed_out"},
    {JobState::cancelled, "cancelled"},
    {JobState::denied, "denied"},
    {JobState::expired, "expired"},
}};

constexpr std::array<std::pair<RunState, std::string_view>, 10> kRunStates{{
    {RunState::queued, "queued"},
    {RunState::dispatched, "dispatched"},
    {RunState::running, "running"},
    {RunState::unknown, "unknown"},
    {RunState::succeeded, "succeeded"},
    {RunState::failed, "failed"},
    {RunState::timed_out, "timed_out"},
    {RunState::cancelled, "cancelled"},
    {RunState::lost, "lost"},
    {RunState::skipped, "skipped"},
}};

template <typename State, std::size_t N>
std::string_view name_of(const std::array<std::pair<State, std::string_view>, N>& table,
                         State state) {
    for (const auto& [s, name] : table)
        if (s == state) return name;
    std::abort();  // every enumerator is in the table
}

template <typename State, std::size_t N>
std::optional<State> state_of(const std::array<std::pair<State, std::string_view>, N>& table,
                              std::string_view text) {
    for (const auto& [s, name] : table)
        if (name == text) return s;
    return std::nullopt;
}

}  // namespace

std::string_view to_string(JobState state) {
    return name_of(kJobStates, state);
}
std::string_view to_string(RunState state) {
    return name_of(kRunStates, state);
}
std::optional<JobState> parse_job_state(std::string_view text) {
    return state_of(kJobStates, text);
}
std::optional<RunState> parse_run_state(std::string_view text) {
    return state_of(kRunStates, text);
}

bool is_final(JobState state) {
    switch (state) {
        case JobState::pending_approval:
        case JobState::queued:
        case JobState::running:
            return false;
        default:
            return true;
    }
}

bool is_final(RunState state) {
    switch (state) {
        case RunState::queued:
        case RunState::dispatched:
        case RunState::running:
        case RunState::unknown:
            return false;
        default:
            return true;
    }
}

bool can_transition(RunState from, RunState to) {
    if (is_final(from) || from == to) return false;
    switch (from) {
        case RunState::queued:
            // Dispatched, or finished without ever reaching the agent.
            return to == RunState::dispatched || to == RunState::skipped ||
                   to == RunState::cancelled || to == RunState::lost || to == RunState::failed;
        case RunState::dispatched:
        case RunState::running:
        case RunState::unknown:
            // A result can overtake the run_ack, and a silent agent can come back.
            return to != RunState::queued && to != RunState::skipped &&
                   !(from == RunState::running && to == RunState::dispatched) &&
                   !(from == RunState::unknown && to == RunState::dispatched);
        default:
            return false;
    }
}

JobState job_state_for(const std::vector<RunState>& runs, bool cancel_requested) {
    std::size_t succeeded = 0, timed_out = 0, started = 0;
    for (RunState r : runs) {
        if (!is_final(r)) return JobState::running;
        if (r == RunState::succeeded) ++succeeded;
        if (r == RunState::timed_out) ++timed_out;
        if (r != RunState::skipped) ++started;
    }
    if (!runs.empty() && succeeded == runs.size()) return JobState::succeeded;
    if (cancel_requested) return JobState::cancelled;
    if (succeeded == 0 && timed_out > 0 && timed_out == started) return JobState::timed_out;
    if (succeeded == 0) return JobState::failed;
    return JobState::partial;
}

bool never_started(const RunRecord& run) {
    return run.state == RunState::skipped && run.error.starts_with(kNotStartedPrefix);
}

}  // namespace hostline::controller
