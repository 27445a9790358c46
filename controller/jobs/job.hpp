// Jobs and runs as values, and their state machines (DESIGN.md, Jobs).
//
// A job is one request; it fans out into one run per matched agent. These types carry no
// behaviour beyond the transition rules, so the scheduler, the store and the HTTP layer
// can all share them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostline::controller {

enum class JobState {
    pending_approval,
    queued,
    running,
    succeeded,
    failed,
    partial,
    timed_out,
    cancelled,
    denied,
    expired,
};

enum class RunState {
    queued,      // waiting for a slot on its agent
    dispatched,  // sent; no run_ack yet
    running,     // the agent accepted it
    unknown,     // its agent went silent; becomes lost after the grace period
    succeeded,
    failed,
    timed_out,
    cancelled,
    lost,
    skipped,  // its agent was offline when the job started
};

std::string_view to_string(JobState state);
std::string_view to_string(RunState state);
std::optional<JobState> parse_job_state(std::string_view text);
std::optional<RunState> parse_run_state(std::string_view text);

bool is_final(JobState state);
bool is_final(RunState state);

// Whether the run state machine allows from -> to. Final states never change.
bool can_transition(RunState from, RunState to);

// The state of a job whose runs are all final: succeeded if all succeeded, cancelled if the
// job was cancelled, timed_out if every non-succeeded run timed out, failed if none
// succeeded, partial if some did. Non-final runs make it `running`.
JobState job_state_for(const std::vector<RunState>& runs, bool cancel_requested);

struct Job {
    std::int64_t id = 0;
    std::string requester;  // identity, e.g. "token:admin", "local:alice"
    std::string source;     // where the request came from: "api", "cli", a chat channel
    std::string target;     // the target expression as written
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
    std::string cwd;
    std::string run_as_user;   // a user name; empty: the agent's own user
    std::string run_as_group;  // a group name; empty: the user's primary group (or, with no
                               // user, the agent's own group)
    std::int64_t timeout_ms = 0;
    std::int64_t output_cap_bytes = 0;  // output stored per run; 0: the controller's default
    // A catalog script run: argv is [interpreter, script path in the catalog, args...].
    std::string script_sha256;  // lowercase hex; empty: not a script
    // The content, stored with the job so that a run re-sent after a controller restart
    // still carries it (the catalog may have changed meanwhile; the hash pins this one).
    // Only the store's snapshot loads it back: job listings and details leave it empty.
    std::string script;
    std::string command;  // the catalog command's name; empty: an ad-hoc run
    // A rollout (docs/scheduling.md, "Batches"). Kept with the job so a restarted controller
    // goes on where the last one stopped.
    std::string batch;               // as asked: "2" or "25%"; empty: no window
    std::int64_t batch_window = 0;   // runs in flight at most, resolved when runs are made
    std::int64_t batch_wait_ms = 0;  // a slot a run freed is free again this much later
    bool fail_fast = false;          // after a run that does not succeed, start no more
    std::int64_t schedule_id = 0;    // the schedule whose firing started it; 0: none
    JobState state = JobState::queued;
    bool cancel_requested = false;
    std::int64_t created_at_ms = 0;
    std::int64_t finished_at_ms = 0;  // 0 while not final
};

struct RunRecord {
    std::int64_t id = 0;
    std::int64_t job_id = 0;
    std::string agent;
    RunState state = RunState::queued;
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::int64_t started_at_ms = 0;
    std::int64_t ended_at_ms = 0;
    std::uint64_t stdout_bytes = 0;  // as the agent counted them
    std::uint64_t stderr_bytes = 0;
    std::uint64_t stored_bytes = 0;  // kept in the store, at most the output cap
    bool truncated = false;          // output beyond the cap was dropped
    std::uint64_t last_seq = 0;      // highest seq stored (output chunks, then the result)
    std::string error;               // why it failed to start, was lost, ...
    // 1, or 1 + the retries before it of the same job on the same agent (retry_policy.hpp).
    // The job's state follows each agent's last attempt.
    int attempt = 1;
    // Not stored: while the run is queued, where it stands among the queued runs it waits
    // behind (1: next); 0 when it is not waiting (scheduler/concurrency.hpp says how it is
    // counted). Only the scheduler fills it in, for runs it holds.
    std::uint32_t queue_position = 0;
};

// The error of a run a rollout never started because fail-fast stopped it:
// "not started: fail-fast after web-3 failed". A run skipped for an offline host says why
// otherwise, so the hosts that never ran can be told from those that were away.
inline constexpr std::string_view kNotStartedPrefix = "not started: ";
bool never_started(const RunRecord& run);

struct OutputChunk {
    std::int64_t run_id = 0;
    std::string agent;
    std::uint64_t seq = 0;
    std::string stream;  // "stdout" | "stderr"
    std::string data;    // the bytes as the process wrote them
    // The same LZ4-compressed, as the agent sent them and the store keeps them; empty when
    // they travelled as they are (common/proto/output_encoding.hpp).
    std::string compressed;
};

// A byte range of one host's stored output. Offsets count the bytes of the host's runs in
// run order (a retried command's attempts each whole), each run's chunks in seq order; of
// stdout or stderr alone, or of both ("combined") as they were stored.
// Where a range read left off: the first chunk it did not take whole, and the offset of that
// chunk's first byte. A reader going through an output piece by piece (a download) resumes
// there instead of counting the host's chunks from the start again for every piece.
struct OutputCursor {
    std::int64_t run_id = 0;
    std::int64_t seq = 0;
    std::int64_t start = 0;
};

struct OutputRange {
    std::string host;
    std::string stream = "combined";  // "stdout" | "stderr" | "combined"
    std::int64_t offset = 0;
    std::int64_t length = 0;
    // The previous slice's `next`, for the range that begins where that one ended (same host
    // and stream, offset = its end). The read then stops at the range's end and leaves
    // OutputSlice::total unknown.
    std::optional<OutputCursor> resume;
};

// What a range read found: the range's bytes (fewer at the end, none past it) and the size
// of the whole output of that host and stream, so a client can page or follow (-1 for a
// resumed read, which does not count to the end).
struct OutputSlice {
    std::int64_t total = 0;
    std::string bytes;
    std::optional<OutputCursor> next;  // where the next range resumes; none: the output ended
};

}  // namespace hostline::controller
