// The controller's store: jobs, runs, output, agents, the audit chain and API tokens in one
// SQLite database
// (DESIGN.md, Persistence).
//
// One store thread owns the connection. open() opens and migrates the database on the calling
// thread and only then starts the store thread; from then on SQLite is touched on the store
// thread alone. The public methods only queue work, so they never block on disk (except
// load(), which waits, and the destructor).
//
// Threads: every method may be called from any thread, but the order of calls is the order of
// work, so the controller calls them from its io_context thread. Completions (read callbacks,
// on_committed) never run on the store thread: they are handed to `post`, in the order the
// store thread finished them.
//
// Errors: open() and load() return them; reads complete with them. Writes have no error
// path: a write that fails (disk full, a constraint) is logged with spdlog, rolled back alone
// and skipped, and the store carries on. Broken invariants (SQL of ours that does not
// prepare) log and abort.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "controller/jobs/api_tokens.hpp"
#include "controller/jobs/approval.hpp"
#include "controller/jobs/audit_log.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/job.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/jobs/schedule_desk.hpp"

namespace hostline::controller {

struct AgentRecord {
    std::string name;
    std::string public_key;
    std::string hostname;
    std::string version;
    std::map<std::string, std::string> labels;
    std::map<std::string, std::string> facts;
    std::uint32_t capacity = 0;
    std::int64_t last_seen_ms = 0;
};

// What the scheduler needs at start.
struct StoreSnapshot {
    std::int64_t max_job_id = 0;  // 0 when there are none
    std::int64_t max_run_id = 0;
    std::vector<Job> active_jobs;             // jobs whose state is not final, by id, with
                                              // their scripts' content (Job::script)
    std::vector<RunRecord> active_runs;       // every run of those jobs (final or not), by id
    std::vector<AgentRecord> agents;          // by name
    std::vector<Approval> pending_approvals;  // with their votes, by job id
    std::vector<ApiTokenRecord> tokens;       // every API token, revoked ones too, by name
    std::vector<Schedule> schedules;          // by id; next_firing_ms is not stored (0)
    std::int64_t max_schedule_id = 0;         // the highest ever given, removed ones too
};

// What the store reports about itself, for GET /metrics. Called on the store thread (commits,
// the queue as it is taken) and on the caller's thread (the queue as it grows), so an
// implementation must be thread-safe and cheap: it is called with the queue's lock held.
class StoreMetrics {
  public:
    virtual ~StoreMetrics() = default;
    // A group of writes was committed; took: the COMMIT alone.
    virtual void committed(std::chrono::steady_clock::duration took) = 0;
    // Tasks (writes and reads) waiting for the store thread.
    virtual void queue_depth(std::size_t tasks) = 0;
};

// An interface so the scheduler can be tested against a fake; open() makes the SQLite one.
class Store {
  public:
    // Runs a completion on the caller's thread; the controller passes a function that
    // asio::post()s to its io_context. It is called from the store thread, and from the
    // caller's for the wake-up of queued writes (below), and must stay callable until the
    // store is destroyed.
    using Post = std::function<void(std::function<void()>)>;

    // Opens (creating) the SQLite database at path with WAL, synchronous=NORMAL,
    // foreign_keys=ON and a busy timeout, runs the pending numbered migrations in one
    // transaction, then starts the store thread. Errors: the database cannot be opened, its
    // schema is newer than this binary knows, a migration failed. metrics, when given, must
    // outlive the store.
    static Result<std::unique_ptr<Store>> open(const std::string& path, Post post,
                                               StoreMetrics* metrics = nullptr);

    // Commits everything queued (posting its completions), then stops and joins the thread.
    virtual ~Store() = default;

    // Synchronous: waits for the store thread. Called once, at start, before any completion
    // can be run. Error: a read failed or a stored value cannot be understood.
    virtual Result<StoreSnapshot> load() = 0;

