#include "controller/metrics/controller_metrics.hpp"

#include <utility>

namespace hostline::controller::metrics {

namespace {

constexpr std::array kFinalJobStates{JobState::succeeded, JobState::failed,    JobState::partial,
                                     JobState::timed_out, JobState::cancelled, JobState::denied,
                                     JobState::expired};
constexpr std::array kFinalRunStates{RunState::succeeded, RunState::failed, RunState::timed_out,
                                     RunState::cancelled, RunState::lost,   RunState::skipped};

// From a loopback round trip to a slow store under load.
const std::vector<double> kDispatchBounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,  0.5,    1,     2.5,  5,     10};
// Commands run from milliseconds to hours.
const std::vector<double> kRunBounds{0.01, 0.05, 0.1, 0.5, 1,    2.5,  5,   10,
                                     30,   60,   300, 600, 1800, 3600, 7200};
// A grouped COMMIT: fractions of a millisecond in WAL mode, more on a slow disk.
const std::vector<double> kCommitBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                        0.025,  0.05,    0.1,    0.25,  0.5,    1};

double seconds(std::chrono::steady_clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

}  // namespace

ControllerMetrics::ControllerMetrics()
    : dispatch_seconds_(registry_.histogram(
          "hostline_dispatch_seconds",
          "Time from a run's dispatch (stored, then sent to its agent) to the agent's run_ack.",
          kDispatchBounds)),
      run_seconds_(registry_.histogram("hostline_run_seconds",
                                       "Duration of finished runs, from start to end on the agent.",
                                       kRunBounds)),
      commit_seconds_(registry_.histogram("hostline_store_commit_seconds",
                                          "Time the store took to COMMIT a group of writes.",
                                          kCommitBounds)),
      store_queue_depth_(registry_.gauge("hostline_store_queue_depth",
                                         "Tasks (writes and reads) waiting for the store thread.")),
      agents_online_(
          registry_.gauge("hostline_agents", "Accepted agents by state.", {{"state", "online"}})),
      agents_offline_(registry_.gauge("hostline_agents", "", {{"state", "offline"}})),
      agents_pending_(
          registry_.gauge("hostline_agents_pending", "Agent keys waiting to be accepted.")),
      jobs_active_(registry_.gauge("hostline_jobs_active",
                                   "Jobs not finished, including those awaiting approval.")),
      runs_queued_(registry_.gauge("hostline_runs_queued",
                                   "Runs waiting on the controller for a slot on their agent.")),
      heartbeat_seconds_(registry_.gauge(
          "hostline_agent_heartbeat_seconds",
          "The heartbeat interval agents are told: controller.heartbeat, or longer to keep a "
          "large fleet within controller.max_heartbeats_per_second.")) {
    for (JobState state : kFinalJobStates)
        jobs_[static_cast<std::size_t>(state)] =
            &registry_.counter("hostline_jobs_total", "Jobs finished since the controller started.",
                               {{"state", std::string(to_string(state))}});
    for (RunState state : kFinalRunStates)
        runs_[static_cast<std::size_t>(state)] =
            &registry_.counter("hostline_runs_total", "Runs finished since the controller started.",
                               {{"state", std::string(to_string(state))}});
}

void ControllerMetrics::job_finished(JobState state) {
    if (Counter* c = jobs_[static_cast<std::size_t>(state)]) c->inc();
}

void ControllerMetrics::run_finished(const RunRecord& run) {
    if (Counter* c = runs_[static_cast<std::size_t>(run.state)]) c->inc();
    // Skipped runs never started; a clock step may order the two stamps wrongly.
    if (run.started_at_ms != 0 && run.ended_at_ms >= run.started_at_ms)
        run_seconds_.observe(static_cast<double>(run.ended_at_ms - run.started_at_ms) / 1000.0);
}

void ControllerMetrics::run_acknowledged(std::chrono::steady_clock::duration since_dispatch) {
    dispatch_seconds_.observe(seconds(since_dispatch));
}

void ControllerMetrics::committed(std::chrono::steady_clock::duration took) {
    commit_seconds_.observe(seconds(took));
}

void ControllerMetrics::queue_depth(std::size_t tasks) {
    store_queue_depth_.set(static_cast<double>(tasks));
}

Counter& ControllerMetrics::chat_messages(const std::string& adapter) {
    return registry_.counter("hostline_chat_messages_total",
                             "Chat messages addressed to the bot, by adapter.",
                             {{"adapter", adapter}});
}

void ControllerMetrics::read_at_scrape(std::function<Readings()> read) {
    registry_.on_collect([this, read = std::move(read)] {
        const Readings r = read();
        agents_online_.set(static_cast<double>(r.agents_online));
        agents_offline_.set(static_cast<double>(r.agents_offline));
        agents_pending_.set(static_cast<double>(r.agents_pending));
        jobs_active_.set(static_cast<double>(r.jobs_active));
        runs_queued_.set(static_cast<double>(r.runs_queued));
        heartbeat_seconds_.set(r.heartbeat_seconds);
    });
}

}  // namespace hostline::controller::metrics
