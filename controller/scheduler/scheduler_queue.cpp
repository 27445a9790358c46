// The scheduler's queue: which queued runs start now (each agent's capacity, each catalog
// command's concurrency, the global cap: concurrency.hpp), where the rest stand in line, and
// the next attempt of a run whose command retries it (retry_policy.hpp). Part of Scheduler,
// on the io thread; apart from scheduler.cpp so that those rules read in one place.

#include <algorithm>
#include <queue>
#include <set>

#include "common/log/module_logger.hpp"
#include "controller/scheduler/scheduler.hpp"

static constinit hostline::log::ModuleLogger logger{"scheduler"};

namespace hostline::controller {

CommandRules Scheduler::rules_of(const std::string& command) const {
    if (command.empty() || !command_rules_) return CommandRules{};
    return command_rules_(command);
}

Result<void> Scheduler::refuse_if_busy(const std::string& command) const {
    CommandRules rules = rules_of(command);
    if (rules.concurrency == 0 || rules.on_busy != OnBusy::refuse) return {};
    // Its runs that hold a slot or wait for one, in every job of it still going.
    std::size_t busy = 0;
    std::int64_t oldest = 0;
    for (const auto& [id, active] : jobs_) {
        if (active.job.command != command) continue;
        for (std::int64_t run_id : active.runs) {
            auto run = runs_.find(run_id);
            if (run == runs_.end() || is_final(run->second.record.state)) continue;
            ++busy;
            if (oldest == 0) oldest = id;
        }
    }
    if (busy < static_cast<std::size_t>(rules.concurrency)) return {};
    return fail(busy_message(command, oldest, rules.concurrency));
}

void Scheduler::dispatch_all() {
    std::vector<AgentState*> all;
    for (auto& [name, agent] : agents_) all.push_back(&agent);
    dispatch_agents(all);
}

void Scheduler::dispatch_agents(const std::vector<AgentState*>& agents) {
    // The agents' queues merged oldest first (run ids grow as runs are made, and each queue is
    // in id order), so a command's or the fleet's free slot goes to the run that waited
    // longest, wherever it waits.
    struct Head {
        std::int64_t run_id;
        AgentState* agent;
        std::size_t index;  // in agent->queue
    };
    auto later = [](const Head& a, const Head& b) { return a.run_id > b.run_id; };
    std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
    auto push_next = [&](AgentState& agent, std::size_t index) {
        // A draining agent's queued runs wait on the controller until it is undrained.
        if (takes_runs(agent) && index < agent.queue.size() &&
            agent.active.size() < agent.info.capacity)
            heads.push(Head{agent.queue[index], &agent, index});
    };
    for (AgentState* agent : agents) push_next(*agent, 0);

    const auto now = Clock::now();
    std::map<std::string, CommandRules> rules;  // read once per command and pass
    while (!heads.empty()) {
        Head head = heads.top();
        heads.pop();
        AgentState& agent = *head.agent;
        auto run = runs_.find(head.run_id);
        auto job = run == runs_.end() ? jobs_.end() : jobs_.find(run->second.record.job_id);
        if (job == jobs_.end() || run->second.record.state != RunState::queued) {
            agent.queue.erase(agent.queue.begin() + static_cast<std::ptrdiff_t>(head.index));
            push_next(agent, head.index);  // not a queued run any more: drop it
            continue;
        }
        if (run->second.not_before > now) {
            push_next(agent, head.index + 1);  // a retry whose backoff has not ended
            continue;
        }
        const std::string& command = job->second.job.command;
        auto rule = rules.find(command);
        if (rule == rules.end()) rule = rules.emplace(command, rules_of(command)).first;
        auto verdict = concurrency_.may_start(agent.active.size(), agent.info.capacity, command,
                                              rule->second.concurrency);
        if (verdict == Concurrency::Verdict::fleet_full) break;
        if (verdict == Concurrency::Verdict::agent_full) continue;
        if (verdict == Concurrency::Verdict::command_full) {
            push_next(agent, head.index + 1);  // a run of another command may start
            continue;
        }
        agent.queue.erase(agent.queue.begin() + static_cast<std::ptrdiff_t>(head.index));
        std::int64_t id = head.run_id;
        agent.active.insert(id);
        agent.info.running = static_cast<std::uint32_t>(agent.active.size());
        concurrency_.hold(id, command);
        run->second.dispatched_at = Clock::now();
        // The resend clock starts now, not at the send once stored: a tick while the store
        // commits would otherwise find it dispatched and never sent, and send it twice.
        run->second.sent_at = run->second.dispatched_at;
        // Stored before it is sent: a crash never leaves a run on an agent we do not know of.
        set_run_state(run->second, RunState::dispatched, [this, id] {
            auto r = runs_.find(id);
            if (r != runs_.end() && r->second.record.state == RunState::dispatched)
                send_run(r->second);
        });
        push_next(agent, head.index);
    }
}

std::optional<std::int64_t> Scheduler::retry(const ActiveRun& run, RunState state) {
    auto job = jobs_.find(run.record.job_id);
    if (stopped_ || job == jobs_.end() || job->second.job.cancel_requested) return std::nullopt;
    auto agent = agents_.find(run.record.agent);
    if (agent == agents_.end()) return std::nullopt;  // revoked: not a host any more
    auto wait = rules_of(job->second.job.command).retry.next_after(run.record.attempt, state);
    if (!wait) return std::nullopt;

    std::int64_t id = next_run_id_++;
    ActiveRun& next = runs_[id];
    next.record.id = id;
    next.record.job_id = run.record.job_id;
    next.record.agent = run.record.agent;
    next.record.attempt = run.record.attempt + 1;
    next.timeout_ms = run.timeout_ms;
    next.output_cap = run.output_cap;
    const auto now = Clock::now();
    next.not_before = now + *wait;
    // Queued for an agent that is away: lost after the grace period, like any queued run.
    if (!agent->second.info.online || !agent->second.session) next.unknown_since = now;
    job->second.runs.push_back(id);
    agent->second.queue.push_back(id);
    store_.save_run(next.record);
    notify(next.record.job_id, JobEvent{JobEvent::RunChanged{next.record}});
    logger->info("job #{}: attempt {} on {} {}; attempt {} in {} ms", next.record.job_id,
                 run.record.attempt, run.record.agent, to_string(state), next.record.attempt,
                 wait->count());
    return id;
}

std::map<std::int64_t, std::uint32_t> Scheduler::queue_positions() const {
    const auto now = Clock::now();
    std::map<std::string, bool> capped;  // per command
    std::vector<QueuedRun> queued;
    // Only runs in their agents' queues wait in line: a rollout holds the others back until
    // it releases them (scheduler_rollout.cpp), and its own progress says so.
    std::set<std::int64_t> in_line;
    for (const auto& [name, agent] : agents_)
        in_line.insert(agent.queue.begin(), agent.queue.end());
    for (const auto& [id, run] : runs_) {  // in id order: oldest first
        if (run.record.state != RunState::queued || run.not_before > now || !in_line.contains(id))
            continue;
        auto job = jobs_.find(run.record.job_id);
        if (job == jobs_.end()) continue;
        const std::string& command = job->second.job.command;
        auto it = capped.find(command);
        if (it == capped.end())
            it = capped.emplace(command, rules_of(command).concurrency > 0).first;
        queued.push_back(QueuedRun{id, run.record.agent, command, it->second});
    }
    return controller::queue_positions(queued, concurrency_.fleet_capped());
}

void Scheduler::fill_queue_positions(std::vector<RunRecord>& runs) const {
    bool queued = std::any_of(runs.begin(), runs.end(),
                              [](const RunRecord& r) { return r.state == RunState::queued; });
    if (!queued) return;
    auto positions = queue_positions();
    for (RunRecord& r : runs) {
        auto it = positions.find(r.id);
        r.queue_position = it == positions.end() ? 0 : it->second;
    }
}

void Scheduler::tell_queue_positions() {
    if (subscriptions_.empty()) return;
    auto positions = queue_positions();
    std::vector<RunRecord> moved;
    for (auto& [id, run] : runs_) {
        if (run.record.state != RunState::queued) {
            run.told_position = 0;  // its own RunChanged said it left the queue
            continue;
        }
        auto it = positions.find(id);
        std::uint32_t position = it == positions.end() ? 0 : it->second;
        if (position == run.told_position) continue;
        run.told_position = position;
        moved.push_back(run.record);
        moved.back().queue_position = position;
    }
    for (const RunRecord& r : moved) notify(r.job_id, JobEvent{JobEvent::RunChanged{r}});
}

}  // namespace hostline::controller
