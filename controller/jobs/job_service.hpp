// What the HTTP API (and later chat) asks of the controller: the scheduler's facade.
//
// All methods are called on the controller's io_context thread, and every callback is
// invoked on that thread too. Reads that need the database complete asynchronously.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/batch_size.hpp"
#include "common/error.hpp"
#include "controller/jobs/job.hpp"

namespace hostline::controller {

struct AgentInfo {
    std::string name;
    bool online = false;
    std::string hostname;
    std::string version;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> facts;
    std::uint32_t capacity = 0;
    std::uint32_t running = 0;
    std::int64_t last_seen_ms = 0;  // 0: never
    // Drained by an admin: gets no new runs (new jobs skip it), its queued runs wait, its
    // running ones finish. Held in memory only: a restarted controller forgets it.
    bool draining = false;
};

struct SubmitRequest {
    std::string requester;
    std::string source;
    std::string target;
    std::vector<std::string> argv;
    std::optional<std::int64_t> timeout_ms;  // empty: the controller's default
    std::map<std::string, std::string> env;
    std::string cwd;
    std::string run_as_user;   // empty: the agent's own user
    std::string run_as_group;  // empty: the user's primary group
    // A catalog script (never from HTTP clients): argv is [interpreter, script, args...].
    std::string script;                            // the content; empty: none
    std::string script_sha256;                     // lowercase hex of script
    std::optional<std::int64_t> output_cap_bytes;  // stored per run; empty: the controller's
    std::string command;  // the catalog command's name (never from HTTP clients); empty: ad-hoc
    // A rollout (docs/scheduling.md, "Batches"): at most `batch` runs in flight at once; a slot
    // a run freed is free again batch_wait later (needs batch); with fail_fast, no run starts
    // after one that did not succeed.
    std::optional<BatchSize> batch;
    std::chrono::milliseconds batch_wait{0};
    bool fail_fast = false;
    std::int64_t schedule_id = 0;  // the schedule firing it (never from HTTP clients); 0: none
};

struct SubmitReply {
    std::int64_t job_id = 0;
    std::vector<std::string> matched;  // online agents a run was created for
    std::vector<std::string> offline;  // matched but offline: their runs are skipped
};

struct JobQuery {
    std::vector<JobState> states;  // only jobs in one of these states; empty: any
    std::string agent;             // only jobs with a run on this agent
    std::string requester;         // only jobs this identity asked for
    // Only jobs of this catalog command, or ad-hoc jobs whose argv[0] is this.
    std::string command;
    std::int64_t since_ms = 0;   // only jobs created at or after this time; 0: no bound
    std::int64_t until_ms = 0;   // only jobs created before this time; 0: no bound
    std::int64_t before_id = 0;  // paging: ids below this; 0 = newest
    int limit = 50;
};

struct JobDetail {
    Job job;
    std::vector<RunRecord> runs;
};

// One thing that happened to a job, streamed live to subscribers.
struct JobEvent {
    struct RunChanged {
        RunRecord run;
    };
    struct OutputAdded {
        OutputChunk chunk;
    };
    struct JobChanged {
        Job job;  // when job.state is final this is the last event
    };
    std::variant<RunChanged, OutputAdded, JobChanged> what;
};

template <typename T>
using Callback = std::function<void(Result<T>)>;

class JobService {
  public:
    virtual ~JobService() = default;

    // Resolves the target and creates the job and its runs. Errors: bad target expression,
    // no agent matched, empty argv, a user or group that is not a valid name or id.
    virtual Result<SubmitReply> submit(const SubmitRequest& request) = 0;

    // Cancels every run of the job that is not final. Error: unknown or finished job.
    virtual Result<void> cancel(std::int64_t job_id) = 0;

    virtual std::vector<AgentInfo> agents() const = 0;
    // Drains (or undrains) the agent: see AgentInfo::draining. Undraining sends its queued
    // runs. Recorded in the audit trail as actor's. Error: no agent of that name.
    virtual Result<AgentInfo> set_draining(const std::string& name, bool draining,
                                           const std::string& actor) = 0;

    virtual void list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) = 0;
    virtual void job(std::int64_t job_id, Callback<JobDetail> done) = 0;
    // Who asked for a job that is still going, from memory (no read); nothing for one that
    // finished or never was (job() says which).
    virtual std::optional<std::string> active_requester(std::int64_t job_id) const = 0;
    virtual void output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) = 0;
    // One host's output bytes in range, reading only the chunks that hold them (Store says
    // how). Error: unknown job.
    virtual void output_range(std::int64_t job_id, const OutputRange& range,
                              Callback<OutputSlice> done) = 0;

    // Streams the job: first its current state (a RunChanged per run, the stored output as
    // OutputAdded, then a JobChanged), then every change as it happens, ending with a
    // JobChanged whose state is final (for a finished job, the snapshot's JobChanged). No event is
    // repeated or lost between the snapshot and the live part. Returns an id for unsubscribe(); the
    // listener is never called after unsubscribe(). Error: unknown job.
    virtual void subscribe(std::int64_t job_id, std::function<void(const JobEvent&)> listener,
                           Callback<std::uint64_t> subscribed) = 0;
    virtual void unsubscribe(std::uint64_t subscription) = 0;

    // Calls done (on the io thread) once every change made so far is committed, e.g. before
    // telling a user that the job they submitted exists: a crash after that loses nothing.
    virtual void when_stored(std::function<void()> done) = 0;
};

}  // namespace hostline::controller
