// The scheduler's side of rollouts (docs/scheduling.md, "Batches"): which of a job's queued
// runs its window lets onto the agents' queues, and when. The window itself, pure, is
// rollout.cpp; this file only moves runs and arms the timer for --batch-wait.

#include "common/log/module_logger.hpp"
#include "controller/scheduler/scheduler.hpp"

static constinit hostline::log::ModuleLogger logger{"scheduler"};

namespace hostline::controller {
namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

void Scheduler::start_rollout(ActiveJob& active) {
    std::vector<std::int64_t> waiting;
    for (std::int64_t id : active.runs)
        if (runs_.at(id).record.state == RunState::queued) waiting.push_back(id);
    RolloutPlan plan = plan_for(active.job, waiting.size());
    active.job.batch_window = static_cast<std::int64_t>(plan.window);
    save_job(active.job);  // the window as resolved for these hosts, for a restart and for chat
    active.rollout.emplace(plan, std::move(waiting));
    logger->info("job #{}: rollout of {} host(s), {} at a time{}{}", active.job.id,
                 active.runs.size(), plan.window,
                 plan.wait_ms > 0 ? ", " + std::to_string(plan.wait_ms) + " ms between" : "",
                 plan.fail_fast ? ", fail-fast" : "");
    advance_rollout(active.job.id);
}

void Scheduler::restore_rollouts() {
    std::vector<std::int64_t> ids;
    for (auto& [id, active] : jobs_) {
        if (!has_rollout(active.job) || active.job.state == JobState::pending_approval) continue;
        std::vector<std::int64_t> order;
        for (std::int64_t run : active.runs)
            if (runs_.at(run).record.state != RunState::skipped) order.push_back(run);
        RolloutPlan plan = plan_for(active.job, order.size());
        if (active.job.batch_window > 0)
            plan.window = static_cast<std::size_t>(active.job.batch_window);
        Rollout& rollout = active.rollout.emplace(plan, order);
        // What left the line before the restart: in flight, or finished (which frees its slot
        // from when it ended, and may have stopped the rollout).
        for (std::int64_t run : order) {
            const RunRecord& r = runs_.at(run).record;
            if (r.state == RunState::queued) continue;
            rollout.in_flight(run);
            if (is_final(r.state)) rollout.finished(run, r.state, r.agent, r.ended_at_ms);
        }
        ids.push_back(id);
    }
    for (std::int64_t id : ids) advance_rollout(id);
}

void Scheduler::rollout_run_finished(const RunRecord& run) {
    auto job = jobs_.find(run.job_id);
    if (job == jobs_.end() || !job->second.rollout) return;
    std::int64_t job_id = run.job_id;
    job->second.rollout->finished(run.id, run.state, run.agent, wall_ms());
    advance_rollout(job_id);  // may end runs, and with them the job: run is not used after
}

void Scheduler::advance_rollout(std::int64_t job_id) {
    auto job = jobs_.find(job_id);
    if (job == jobs_.end() || !job->second.rollout || job->second.job.cancel_requested) return;
    Rollout& rollout = *job->second.rollout;
    std::vector<std::int64_t> start = rollout.release(wall_ms());
    std::vector<std::int64_t> skip = rollout.take_not_started();
    std::string reason = rollout.stopped().value_or("");
    if (!skip.empty())
        logger->info("job #{}: {}; {} host(s) not started", job_id, reason, skip.size());

    // Every call below may end runs and the job: from here on, look each up again.
    std::vector<std::int64_t> gone;
    std::set<std::string> agents;
    for (std::int64_t id : start) {
        auto run = runs_.find(id);
        if (run == runs_.end() || run->second.record.state != RunState::queued) continue;
        auto agent = agents_.find(run->second.record.agent);
        if (agent == agents_.end()) {
            gone.push_back(id);  // revoked while its run waited for its turn
            continue;
        }
        agent->second.queue.push_back(id);
        // An agent away when its turn comes gets the grace period, as if it left with the run
        // queued.
        if (!agent->second.info.online) run->second.unknown_since = Clock::now();
        agents.insert(agent->first);
    }
    arm_rollout_timer();
    for (const std::string& name : agents) dispatch(name);
    for (std::int64_t id : gone) {
        auto run = runs_.find(id);
        if (run != runs_.end() && run->second.record.state == RunState::queued)
            finish_run(run->second, RunState::lost,
                       "agent " + run->second.record.agent + " is no longer accepted");
    }
    for (std::int64_t id : skip) {
        auto run = runs_.find(id);
        if (run != runs_.end() && run->second.record.state == RunState::queued)
            finish_run(run->second, RunState::skipped, std::string(kNotStartedPrefix) + reason);
    }
}

void Scheduler::arm_rollout_timer() {
    std::optional<std::int64_t> next;
    for (const auto& [id, active] : jobs_) {
        if (!active.rollout || active.job.cancel_requested) continue;
        if (auto at = active.rollout->next_release_at(); at && (!next || *at < *next)) next = at;
    }
    if (!next || stopped_) {
        rollout_timer_.cancel();
        return;
    }
    auto delay = std::chrono::milliseconds(std::max<std::int64_t>(*next - wall_ms(), 0));
    // Re-armed on every change; the handler re-reads every rollout, so one timer serves all.
    rollout_timer_.expires_after(delay);
    rollout_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopped_) return;
        std::vector<std::int64_t> ids;
        for (const auto& [id, active] : jobs_)
            if (active.rollout) ids.push_back(id);
        for (std::int64_t id : ids) advance_rollout(id);
        arm_rollout_timer();
    });
}

}  // namespace hostline::controller
