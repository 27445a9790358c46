// The scheduler: the agent registry, every active job and run, and the protocol's delivery
// and liveness rules. It is the controller's single owner of job state.
//
// Threads: everything runs on the controller's io_context thread; the transport thread posts
// agent messages here (on_agent_message) and the store completes here. No locks.
// Persistence: every change is queued to the store when it happens, and agents' output is
// acknowledged only after the store has committed it, so a crash loses nothing that was
// acknowledged. A run is stored before it is sent.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/log/log_throttle.hpp"
#include "common/proto/codec.hpp"
#include "common/proto/messages.hpp"
#include "common/target/target_expr.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/held_jobs.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/jobs/scheduler_metrics.hpp"
#include "controller/scheduler/agent_presence.hpp"
#include "controller/scheduler/concurrency.hpp"
#include "controller/scheduler/held_acks.hpp"
#include "controller/scheduler/rollout.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {

struct SchedulerConfig {
    std::string controller_id = "hostline";
    std::chrono::milliseconds heartbeat{5000};
    // Heartbeats a second the fleet may send in all: past it the interval agents are told
    // grows with the fleet (at most 60 s), as Nomad paces its clients. 0: no limit.
    std::uint32_t max_heartbeats_per_second = 0;
    std::chrono::milliseconds agent_grace{5 * 60 * 1000};
    std::chrono::milliseconds default_timeout{10 * 60 * 1000};
    std::uint64_t output_cap_bytes = 16 * 1024 * 1024;
    // Agents may send output LZ4-compressed (welcome's output_encodings); it is stored so.
    bool compress_output = true;
    target::Groups groups;
    std::uint32_t max_running_runs = 0;  // runs at once across the fleet; 0: no global cap
    // True while the transport leaves agents' messages unread (its inbound budget spent): no
    // agent is judged silent then, its heartbeats may be among them. Empty: never.
    std::function<bool()> inbound_paused;
    // How long a run's `running` may wait for the run's next save before it is stored on its
    // own (Scheduler::mark_running).
    std::chrono::milliseconds running_save_delay{50};
};

class Scheduler : public JobService, public HeldJobs {
  public:
    using Clock = std::chrono::steady_clock;
    // How the scheduler reaches agents (the transport thread's send queue).
    using SendToAgent = std::function<void(const std::string& agent, proto::Message message)>;

    // audit: where jobs created (job.created), runs finished (run.finished) and runs an agent
    // rejected (run.rejected) are reported; nullptr: nowhere.
    // It must outlive the scheduler.
    Scheduler(boost::asio::io_context& io, Store& store, SendToAgent send, SchedulerConfig config,
              AuditTrail* audit = nullptr);

    // Takes over the jobs, runs and agents a previous controller left in the store. Runs that
    // were in flight become unknown and get one grace period for their agents to report.
    void restore(const StoreSnapshot& snapshot);
    void start();  // starts the liveness timer
    void stop();   // cancels timers and tells online agents the controller is going away

    void on_agent_message(const std::string& agent, proto::Message message);
    // Where the transport answers the heartbeats of agents in session on its own thread
    // (any thread may call answer(); see agent_presence.hpp). Heartbeats handed to
    // on_agent_message are answered as well.
    AgentPresence& presence() { return presence_; }
    // The heartbeat agents are told now: the configured one, or longer for a large fleet
    // (SchedulerConfig::max_heartbeats_per_second).
    std::chrono::milliseconds heartbeat() const { return heartbeat_; }

    // The agent's key was revoked: it is no longer a host (targets do not match it), its
    // runs in flight or queued become lost, and nothing more from it is expected. Its name
    // may be accepted again later with another key.
    void revoke_agent(const std::string& agent);

