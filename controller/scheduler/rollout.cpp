#include "controller/scheduler/rollout.hpp"

#include <algorithm>

#include "common/batch_size.hpp"

namespace hostline::controller {

bool has_rollout(const Job& job) {
    return !job.batch.empty() || job.fail_fast;
}

RolloutPlan plan_for(const Job& job, std::size_t hosts) {
    RolloutPlan plan;
    plan.window = std::max<std::size_t>(hosts, 1);
    if (!job.batch.empty()) {
        // Checked when the job was submitted; a stored value that no longer reads is no window.
        if (auto batch = parse_batch_size(job.batch)) plan.window = window_for(*batch, hosts);
    }
    plan.wait_ms = std::max<std::int64_t>(job.batch_wait_ms, 0);
    plan.fail_fast = job.fail_fast;
    return plan;
}

Rollout::Rollout(RolloutPlan plan, std::vector<std::int64_t> runs) : plan_(plan) {
    plan_.window = std::max<std::size_t>(plan_.window, 1);
    for (std::int64_t id : runs) runs_.push_back(Entry{id, Stage::waiting});
}

Rollout::Entry* Rollout::find(std::int64_t run) {
    auto it =
        std::find_if(runs_.begin(), runs_.end(), [&](const Entry& e) { return e.run == run; });
    return it == runs_.end() ? nullptr : &*it;
}

std::size_t Rollout::released() const {
    return static_cast<std::size_t>(std::count_if(
        runs_.begin(), runs_.end(), [](const Entry& e) { return e.stage != Stage::waiting; }));
}

std::size_t Rollout::cooled(std::int64_t at_ms) const {
    auto end = std::upper_bound(finished_at_.begin(), finished_at_.end(), at_ms - plan_.wait_ms);
    return static_cast<std::size_t>(end - finished_at_.begin());
}

std::vector<std::int64_t> Rollout::release(std::int64_t now_ms) {
    std::vector<std::int64_t> out;
    if (stopped_) return out;
    // The next start (the released()+1-th) needs the (released()+1-window)-th finish to be
    // at least wait_ms old: equivalently, released() < window + cooled(now).
    std::size_t allowed = plan_.window + cooled(now_ms);
    std::size_t started = released();
    for (Entry& e : runs_) {
        if (started >= allowed) break;
        if (e.stage != Stage::waiting) continue;
        e.stage = Stage::in_flight;
        out.push_back(e.run);
        ++started;
    }
    return out;
}

void Rollout::finished(std::int64_t run, RunState state, const std::string& agent,
                       std::int64_t at_ms) {
    Entry* e = find(run);
    if (e == nullptr || e->stage == Stage::done) return;
    if (e->stage == Stage::waiting) {
        runs_.erase(runs_.begin() + (e - runs_.data()));
        return;
    }
    e->stage = Stage::done;
    finished_at_.insert(std::upper_bound(finished_at_.begin(), finished_at_.end(), at_ms), at_ms);
    if (plan_.fail_fast && state != RunState::succeeded && !stopped_) {
        const char* how = state == RunState::failed      ? "failed"
                          : state == RunState::timed_out ? "timed out"
                          : state == RunState::lost      ? "was lost"
                          : state == RunState::cancelled ? "was cancelled"
                                                         : "did not succeed";
        stopped_ = "fail-fast after " + agent + " " + how;
    }
}

void Rollout::in_flight(std::int64_t run) {
    if (Entry* e = find(run); e != nullptr && e->stage == Stage::waiting)
        e->stage = Stage::in_flight;
}

void Rollout::retried(std::int64_t run, std::int64_t next) {
    if (Entry* entry = find(run); entry != nullptr && entry->stage == Stage::in_flight)
        entry->run = next;
}

std::optional<std::int64_t> Rollout::next_release_at() const {
    if (stopped_) return std::nullopt;
    bool waiting = std::any_of(runs_.begin(), runs_.end(),
                               [](const Entry& e) { return e.stage == Stage::waiting; });
    std::size_t started = released();
    if (!waiting || started < plan_.window) return std::nullopt;
    // The finish whose slot the next start takes: the (started + 1 - window)-th.
    std::size_t index = started - plan_.window;
    if (index >= finished_at_.size()) return std::nullopt;  // still in flight
    return finished_at_[index] + plan_.wait_ms;
}

std::vector<std::int64_t> Rollout::take_not_started() {
    std::vector<std::int64_t> out;
    if (!stopped_) return out;
    for (const Entry& e : runs_)
        if (e.stage == Stage::waiting) out.push_back(e.run);
    std::erase_if(runs_, [](const Entry& e) { return e.stage == Stage::waiting; });
    return out;
}

std::string window_progress(const Job& job, const std::vector<RunRecord>& runs) {
    if (job.batch_window <= 0) return "";
    std::size_t in_flight = 0, done = 0, waiting = 0;
    for (const RunRecord& r : runs) {
        if (r.state == RunState::skipped && !never_started(r)) continue;  // offline at start
        if (r.state == RunState::queued)
            ++waiting;
        else if (is_final(r.state))
            ++done;
        else
            ++in_flight;
    }
    const auto window = static_cast<std::size_t>(job.batch_window);
    std::size_t total = in_flight + done + waiting;
    std::size_t not_started = 0;
    for (const RunRecord& r : runs) not_started += never_started(r);
    std::size_t started = in_flight + done - not_started;
    std::size_t batches = std::max<std::size_t>((total + window - 1) / window, 1);
    std::size_t batch = std::clamp<std::size_t>((started + window - 1) / window, 1, batches);
    return "batch " + std::to_string(batch) + "/" + std::to_string(batches) + ": " +
           std::to_string(in_flight) + " running, " + std::to_string(done) + " done, " +
           std::to_string(waiting) + " waiting";
}

}  // namespace hostline::controller