    // Writes are queued and committed in groups: the store thread takes what is queued (up to
    // ~500 writes or ~5 ms of work) into one transaction. It is woken for writes through post,
    // so that what one task of the caller's writes is one group: queued writes start once
    // what post was handed runs, or with the next read or flush, which wake it at once.
    // on_committed, if given, is posted once the transaction holding that write has committed. It
    // is never run for a write that failed (the failure is logged); it is then destroyed on the
    // caller's thread. Insert by id, Job::script included, or update its progress: a job's
    // request (requester, source, target, argv, env, cwd, run_as_*, command, created_at_ms,
    // schedule_id, script) is written by its first save only, since it never changes; state,
    // cancel_requested, finished_at_ms, the rollout's settings and the rest by every save. Save
    // a job as the scheduler holds it, never one read back by list_jobs() or job(), which leave
    // the script out.
    virtual void save_job(const Job& job, std::function<void()> on_committed = {}) = 0;
    // Insert by id, or update all but its job_id and agent (written by the first save only).
    // Its job must have been saved first.
    virtual void save_run(const RunRecord& run, std::function<void()> on_committed = {}) = 0;
    // Insert or replace by name.
    virtual void save_agent(const AgentRecord& agent, std::function<void()> on_committed = {}) = 0;
    // Saves the run (with its updated counters) and one output chunk of it, atomically. A chunk
    // whose (run_id, seq) is already stored is ignored; the run is still saved. chunk.agent is
    // not stored (the run names it).
    virtual void append_output(const OutputChunk& chunk, const RunRecord& run,
                               std::function<void()> on_committed = {}) = 0;
    // Insert or update by job id (its job must have been saved first); votes are added, never
    // changed or removed.
    virtual void save_approval(const Approval& approval,
                               std::function<void()> on_committed = {}) = 0;
    // Appends the event to the audit chain (docs/audit.md). The row's id and prev_hash are
    // taken from the last stored row inside the write, on the store thread, so rows chain in
    // commit order whoever queued them, and a write that fails leaves no gap. Never updated
    // or deleted afterwards.
    virtual void append_audit(const AuditEvent& event, std::int64_t at_ms,
                              std::function<void()> on_committed = {}) = 0;
    // Insert or replace by name.
    virtual void save_token(const ApiTokenRecord& token,
                            std::function<void()> on_committed = {}) = 0;
    // Insert or replace by id (Schedule::next_firing_ms is not stored). Names are unique: the
    // caller keeps them so, since a refused write stops the controller.
    virtual void save_schedule(const Schedule& schedule,
                               std::function<void()> on_committed = {}) = 0;
    // Deletes the schedule; its jobs keep their schedule id. Unknown ids are no error.
    virtual void delete_schedule(std::int64_t id, std::function<void()> on_committed = {}) = 0;
    // Posts on_committed once every write queued before it has been committed or has failed
    // (and been logged); unlike a write's, it always runs.
    virtual void flush(std::function<void()> on_committed) = 0;

    // Reads run on the store thread after every write queued before them, so they see those
    // writes; `done` is posted with the result. Read errors are the database's, as text.

    // Jobs read here leave Job::script empty (only load() reads it back).

    // Newest first; query.limit is clamped to [0, 500].
    virtual void list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) = 0;
    // The job with its runs by id. Error: "no job #N".
    virtual void job(std::int64_t job_id, Callback<JobDetail> done) = 0;
    // Every stored chunk of the job's runs, by run id then seq, chunk.agent filled from the
    // run. Error: "no job #N".
    virtual void output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) = 0;
    // The bytes of range.host's output in [offset, offset + length) and the total, exactly as
    // slicing output()'s chunks of that host would give them (OutputRange says the order).
    // Reads the chunks' sizes (about 1% of the output's pages), then only the data of the
    // chunks that overlap the range. A host without runs in the job has no output (total 0).
    // Error: "no job #N".
    virtual void output_range(std::int64_t job_id, const OutputRange& range,
                              Callback<OutputSlice> done) = 0;
    // Every agent ever saved, by name.
    virtual void agents(Callback<std::vector<AgentRecord>> done) = 0;
    // Approvals matching the query with their votes, newest first; limit is clamped to
    // [0, 500].
    virtual void list_approvals(const ApprovalQuery& query,
                                Callback<std::vector<Approval>> done) = 0;
    // Audit rows matching the query, by id (newest or oldest first).
    virtual void audit(const AuditQuery& query, Callback<std::vector<AuditRow>> done) = 0;
    // Checks the whole chain as stored (AuditChainCheck).
    virtual void verify_audit(Callback<AuditVerification> done) = 0;
};

}  // namespace hostline::controller