    // Reports job and run state changes to metrics, which must outlive the scheduler. Call
    // before start(); without it they are reported nowhere.
    void enable_metrics(SchedulerMetrics& metrics) { metrics_ = &metrics; }
    // Where a catalog command's concurrency and retries are read (the catalog in force), by
    // the command's name, whenever they are needed. Call before start(); without it every
    // job has the defaults: no cap of its own, no retries.
    using CommandRulesOf = std::function<CommandRules(const std::string& command)>;
    void set_command_rules(CommandRulesOf rules) { command_rules_ = std::move(rules); }
    // What the scheduler holds now, read at scrape time.
    // Counted in place, for what reads them often (/metrics, systemd's STATUS line once a
    // second): agents() copies every agent, 10,000 of them at fleet scale.
    struct Load {
        std::size_t jobs_active = 0;  // not finished, including those awaiting approval
        std::size_t runs_queued = 0;  // waiting on the controller for a slot on their agent
        std::size_t agents_online = 0;
        std::size_t agents_offline = 0;
        std::size_t runs_running = 0;  // as the agents report them
    };
    Load load() const;

    // JobService
    Result<SubmitReply> submit(const SubmitRequest& request) override;
    Result<void> cancel(std::int64_t job_id) override;
    std::vector<AgentInfo> agents() const override;
    Result<AgentInfo> set_draining(const std::string& name, bool draining,
                                   const std::string& actor) override;
    void list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) override;
    void job(std::int64_t job_id, Callback<JobDetail> done) override;
    void output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) override;
    void output_range(std::int64_t job_id, const OutputRange& range,
                      Callback<OutputSlice> done) override;
    std::optional<std::string> active_requester(std::int64_t job_id) const override;
    void subscribe(std::int64_t job_id, std::function<void(const JobEvent&)> listener,
                   Callback<std::uint64_t> subscribed) override;
    void unsubscribe(std::uint64_t subscription) override;
    void when_stored(std::function<void()> done) override;

    // HeldJobs (approvals)
    Result<SubmitReply> hold(const SubmitRequest& request) override;
    Result<SubmitReply> release(std::int64_t job_id,
                                const std::vector<std::string>& hosts) override;
    Result<void> close_held(std::int64_t job_id, JobState state) override;
    std::vector<std::int64_t> held() const override;

  private:
    struct AgentState {
        AgentInfo info;
        std::string public_key;
        bool session = false;  // said hello since it connected
        Clock::time_point last_heard{};
        std::set<std::int64_t> active;  // its runs that hold a slot (dispatched, running, unknown)
        std::size_t uncommitted = 0;    // its output and results on their way into the store
        std::vector<std::int64_t> queue;  // its queued runs, oldest first
    };
    struct ActiveRun {
        RunRecord record;
        std::uint64_t timeout_ms = 0;
        std::uint64_t output_cap = 0;       // bytes stored; the agent is told it too
        Clock::time_point sent_at{};        // last time the run (or cancel) was sent
        Clock::time_point dispatched_at{};  // until its run_ack; unset for restored runs
        Clock::time_point unknown_since{};
        bool cancel_sent = false;
        Clock::time_point not_before{};   // a retry waits in the queue until its backoff ends
        std::uint32_t told_position = 0;  // the queue position its subscribers last saw
        // record.last_seq is what has arrived; acked_seq what the store has committed and the
        // agent may forget. Only the latter is ever acknowledged.
        std::uint64_t acked_seq = 0;
        // The agent sent a repeat or a gap: it waits to hear what is stored, so this run's
        // acks are no longer held back (held_acks.hpp).
        bool ack_at_once = false;
        // mark_running(): its `running` is not handed to the store yet.
        bool running_unsaved = false;
    };
    struct ActiveJob {
        Job job;
        std::vector<std::int64_t> runs;
        std::optional<Rollout> rollout;  // its runs go out through a window (batches)
        // runs[0, final_prefix) are final (runs only ever become final): where
        // maybe_finish_job's search for one that is not resumes.
        std::size_t final_prefix = 0;
    };
    struct Subscription {
        std::int64_t job_id = 0;
        std::function<void(const JobEvent&)> listener;
        bool live = false;
        std::vector<JobEvent> buffered;  // events while the snapshot is read
    };

    // What an agent may have on its way into the store at once. Its spool sends at most
    // Spool::kWindowMessages unacknowledged; more is a misbehaving agent, whose extra messages
    // are dropped (it would resend them) so it cannot grow the controller's queues.
    static constexpr std::size_t kMaxUncommittedPerAgent = 1024;
    // Live job streams at once (chat reports, HTTP event streams): each holds a listener and,
    // while its snapshot is read, buffered events.
    static constexpr std::size_t kMaxSubscriptions = 4096;

    void handle(const std::string& agent, proto::Hello& m);
    void handle(const std::string& agent, proto::Heartbeat& m);
    void handle(const std::string& agent, proto::RunAck& m);
    void handle(const std::string& agent, proto::Output& m);
    void handle(const std::string& agent, proto::RunResult& m);
    void handle(const std::string& agent, proto::Bye& m);
    void handle(const std::string& agent, proto::ErrorReply& m);
    // From a key accepted already (`hostline-agent enroll --force` on an enrolled host, or
    // after its enrollment file was lost): refused, saying as whom the key is accepted.
    void handle(const std::string& agent, proto::Enroll& m);
    template <typename Other>
    void handle(const std::string& agent, Other& m);

    // The active run of this agent with this id, or nullptr (unknown, finished, or another
    // agent's run).
    ActiveRun* run_of(const std::string& agent, std::uint64_t run_id);
    // The run an output or result with this seq continues, if seq is the next one. Otherwise
    // answers the agent with what is stored (a repeat, or a gap) and returns nullptr.
    ActiveRun* next_in_sequence(const std::string& agent, std::uint64_t run_id, std::uint64_t seq);
    // Once the store committed run_id up to seq: the agent may forget it. An output's ack
    // (bytes: its size) is held back (held_acks.hpp), a result's sent with what it covers.
    enum class Stored { output, result };
    std::function<void()> acknowledge_when_stored(const std::string& agent, std::uint64_t run_id,
                                                  std::uint64_t seq, Stored what,
                                                  std::uint64_t bytes = 0);
    void send_held_acks(const std::string& agent);
    void send_all_held_acks();
    void arm_ack_timer();
    // A run its agent has started: `running` at once in memory and in the events, and in the
    // store with the run's next save (its output or result) or after
    // SchedulerConfig::running_save_delay, whichever is first, so that a short run's start and
    // end are one row write and its start costs no commit of its own while it runs. A crash in
    // between leaves it `dispatched`: the agent's hello, which holds it, settles it.
    void mark_running(ActiveRun& run);
    void save_unsaved_running();
    // Validates the request and resolves its target into reply.matched (online) and
    // reply.offline; the job it returns has its id taken but is not stored yet.
    Result<Job> prepare_job(const SubmitRequest& request, SubmitReply& reply);
    // A queued run per online host, a skipped one per offline host; then dispatches.
    void start_runs(ActiveJob& active, const std::vector<std::string>& online,
                    const std::vector<std::string>& offline);
    void dispatch(const std::string& agent);
    // Concurrency and retries (concurrency.hpp, retry_policy.hpp), in scheduler_queue.cpp.
    void dispatch_all();
    void dispatch_agents(const std::vector<AgentState*>& agents);
    CommandRules rules_of(const std::string& command) const;
    Result<void> refuse_if_busy(const std::string& command) const;
    // After a run ended in state: its next attempt, queued behind its backoff, if its command
    // retries that. The new run's id, when one was made.
    std::optional<std::int64_t> retry(const ActiveRun& run, RunState state);
    std::map<std::int64_t, std::uint32_t> queue_positions() const;
    void fill_queue_positions(std::vector<RunRecord>& runs) const;
    void tell_queue_positions();  // RunChanged to subscribers whose runs moved in the queue
    void send_run(ActiveRun& run);
    // The job's own cap (a catalog command's), else the controller's.
    std::uint64_t output_cap_of(const Job& job) const;
    void set_run_state(ActiveRun& run, RunState state, std::function<void()> on_committed = {});
    void finish_run(ActiveRun& run, RunState state, std::string error = {},
                    std::function<void()> on_committed = {});
    void maybe_finish_job(std::int64_t job_id);
    void save_job(const Job& job);
    void on_tick();
    // A warning about what an agent sent, at most a few per agent and interval (a misbehaving
    // agent must not fill the log); the rest are summed up by on_tick.
    void warn_about(const std::string& agent, const std::string& text);
    // Marks offline the agents silent for 3 heartbeats; posted by on_tick.
    void check_liveness();
    // Takes in the heartbeats the transport answered since the last call (presence_).
    void collect_heartbeats();
    // Sets the interval agents are told from the agents in session and the cap (once a tick).
    void pace_heartbeats();
    proto::Heartbeat heartbeat_reply() const;
    void mark_offline(AgentState& agent, const char* why);
    // Whether new runs may go to the agent: online, in session, and not draining.
    static bool takes_runs(const AgentState& agent) {
        return agent.info.online && agent.session && !agent.info.draining;
    }
    void notify(std::int64_t job_id, const JobEvent& event);
    void start_snapshot(std::uint64_t id, Callback<std::uint64_t> subscribed);
    // The job and its runs as held now, if it is active and none of its runs stored output.
    std::optional<JobDetail> detail_in_memory(std::int64_t job_id) const;
    // Hands a subscriber its snapshot, then what was buffered meanwhile, and makes it live.
    void deliver_snapshot(std::uint64_t id, const Callback<std::uint64_t>& subscribed,
                          JobDetail snapshot, std::vector<OutputChunk> output);

    // Rollouts (scheduler_rollout.cpp; the window itself is rollout.cpp). A job with a window
    // or fail-fast keeps its queued runs off its agents' queues until the window releases them.
    // Makes the job's rollout from its queued runs, persists its window, releases the first.
    void start_rollout(ActiveJob& active);
    // After a restart: the rollouts of the restored jobs, from their stored runs.
    void restore_rollouts();
    // A run of a rollout job ended: frees its slot, may stop the rollout (fail-fast).
    void rollout_run_finished(const RunRecord& run);
    // Releases what the window allows now, skips what fail-fast stopped, re-arms the timer.
    void advance_rollout(std::int64_t job_id);
    void arm_rollout_timer();
    boost::asio::steady_timer rollout_timer_;

    boost::asio::io_context& io_;
    Store& store_;
    SendToAgent send_;
    const SchedulerConfig config_;
    NoAuditTrail no_audit_;
    AuditTrail& audit_;  // no_audit_ unless given one
    NoSchedulerMetrics no_metrics_;
    SchedulerMetrics* metrics_ = &no_metrics_;  // set once, before start()
    boost::asio::steady_timer tick_timer_;
    // Judges liveness after what the io thread had queued at the tick (check_liveness).
    boost::asio::steady_timer liveness_timer_;
    // Output acks held back (held_acks.hpp), and what gives them up after kAckHold at most.
    HeldAcks held_acks_;
    boost::asio::steady_timer ack_timer_;
    bool ack_timer_armed_ = false;
    // mark_running(): runs whose `running` is not queued to the store yet, and its timer.
    std::vector<std::int64_t> running_unsaved_;
    boost::asio::steady_timer running_timer_;
    log::LogThrottle agent_warnings_{log::LogThrottle::Options{}};
    bool stopped_ = false;
    // The heartbeat agents are told (Welcome, heartbeat replies), and the one silence is
    // judged by: the longer of it and the one before until every agent has heard the change.
    std::chrono::milliseconds heartbeat_{config_.heartbeat};
    std::chrono::milliseconds judged_heartbeat_{config_.heartbeat};
    Clock::time_point judged_until_{};
    AgentPresence presence_{proto::encode(heartbeat_reply())};

    std::map<std::string, AgentState> agents_;
    std::map<std::int64_t, ActiveJob> jobs_;
    std::map<std::int64_t, ActiveRun> runs_;
    std::map<std::uint64_t, Subscription> subscriptions_;
    Concurrency concurrency_{config_.max_running_runs};
    CommandRulesOf command_rules_;
    std::int64_t next_job_id_ = 1;
    std::int64_t next_run_id_ = 1;
    std::uint64_t next_subscription_ = 1;
};

}  // namespace hostline::controller
