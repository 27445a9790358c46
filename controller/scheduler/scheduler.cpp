#include "controller/scheduler/scheduler.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <string_view>

#include "common/log/module_logger.hpp"
#include "common/proto/output_encoding.hpp"
#include "controller/jobs/audit_detail.hpp"
#include "controller/scheduler/retry_policy.hpp"

static constinit hostline::log::ModuleLogger logger{"scheduler"};

namespace hostline::controller {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kTick{1000};
constexpr milliseconds kResendRun{5000};
// How long an output's ack may wait for its run's result to cover it (held_acks.hpp); far
// below the 10 s after which an agent sends what is unacknowledged again.
constexpr milliseconds kAckHold{1000};
// The longest heartbeat pacing makes (the agent takes 100 ms to 60 s).
constexpr milliseconds kMaxHeartbeat{60000};

std::int64_t now_ms() {
    return std::chrono::duration_cast<milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

RunState state_for_result(const proto::RunResult& r) {
    if (r.status == "exited") return r.exit_code == 0 ? RunState::succeeded : RunState::failed;
    if (r.status == "timed_out") return RunState::timed_out;
    if (r.status == "cancelled") return RunState::cancelled;
    if (r.status == "interrupted") return RunState::lost;
    return RunState::failed;  // signaled, failed_to_start, or anything unknown
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// A POSIX-portable user or group name as useradd accepts it ([a-z_][a-z0-9_-]*[$]?, at most
// 32 characters), or a numeric id. Checked here so a typo fails at submit, not on every agent.
bool is_account_name(std::string_view name) {
    constexpr std::size_t kMaxLength = 32;
    if (name.empty() || name.size() > kMaxLength) return false;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    if (std::all_of(name.begin(), name.end(), digit)) return true;
    auto lower = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
    if (!lower(name.front())) return false;
    if (name.back() == '$') name.remove_suffix(1);
    return std::all_of(name.begin(), name.end(),
                       [&](char c) { return lower(c) || digit(c) || c == '-'; });
}

}  // namespace

Scheduler::Scheduler(boost::asio::io_context& io, Store& store, SendToAgent send,
                     SchedulerConfig config, AuditTrail* audit)
    : rollout_timer_(io),
      io_(io),
      store_(store),
      send_(std::move(send)),
      config_(std::move(config)),
      audit_(audit != nullptr ? *audit : no_audit_),
      tick_timer_(io),
      liveness_timer_(io),
      ack_timer_(io),
      running_timer_(io) {}

void Scheduler::restore(const StoreSnapshot& snapshot) {
    next_job_id_ = snapshot.max_job_id + 1;
    next_run_id_ = snapshot.max_run_id + 1;
    for (const AgentRecord& a : snapshot.agents) {
        AgentState& s = agents_[a.name];
        s.info.name = a.name;
        s.info.hostname = a.hostname;
        s.info.version = a.version;
        s.info.labels = a.labels;
        s.info.facts = a.facts;
        s.info.capacity = a.capacity;
        s.info.last_seen_ms = a.last_seen_ms;
        s.public_key = a.public_key;
    }
    auto now = Clock::now();
    for (const Job& j : snapshot.active_jobs) jobs_[j.id].job = j;
    for (const RunRecord& r : snapshot.active_runs) {
        auto job = jobs_.find(r.job_id);
        if (job == jobs_.end()) continue;
        job->second.runs.push_back(r.id);
        ActiveRun& run = runs_[r.id];
        run.record = r;
        run.timeout_ms = static_cast<std::uint64_t>(job->second.job.timeout_ms);
        run.output_cap = output_cap_of(job->second.job);
        run.acked_seq = r.last_seq;  // what was stored is what was committed
        if (is_final(r.state)) continue;
        AgentState& agent = agents_[r.agent];
        agent.info.name = r.agent;
        if (r.state == RunState::queued) {
            // Waiting for its agent, which is offline until it says hello: lost after the grace
            // period if it never does. (A run a rollout still holds back is not waiting for it.)
            if (!has_rollout(job->second.job)) {
                agent.queue.push_back(r.id);
                run.unknown_since = now;
            }
        } else {
            // In flight when the last controller stopped: its agent has one grace period to
            // come back and say whether it still holds it.
            agent.active.insert(r.id);
            concurrency_.hold(r.id, job->second.job.command);
            run.unknown_since = now;
            if (r.state != RunState::dispatched) run.record.state = RunState::unknown;
        }
    }
    restore_rollouts();
    std::size_t jobs = jobs_.size();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
        auto next = std::next(it);
        maybe_finish_job(it->first);  // a job whose runs all finished before the crash
        it = next;
    }
    logger->info("restored {} active job(s) with {} run(s) and {} known agent(s)", jobs,
                 runs_.size(), agents_.size());
}

void Scheduler::start() {
    on_tick();
}

void Scheduler::stop() {
    stopped_ = true;
    tick_timer_.cancel();
    liveness_timer_.cancel();
    rollout_timer_.cancel();
    ack_timer_.cancel();
    running_timer_.cancel();
    save_unsaved_running();
    send_all_held_acks();  // before the bye: what is stored, the agents may forget
    for (auto& [name, agent] : agents_)
        if (agent.info.online) send_(name, proto::Bye{"controller stopping"});
}

// ---- agent messages --------------------------------------------------------------------

void Scheduler::on_agent_message(const std::string& agent, proto::Message message) {
    if (stopped_) return;
    std::visit([&](auto& m) { handle(agent, m); }, message);
}

void Scheduler::revoke_agent(const std::string& name) {
    auto it = agents_.find(name);
    if (it == agents_.end()) return;
    std::vector<std::int64_t> runs(it->second.active.begin(), it->second.active.end());
    runs.insert(runs.end(), it->second.queue.begin(), it->second.queue.end());
    agents_.erase(it);  // first, so that finishing its runs dispatches nothing to it
    presence_.close(name);
    logger->warn("agent {} was revoked; {} run(s) of it are lost", name, runs.size());
    for (std::int64_t id : runs) {
        auto run = runs_.find(id);
        if (run != runs_.end() && !is_final(run->second.record.state))
            finish_run(run->second, RunState::lost, "agent " + name + " was revoked");
    }
}

void Scheduler::handle(const std::string& name, proto::Hello& m) {
    AgentState& agent = agents_[name];
    bool was_online = agent.info.online;
    agent.info.name = name;
    agent.info.online = true;
    agent.info.hostname = m.hostname;
    agent.info.version = m.version;
    agent.info.labels = m.labels;
    agent.info.facts = m.facts;
    agent.info.capacity = std::max<std::uint32_t>(1, m.capacity);
    agent.info.last_seen_ms = now_ms();
    agent.session = true;
    agent.last_heard = Clock::now();
    presence_.open(name);
    logger->info("agent {} {} ({} {}, {} run(s) held)", name,
                 was_online ? "said hello again" : "is online", m.hostname, m.version,
                 m.runs.size());
    store_.save_agent(AgentRecord{name, agent.public_key, m.hostname, m.version, m.labels, m.facts,
                                  agent.info.capacity, agent.info.last_seen_ms});
    proto::Welcome welcome{config_.controller_id, static_cast<std::uint32_t>(heartbeat_.count())};
    if (config_.compress_output) welcome.output_encodings.emplace_back(proto::kEncodingLz4);
    send_(name, std::move(welcome));

    // Reconcile what we think this agent runs with what it says it holds.
    std::set<std::uint64_t> held;
    for (const proto::HeldRun& r : m.runs) held.insert(r.run_id);
    for (std::int64_t id : std::vector<std::int64_t>(agent.active.begin(), agent.active.end())) {
        auto it = runs_.find(id);
        if (it == runs_.end()) continue;
        ActiveRun& run = it->second;
        bool holds = held.count(static_cast<std::uint64_t>(id)) > 0;
        if (run.record.state == RunState::dispatched) {
            // Held: it started (an agent holds a run from before its run_ack), and its
            // `running` was not stored yet (mark_running()). Not held: it never arrived; sent
            // again (the agent de-duplicates).
            if (holds)
                mark_running(run);
            else
                send_run(run);
        } else if (holds) {
            if (run.record.state == RunState::unknown) set_run_state(run, RunState::running);
            if (run.cancel_sent) send_(name, proto::Cancel{static_cast<std::uint64_t>(id)});
        } else {
            finish_run(run, RunState::lost, "agent " + name + " came back without this run");
        }
    }
    dispatch(name);
}

void Scheduler::handle(const std::string& name, proto::Heartbeat&) {
    auto it = agents_.find(name);
    if (it == agents_.end() || !it->second.session) {
        send_(name, proto::ErrorReply{"no_session", "say hello first"});
        return;
    }
    it->second.last_heard = Clock::now();
    it->second.info.last_seen_ms = now_ms();
    if (!it->second.info.online) {
        it->second.info.online = true;
        logger->info("agent {} is back online", name);
    }
    send_(name, heartbeat_reply());
}

Scheduler::ActiveRun* Scheduler::run_of(const std::string& agent, std::uint64_t run_id) {
    auto it = runs_.find(static_cast<std::int64_t>(run_id));
    if (it == runs_.end() || it->second.record.agent != agent || is_final(it->second.record.state))
        return nullptr;
    return &it->second;
}

void Scheduler::handle(const std::string& name, proto::RunAck& m) {
    ActiveRun* run = run_of(name, m.run_id);
    if (run == nullptr) {
        auto it = runs_.find(static_cast<std::int64_t>(m.run_id));
        if (it != runs_.end() && it->second.record.agent != name)
            warn_about(name, "sent a run_ack for run " + std::to_string(m.run_id) +
                                 ", which is agent " + it->second.record.agent + "'s; dropped");
        return;
    }
    if (run->dispatched_at != Clock::time_point{}) {
        metrics_->run_acknowledged(Clock::now() - run->dispatched_at);
        run->dispatched_at = {};
    }
    if (!m.accepted) {
        if (run->cancel_sent) {
            finish_run(*run, RunState::cancelled, "cancelled before it started");
            return;
        }
        // An agent's refusal (its own [agent.accept] rules, or it could not start the run) is
        // worth an audit row: it may be the only trace of a request a host was guarded against.
        if (auto job = jobs_.find(run->record.job_id); job != jobs_.end()) {
            const Job& j = job->second.job;
            audit_.record(AuditEvent{"run.rejected",
                                     "agent:" + name,
                                     "run:" + std::to_string(run->record.id),
                                     {{"job", std::to_string(j.id)},
                                      {"requester", j.requester},
                                      {"command", j.command},
                                      {"reason", m.reason}}});
        }
        finish_run(*run, RunState::failed, "rejected by agent " + name + ": " + m.reason);
        return;
    }
    if (run->record.state == RunState::dispatched || run->record.state == RunState::unknown) {
        if (run->record.started_at_ms == 0) run->record.started_at_ms = now_ms();
        mark_running(*run);
    }
}

void Scheduler::mark_running(ActiveRun& run) {
    run.record.state = RunState::running;
    notify(run.record.job_id, JobEvent{JobEvent::RunChanged{run.record}});
    run.running_unsaved = true;
    running_unsaved_.push_back(run.record.id);
    if (running_unsaved_.size() > 1 || stopped_) return;  // the timer is armed
    running_timer_.expires_after(config_.running_save_delay);
    running_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) save_unsaved_running();
    });
}

void Scheduler::save_unsaved_running() {
    // Those saved since (their output, their end) are stored as they are.
    for (std::int64_t id : std::exchange(running_unsaved_, {})) {
        auto run = runs_.find(id);
        if (run == runs_.end() || !run->second.running_unsaved) continue;
        run->second.running_unsaved = false;
        store_.save_run(run->second.record);
    }
}

Scheduler::ActiveRun* Scheduler::next_in_sequence(const std::string& agent, std::uint64_t run_id,
                                                  std::uint64_t seq) {
    auto it = runs_.find(static_cast<std::int64_t>(run_id));
    if (it != runs_.end() && it->second.record.agent != agent) {
        warn_about(agent, "sent output or a result for run " + std::to_string(run_id) +
                              ", which is agent " + it->second.record.agent + "'s; dropped");
        return nullptr;
    }
    ActiveRun* run = run_of(agent, run_id);
    if (run == nullptr) {
        // Not active: finished and stored (our ack was lost: acknowledge again so the agent
        // drops it), or a run id this controller never had, which nothing here will store.
        if (it == runs_.end() || is_final(it->second.record.state))
            send_(agent, proto::Ack{run_id, seq});
        return nullptr;
    }
    if (seq != run->record.last_seq + 1) {
        // A duplicate, or a gap after a lost message: say what is stored; the agent resends
        // the rest. Never more than is committed: the agent deletes what we acknowledge.
        if (seq > run->record.last_seq + 1)
            logger->debug("agent {}: run {} seq {} arrived, {} expected; dropped", agent, run_id,
                          seq, run->record.last_seq + 1);
        run->ack_at_once = true;
        if (run->acked_seq > 0) {
            held_acks_.forget(agent, run_id);  // this ack covers what was held of it
            send_(agent, proto::Ack{run_id, run->acked_seq});
        }
        return nullptr;
    }
    auto state = agents_.find(agent);
    if (state == agents_.end()) return nullptr;
    if (state->second.uncommitted >= kMaxUncommittedPerAgent) {
        warn_about(agent, "has " + std::to_string(state->second.uncommitted) +
                              " messages on their way to the store; run " + std::to_string(run_id) +
                              " seq " + std::to_string(seq) +
                              " dropped (the agent sends it again)");
        return nullptr;
    }
    return run;
}

std::function<void()> Scheduler::acknowledge_when_stored(const std::string& agent,
                                                         std::uint64_t run_id, std::uint64_t seq,
                                                         Stored what, std::uint64_t bytes) {
    ++agents_[agent].uncommitted;
    return [this, agent, run_id, seq, what, bytes] {
        if (auto a = agents_.find(agent); a != agents_.end() && a->second.uncommitted > 0)
            --a->second.uncommitted;
        auto r = runs_.find(static_cast<std::int64_t>(run_id));
        if (r != runs_.end()) r->second.acked_seq = std::max(r->second.acked_seq, seq);
        if (what == Stored::result || r == runs_.end() || r->second.ack_at_once) {
            held_acks_.forget(agent, run_id);  // this ack covers them (acks are cumulative)
            send_(agent, proto::Ack{run_id, seq});
            return;
        }
        // The run's result has arrived and is on its way to the store: its ack will cover this.
        if (r->second.record.last_seq > seq && is_final(r->second.record.state)) return;
        if (held_acks_.hold(agent, run_id, seq, bytes))
            send_held_acks(agent);
        else
            arm_ack_timer();
    };
}

void Scheduler::send_held_acks(const std::string& agent) {
    for (const proto::Ack& ack : held_acks_.take(agent)) send_(agent, ack);
}

void Scheduler::send_all_held_acks() {
    for (const auto& [agent, ack] : held_acks_.take_all()) send_(agent, ack);
}

void Scheduler::arm_ack_timer() {
    if (ack_timer_armed_ || stopped_) return;
    ack_timer_armed_ = true;
    ack_timer_.expires_after(kAckHold);
    ack_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec) return;
        ack_timer_armed_ = false;
        send_all_held_acks();
    });
}

void Scheduler::handle(const std::string& name, proto::Output& m) {
    ActiveRun* run = next_in_sequence(name, m.run_id, m.seq);
    if (run == nullptr) return;
    RunRecord& rec = run->record;
    if (rec.state == RunState::dispatched || rec.state == RunState::unknown) {
        if (rec.started_at_ms == 0) rec.started_at_ms = now_ms();
        rec.state = RunState::running;
    }
    const std::uint64_t sent_bytes = m.data.data.size();  // what it takes of the agent's window
    OutputChunk chunk{rec.id, name, m.seq, m.stream, {}};
    if (m.encoding.empty()) {
        chunk.data = std::move(m.data.data);
    } else if (auto raw = proto::decode_chunk(m.encoding, m.data.data, m.size)) {
        chunk.data = std::move(*raw);
        chunk.compressed = std::move(m.data.data);
    } else {
        // A bug or a tampered agent: what it said is lost either way. Stored as a note in its
        // place, so the run's output says so and the agent does not resend it for ever.
        warn_about(name, "sent output " + std::to_string(m.seq) + " of run " +
                             std::to_string(m.run_id) +
                             " that cannot be read: " + raw.error().message);
        chunk.stream = "stderr";
        chunk.data = "\n[hostline: " + std::to_string(m.size) +
                     " bytes of output lost: the agent sent them in a form that cannot be read (" +
                     raw.error().message + ")]\n";
    }
    std::uint64_t room =
        run->output_cap > rec.stored_bytes ? run->output_cap - rec.stored_bytes : 0;
    if (chunk.data.size() > room) {
        chunk.data.resize(room);
        chunk.compressed.clear();  // stored as the bytes kept
        rec.truncated = true;
    }
    rec.stored_bytes += chunk.data.size();
    rec.last_seq = m.seq;
    auto ack = acknowledge_when_stored(name, m.run_id, m.seq, Stored::output, sent_bytes);
    run->running_unsaved = false;  // saved below, as it is
    if (chunk.data.empty()) {
        store_.save_run(rec, ack);
        return;
    }
    store_.append_output(chunk, rec, ack);
    chunk.compressed = std::string();  // listeners get the bytes as written, and only them
    notify(rec.job_id, JobEvent{JobEvent::OutputAdded{std::move(chunk)}});
}

void Scheduler::handle(const std::string& name, proto::RunResult& m) {
    ActiveRun* run = next_in_sequence(name, m.run_id, m.seq);
    if (run == nullptr) return;
    RunRecord& rec = run->record;
    rec.last_seq = m.seq;
    if (m.status == "exited" || m.status == "timed_out" || m.status == "cancelled")
        rec.exit_code = m.exit_code >= 0 ? std::optional<int>(m.exit_code) : std::nullopt;
    if (m.signal != 0) rec.signal = m.signal;
    rec.started_at_ms = m.started_at_ms != 0 ? m.started_at_ms : rec.started_at_ms;
    rec.ended_at_ms = m.ended_at_ms != 0 ? m.ended_at_ms : now_ms();
    rec.stdout_bytes = m.stdout_bytes;
    rec.stderr_bytes = m.stderr_bytes;
    rec.truncated = rec.truncated || m.truncated;
    std::string error = m.error;
    if (m.status == "signaled" && error.empty())
        error = "killed by signal " + std::to_string(m.signal);
    if (m.status == "interrupted") error = "agent " + name + ": " + error;
    // Acknowledged once stored: the agent forgets the run only when we cannot.
    finish_run(*run, state_for_result(m), error,
               acknowledge_when_stored(name, m.run_id, m.seq, Stored::result));
}

void Scheduler::handle(const std::string& name, proto::Bye& m) {
    auto it = agents_.find(name);
    if (it == agents_.end()) return;
    logger->info("agent {} is leaving: {}", name, m.reason);
    mark_offline(it->second, "it said bye");
}

void Scheduler::handle(const std::string& name, proto::ErrorReply& m) {
    logger->warn("agent {} reported an error: {} ({})", name, m.message, m.code);
}

void Scheduler::handle(const std::string& name, proto::Enroll& m) {
    logger->info("agent {} asked to enroll (as '{}') with a key already accepted; refused", name,
                 m.agent_id);
    proto::EnrollReply refusal;
    refusal.agent_id = name;
    refusal.reason = "this host's key is already accepted as agent " + name +
                     ": it needs no enrollment (to enroll it anew, revoke it first)";
    send_(name, std::move(refusal));
}

template <typename Other>
void Scheduler::handle(const std::string& name, Other&) {
    logger->warn("agent {} sent '{}', which agents do not send; ignored", name, Other::kType);
    send_(name, proto::ErrorReply{"unexpected",
                                  std::string("agents do not send '") + Other::kType + "'"});
}

// ---- runs ------------------------------------------------------------------------------

void Scheduler::dispatch(const std::string& name) {
    if (auto it = agents_.find(name); it != agents_.end()) dispatch_agents({&it->second});
}

void Scheduler::send_run(ActiveRun& run) {
    auto job = jobs_.find(run.record.job_id);
    if (job == jobs_.end()) return;
    const Job& j = job->second.job;
    proto::Run m;
    m.run_id = static_cast<std::uint64_t>(run.record.id);
    m.job_id = static_cast<std::uint64_t>(j.id);
    m.argv = j.argv;
    m.env = j.env;
    m.cwd = j.cwd;
    m.user = j.run_as_user;
    m.group = j.run_as_group;
    m.script = proto::Bytes{j.script};
    m.script_sha256 = j.script_sha256;
    m.command = j.command;
    m.timeout_ms = run.timeout_ms;
    m.output_cap = run.output_cap;
    run.sent_at = Clock::now();
    logger->debug("job #{}: run {} (attempt {}) sent to agent {}", j.id, run.record.id,
                  run.record.attempt, run.record.agent);
    send_(run.record.agent, m);
}

std::uint64_t Scheduler::output_cap_of(const Job& job) const {
    return job.output_cap_bytes > 0 ? static_cast<std::uint64_t>(job.output_cap_bytes)
                                    : config_.output_cap_bytes;
}

void Scheduler::set_run_state(ActiveRun& run, RunState state, std::function<void()> on_committed) {
    if (run.record.state != state && !can_transition(run.record.state, state)) {
        logger->critical("run {}: illegal transition {} -> {}", run.record.id,
                         to_string(run.record.state), to_string(state));
        std::abort();
    }
    run.record.state = state;
    if (state == RunState::unknown) run.unknown_since = Clock::now();
    run.running_unsaved = false;  // saved now, as it is
    store_.save_run(run.record, std::move(on_committed));
    notify(run.record.job_id, JobEvent{JobEvent::RunChanged{run.record}});
}

void Scheduler::finish_run(ActiveRun& run, RunState state, std::string error,
                           std::function<void()> on_committed) {
    if (!error.empty()) run.record.error = std::move(error);
    if (run.record.ended_at_ms == 0 && state != RunState::skipped)
        run.record.ended_at_ms = now_ms();
    std::int64_t id = run.record.id;
    std::int64_t job_id = run.record.job_id;
    std::string agent_name = run.record.agent;
    set_run_state(run, state, std::move(on_committed));
    metrics_->run_finished(run.record);
    std::map<std::string, std::string> detail{{"job", std::to_string(job_id)},
                                              {"agent", agent_name},
                                              {"state", std::string(to_string(state))}};
    if (run.record.exit_code) detail["exit_code"] = std::to_string(*run.record.exit_code);
    if (run.record.signal) detail["signal"] = std::to_string(*run.record.signal);
    if (!run.record.error.empty()) detail["error"] = run.record.error;
    audit_.record({"run.finished", "agent:" + agent_name, "run:" + std::to_string(id), detail});
    auto agent = agents_.find(agent_name);
    if (agent != agents_.end()) {
        agent->second.active.erase(id);
        auto& q = agent->second.queue;
        q.erase(std::remove(q.begin(), q.end(), id), q.end());
        agent->second.info.running = static_cast<std::uint32_t>(agent->second.active.size());
    }
    // Concurrency and retries (scheduler_queue.cpp): a freed slot of a capped command or of
    // the capped fleet may start a run on any agent; a next attempt keeps the job going, and
    // keeps the host's place in a rollout's window (a failure retried is not yet a failure
    // for fail-fast). Otherwise the rollout may release the next host, or stop (fail-fast).
    auto job = jobs_.find(job_id);
    bool shared_slot = concurrency_.release(id) &&
                       (concurrency_.fleet_capped() ||
                        (job != jobs_.end() && rules_of(job->second.job.command).concurrency > 0));
    if (auto next = retry(run, state); next && job != jobs_.end() && job->second.rollout)
        job->second.rollout->retried(id, *next);
    else if (!next)
        rollout_run_finished(run.record);
    maybe_finish_job(job_id);
    if (shared_slot)
        dispatch_all();
    else if (agent != agents_.end())
        dispatch(agent_name);
}

void Scheduler::maybe_finish_job(std::int64_t job_id) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return;
    ActiveJob& active = it->second;
    if (active.job.state == JobState::pending_approval) return;  // no runs until approved
    // Called each time one of its runs ends: judging every run each time would make a job to
    // 10,000 agents cost 10,000 x 10,000 steps. A run that is not final keeps the job running
    // (it is its host's last attempt: a retry is made only once the attempt before it ended),
    // and the search for one resumes where it last stopped, so a job costs O(runs) in all.
    while (active.final_prefix < active.runs.size() &&
           is_final(runs_.at(active.runs[active.final_prefix]).record.state))
        ++active.final_prefix;
    JobState state = JobState::running;
    if (active.final_prefix == active.runs.size()) {
        std::vector<const RunRecord*> runs;
        for (std::int64_t id : active.runs) runs.push_back(&runs_.at(id).record);
        state = job_state_for(last_attempt_states(runs), active.job.cancel_requested);
    }
    if (state != active.job.state) {
        active.job.state = state;
        if (is_final(state)) {
            active.job.finished_at_ms = now_ms();
            metrics_->job_finished(state);
        }
        save_job(active.job);
    }
    if (!is_final(state)) return;
    logger->info("job #{} {}", job_id, to_string(state));
    for (std::int64_t id : active.runs) runs_.erase(id);
    jobs_.erase(it);
}

void Scheduler::save_job(const Job& job) {
    store_.save_job(job);
    notify(job.id, JobEvent{JobEvent::JobChanged{job}});
}

// ---- liveness --------------------------------------------------------------------------

void Scheduler::warn_about(const std::string& agent, const std::string& text) {
    if (agent_warnings_.admit("agent " + agent, Clock::now()))
        logger->warn("agent {} {}", agent, text);
}

void Scheduler::on_tick() {
    if (stopped_) return;
    auto now = Clock::now();
    for (const auto& s : agent_warnings_.expire(now))
        logger->warn("{}: {} more warnings held back in the last {} s", s.key, s.suppressed,
                     std::chrono::duration_cast<std::chrono::seconds>(s.interval).count());
    // Not here but once the io thread has handled what it had queued by now: at fleet scale
    // under load, heartbeats wait there, and an agent was marked offline for heartbeats the
    // controller had received and not yet handled (docs/performance.md, "Fleet scale").
    liveness_timer_.expires_after(std::chrono::milliseconds(0));
    liveness_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) check_liveness();
    });
    pace_heartbeats();
    std::vector<std::int64_t> lost;
    for (auto& [id, run] : runs_) {
        RunState s = run.record.state;
        if (is_final(s)) continue;
        auto agent = agents_.find(run.record.agent);
        bool online = agent != agents_.end() && agent->second.info.online && agent->second.session;
        if (!online &&
            (s == RunState::unknown || s == RunState::dispatched || s == RunState::queued) &&
            run.unknown_since != Clock::time_point{} &&
            now - run.unknown_since > config_.agent_grace) {
            lost.push_back(id);
        } else if (online && s == RunState::dispatched && !run.cancel_sent &&
                   now - run.sent_at > kResendRun) {
            send_run(run);  // no run_ack yet
        } else if (online && run.cancel_sent && now - run.sent_at > kResendRun) {
            run.sent_at = now;
            send_(run.record.agent, proto::Cancel{static_cast<std::uint64_t>(id)});
        }
    }
    for (std::int64_t id : lost) {
        auto it = runs_.find(id);
        if (it != runs_.end())
            finish_run(it->second, RunState::lost,
                       "agent " + it->second.record.agent + " did not come back within " +
                           std::to_string(config_.agent_grace.count() / 1000) + "s");
    }
    dispatch_all();  // retries whose backoff ended
    tell_queue_positions();
    tick_timer_.expires_after(kTick);
    tick_timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) on_tick();
    });
}

void Scheduler::check_liveness() {
    if (stopped_) return;
    // Heartbeats may be among the messages the transport leaves unread meanwhile.
    if (config_.inbound_paused && config_.inbound_paused()) return;
    collect_heartbeats();
    const auto now = Clock::now();
    for (auto& [name, agent] : agents_) {
        if (agent.info.online && now - agent.last_heard > 3 * judged_heartbeat_)
            mark_offline(agent, "missed 3 heartbeats");
    }
}

proto::Heartbeat Scheduler::heartbeat_reply() const {
    return proto::Heartbeat{0, static_cast<std::uint32_t>(heartbeat_.count())};
}

void Scheduler::pace_heartbeats() {
    const auto now = Clock::now();
    if (judged_heartbeat_ != heartbeat_ && now >= judged_until_) judged_heartbeat_ = heartbeat_;
    if (config_.max_heartbeats_per_second == 0) return;
    std::size_t in_session = 0;
    for (const auto& [name, agent] : agents_) in_session += agent.session ? 1 : 0;
    // Whole seconds above the configured heartbeat, so that it changes once per `rate` agents.
    const auto needed = std::chrono::ceil<std::chrono::seconds>(
        std::chrono::milliseconds(in_session * 1000 / config_.max_heartbeats_per_second));
    const auto paced = std::clamp<std::chrono::milliseconds>(
        needed, config_.heartbeat,
        std::max<std::chrono::milliseconds>(config_.heartbeat, kMaxHeartbeat));
    if (paced == heartbeat_) return;
    logger->info(
        "heartbeat {} ms for {} agents in session (at most {} heartbeats a second; "
        "controller.heartbeat {} ms)",
        paced.count(), in_session, config_.max_heartbeats_per_second, config_.heartbeat.count());
    // Longer: judged by it at once (agents still on the shorter one are only heard more
    // often). Shorter: by the longer one until every agent has heartbeated and been told.
    if (paced > heartbeat_) {
        judged_heartbeat_ = paced;
    } else {
        judged_heartbeat_ = std::max(judged_heartbeat_, heartbeat_);
        judged_until_ = now + 2 * heartbeat_;
    }
    heartbeat_ = paced;
    presence_.set_reply(proto::encode(heartbeat_reply()));
}

void Scheduler::collect_heartbeats() {
    const auto now = Clock::now();
    const std::int64_t now_wall = now_ms();
    for (auto& [name, at] : presence_.take_heard()) {
        auto it = agents_.find(name);
        if (it == agents_.end() || !it->second.session) continue;  // gone since
        AgentState& agent = it->second;
        agent.last_heard = std::max(agent.last_heard, at);
        agent.info.last_seen_ms = std::max(
            agent.info.last_seen_ms,
            now_wall - std::chrono::duration_cast<std::chrono::milliseconds>(now - at).count());
    }
}

void Scheduler::mark_offline(AgentState& agent, const char* why) {
    agent.info.online = false;
    agent.session = false;
    presence_.close(agent.info.name);
    logger->warn("agent {} is offline: {}", agent.info.name, why);
    auto now = Clock::now();
    for (std::int64_t id : agent.active) {
        auto it = runs_.find(id);
        if (it == runs_.end()) continue;
        if (it->second.record.state == RunState::running)
            set_run_state(it->second, RunState::unknown);
        it->second.unknown_since = now;
    }
    for (std::int64_t id : agent.queue) {
        auto it = runs_.find(id);
        if (it != runs_.end()) it->second.unknown_since = now;
    }
}

// ---- JobService ------------------------------------------------------------------------

Result<Job> Scheduler::prepare_job(const SubmitRequest& request, SubmitReply& reply) {
    if (request.argv.empty() || request.argv[0].empty())
        return fail("argv is empty: say what to run");
    auto expr = target::TargetExpr::parse(request.target, config_.groups);
    if (!expr) return expr.error();
    if (request.timeout_ms && *request.timeout_ms <= 0) return fail("timeout must be positive");
    if (request.output_cap_bytes && *request.output_cap_bytes <= 0)
        return fail("output cap must be positive");
    if (!request.run_as_user.empty() && !is_account_name(request.run_as_user))
        return fail("user '" + request.run_as_user + "' is not a valid user name");
    if (!request.run_as_group.empty() && !is_account_name(request.run_as_group))
        return fail("group '" + request.run_as_group + "' is not a valid group name");
    if (request.batch_wait.count() < 0) return fail("--batch-wait must not be negative");
    if (request.batch_wait.count() > 0 && !request.batch)
        return fail("--batch-wait needs --batch: a pause between what?");

    for (const auto& [name, agent] : agents_) {
        if (!expr->matches(target::Host{name, agent.info.labels})) continue;
        (takes_runs(agent) ? reply.matched : reply.offline).push_back(name);
    }
    if (reply.matched.empty() && reply.offline.empty()) {
        std::vector<std::string> known;
        for (const auto& [name, agent] : agents_) known.push_back(name);
        return fail(
            "no agent matches '" + request.target + "'" +
            (known.empty() ? " (no agents have connected yet)" : " (known: " + join(known) + ")"));
    }
    if (auto busy = refuse_if_busy(request.command); !busy) return busy.error();

    Job job;
    job.id = next_job_id_++;
    job.requester = request.requester;
    job.source = request.source;
    job.schedule_id = request.schedule_id;
    job.target = request.target;
    job.argv = request.argv;
    job.env = request.env;
    job.cwd = request.cwd;
    job.run_as_user = request.run_as_user;
    job.run_as_group = request.run_as_group;
    job.script = request.script;
    job.script_sha256 = request.script_sha256;
    job.command = request.command;
    if (request.batch) job.batch = to_string(*request.batch);
    job.batch_wait_ms = request.batch_wait.count();
    job.fail_fast = request.fail_fast;
    job.timeout_ms = request.timeout_ms.value_or(config_.default_timeout.count());
    job.output_cap_bytes = request.output_cap_bytes.value_or(0);
    job.state = JobState::running;
    job.created_at_ms = now_ms();
    reply.job_id = job.id;
    return job;
}

void Scheduler::start_runs(ActiveJob& active, const std::vector<std::string>& online,
                           const std::vector<std::string>& offline) {
    const Job& job = active.job;
    auto add_run = [&](const std::string& agent, RunState state) {
        ActiveRun& run = runs_[next_run_id_];
        run.record.id = next_run_id_++;
        run.record.job_id = job.id;
        run.record.agent = agent;
        run.record.state = state;
        if (state == RunState::skipped) {
            auto known = agents_.find(agent);
            bool draining = known != agents_.end() && known->second.info.draining;
            run.record.error = "agent " + agent + (draining ? " is draining" : " was offline");
        }
        run.timeout_ms = static_cast<std::uint64_t>(job.timeout_ms);
        run.output_cap = output_cap_of(job);
        active.runs.push_back(run.record.id);
        store_.save_run(run.record);
        // A rollout's runs wait for their turn off the agents' queues (start_rollout).
        if (state == RunState::queued && !has_rollout(job))
            agents_[agent].queue.push_back(run.record.id);
    };
    for (const std::string& name : online) add_run(name, RunState::queued);
    for (const std::string& name : offline) add_run(name, RunState::skipped);
    logger->info("job #{} by {}: {} on {} host(s){}", job.id, job.requester, job.argv[0],
                 online.size(), offline.empty() ? "" : " (" + join(offline) + " offline)");

    std::map<std::string, std::string> detail{{"target", job.target},
                                              {"argv", audit_argv(job.argv)},
                                              {"source", job.source},
                                              {"hosts", join(online)}};
    if (!offline.empty()) detail["offline"] = join(offline);
    if (!job.script_sha256.empty()) detail["script_sha256"] = job.script_sha256;
    if (!job.run_as_user.empty()) detail["user"] = job.run_as_user;
    audit_.record({"job.created", job.requester, "job:" + std::to_string(job.id), detail});

    std::int64_t job_id = job.id;
    if (has_rollout(job)) start_rollout(active);
    for (const std::string& name : online) dispatch(name);
    maybe_finish_job(job_id);  // every host offline: finished already
}

Result<SubmitReply> Scheduler::submit(const SubmitRequest& request) {
    SubmitReply reply;
    auto job = prepare_job(request, reply);
    if (!job) return job.error();
    ActiveJob& active = jobs_[job->id];
    active.job = std::move(*job);
    store_.save_job(active.job);
    start_runs(active, reply.matched, reply.offline);
    return reply;
}

// ---- HeldJobs ----------------------------------------------------------------------------

Result<SubmitReply> Scheduler::hold(const SubmitRequest& request) {
    SubmitReply reply;
    auto job = prepare_job(request, reply);
    if (!job) return job.error();
    job->state = JobState::pending_approval;
    ActiveJob& active = jobs_[job->id];
    active.job = std::move(*job);
    save_job(active.job);
    logger->info("job #{} by {}: {} awaits approval ({} host(s))", active.job.id,
                 active.job.requester, active.job.argv[0],
                 reply.matched.size() + reply.offline.size());
    return reply;
}

Result<SubmitReply> Scheduler::release(std::int64_t job_id, const std::vector<std::string>& hosts) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || it->second.job.state != JobState::pending_approval)
        return fail("no job #" + std::to_string(job_id) + " awaits approval");
    ActiveJob& active = it->second;
    SubmitReply reply;
    reply.job_id = job_id;
    // Exactly the approved hosts: an agent that matches the target only now gets nothing.
    for (const std::string& name : hosts) {
        auto agent = agents_.find(name);
        bool online = agent != agents_.end() && takes_runs(agent->second);
        (online ? reply.matched : reply.offline).push_back(name);
    }
    active.job.state = JobState::running;
    save_job(active.job);
    start_runs(active, reply.matched, reply.offline);
    return reply;
}

std::vector<std::int64_t> Scheduler::held() const {
    std::vector<std::int64_t> ids;
    for (const auto& [id, active] : jobs_)
        if (active.job.state == JobState::pending_approval) ids.push_back(id);
    return ids;
}

Result<void> Scheduler::close_held(std::int64_t job_id, JobState state) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end() || it->second.job.state != JobState::pending_approval)
        return fail("no job #" + std::to_string(job_id) + " awaits approval");
    if (!is_final(state)) return fail("a held job can only end in a final state");
    it->second.job.state = state;
    it->second.job.finished_at_ms = now_ms();
    metrics_->job_finished(state);
    save_job(it->second.job);
    logger->info("job #{} {}", job_id, to_string(state));
    jobs_.erase(it);
    return {};
}

Result<void> Scheduler::cancel(std::int64_t job_id) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return fail("no active job #" + std::to_string(job_id));
    ActiveJob& active = it->second;
    if (active.job.state == JobState::pending_approval)
        return fail("job #" + std::to_string(job_id) +
                    " awaits approval and has not started: deny it instead");
    active.job.cancel_requested = true;
    save_job(active.job);
    logger->info("job #{}: cancel requested", job_id);
    for (std::int64_t id : std::vector<std::int64_t>(active.runs)) {
        auto r = runs_.find(id);
        if (r == runs_.end()) continue;
        ActiveRun& run = r->second;
        if (is_final(run.record.state)) continue;
        if (run.record.state == RunState::queued) {
            finish_run(run, RunState::cancelled, "cancelled before it started");
            if (jobs_.find(job_id) == jobs_.end()) return {};
            continue;
        }
        run.cancel_sent = true;
        run.sent_at = Clock::now();
        send_(run.record.agent, proto::Cancel{static_cast<std::uint64_t>(id)});
    }
    return {};
}

std::vector<AgentInfo> Scheduler::agents() const {
    std::vector<AgentInfo> out;
    for (const auto& [name, agent] : agents_) out.push_back(agent.info);
    return out;
}

Scheduler::Load Scheduler::load() const {
    Load load;
    load.jobs_active = jobs_.size();
    for (const auto& [id, run] : runs_)
        if (run.record.state == RunState::queued) ++load.runs_queued;
    for (const auto& [name, agent] : agents_) {
        ++(agent.info.online ? load.agents_online : load.agents_offline);
        load.runs_running += agent.info.running;
    }
    return load;
}

Result<AgentInfo> Scheduler::set_draining(const std::string& name, bool draining,
                                          const std::string& actor) {
    auto it = agents_.find(name);
    if (it == agents_.end()) return fail("there is no agent named '" + name + "'");
    AgentState& agent = it->second;
    if (agent.info.draining != draining) {
        agent.info.draining = draining;
        logger->info("agent {} {} by {}", name, draining ? "is draining" : "is undrained", actor);
        audit_.record({draining ? "agent.drained" : "agent.undrained", actor, "agent:" + name, {}});
        if (!draining) dispatch(name);
    }
    return agent.info;
}

void Scheduler::list_jobs(const JobQuery& query, Callback<std::vector<Job>> done) {
    store_.list_jobs(query, std::move(done));
}

void Scheduler::job(std::int64_t job_id, Callback<JobDetail> done) {
    store_.job(job_id, [this, done = std::move(done)](Result<JobDetail> detail) {
        if (detail) fill_queue_positions(detail->runs);
        done(std::move(detail));
    });
}

void Scheduler::output(std::int64_t job_id, Callback<std::vector<OutputChunk>> done) {
    store_.output(job_id, std::move(done));
}

void Scheduler::output_range(std::int64_t job_id, const OutputRange& range,
                             Callback<OutputSlice> done) {
    store_.output_range(job_id, range, std::move(done));
}

std::optional<std::string> Scheduler::active_requester(std::int64_t job_id) const {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) return std::nullopt;
    return it->second.job.requester;
}

void Scheduler::subscribe(std::int64_t job_id, std::function<void(const JobEvent&)> listener,
                          Callback<std::uint64_t> subscribed) {
    if (subscriptions_.size() >= kMaxSubscriptions) {
        logger->warn("refused a live subscription to job #{}: {} are open already", job_id,
                     subscriptions_.size());
        subscribed(fail("too many live job streams are open (" + std::to_string(kMaxSubscriptions) +
                        "); try again later"));
        return;
    }
    std::uint64_t id = next_subscription_++;
    // Registered before the snapshot is read: the store answers reads after every write
    // queued before them, and every later change is buffered here, so nothing falls between.
    subscriptions_[id] = Subscription{job_id, std::move(listener), false, {}};
    start_snapshot(id, std::move(subscribed));
}

void Scheduler::start_snapshot(std::uint64_t id, Callback<std::uint64_t> subscribed) {
    std::int64_t job_id = subscriptions_.at(id).job_id;
    // An active job with no output stored is all in memory: taken now, it is what every later
    // event follows, so it needs no read (a short job's events stream then costs the store
    // nothing). Answered once subscribe() has returned, as a read would be.
    if (auto detail = detail_in_memory(job_id)) {
        boost::asio::post(io_, [this, id, subscribed = std::move(subscribed),
                                detail = std::move(*detail)]() mutable {
            deliver_snapshot(id, subscribed, std::move(detail), {});
        });
        return;
    }
    // Both reads are queued now, before any later write, so together they are one snapshot.
    auto detail = std::make_shared<std::optional<Result<JobDetail>>>();
    store_.job(job_id, [detail](Result<JobDetail> d) { *detail = std::move(d); });
    store_.output(job_id, [this, id, detail, subscribed](Result<std::vector<OutputChunk>> output) {
        if (!subscriptions_.contains(id)) return;  // unsubscribed meanwhile
        if (!detail->has_value() || !detail->value() || !output) {
            subscriptions_.erase(id);
            subscribed(detail->has_value() && !detail->value() ? detail->value().error()
                       : output                                ? fail("store read failed")
                                                               : output.error());
            return;
        }
        deliver_snapshot(id, subscribed, std::move(detail->value().value()), std::move(*output));
    });
}

std::optional<JobDetail> Scheduler::detail_in_memory(std::int64_t job_id) const {
    auto job = jobs_.find(job_id);
    if (job == jobs_.end()) return std::nullopt;
    JobDetail detail{job->second.job, {}};
    for (std::int64_t id : job->second.runs) {  // in id order, as the store lists them
        const RunRecord& run = runs_.at(id).record;
        if (run.stored_bytes > 0) return std::nullopt;  // its output is in the store alone
        detail.runs.push_back(run);
    }
    return detail;
}

void Scheduler::deliver_snapshot(std::uint64_t id, const Callback<std::uint64_t>& subscribed,
                                 JobDetail snapshot, std::vector<OutputChunk> output) {
    if (!subscriptions_.contains(id)) return;  // unsubscribed meanwhile
    fill_queue_positions(snapshot.runs);
    subscribed(id);
    auto deliver = [this, id](const JobEvent& e) {
        auto s = subscriptions_.find(id);
        if (s != subscriptions_.end()) s->second.listener(e);
    };
    for (const RunRecord& r : snapshot.runs) deliver(JobEvent{JobEvent::RunChanged{r}});
    for (OutputChunk& c : output) deliver(JobEvent{JobEvent::OutputAdded{std::move(c)}});
    deliver(JobEvent{JobEvent::JobChanged{snapshot.job}});
    auto s = subscriptions_.find(id);
    if (s == subscriptions_.end()) return;
    if (is_final(snapshot.job.state)) {
        subscriptions_.erase(s);
        return;
    }
    std::vector<JobEvent> buffered = std::move(s->second.buffered);
    s->second.live = true;
    for (const JobEvent& e : buffered) {
        deliver(e);
        const auto* changed = std::get_if<JobEvent::JobChanged>(&e.what);
        if (changed != nullptr && is_final(changed->job.state)) {
            subscriptions_.erase(id);
            return;
        }
    }
}

void Scheduler::unsubscribe(std::uint64_t subscription) {
    subscriptions_.erase(subscription);
}

void Scheduler::when_stored(std::function<void()> done) {
    store_.flush(std::move(done));
}

void Scheduler::notify(std::int64_t job_id, const JobEvent& event) {
    const auto* changed = std::get_if<JobEvent::JobChanged>(&event.what);
    bool last = changed != nullptr && is_final(changed->job.state);
    std::vector<std::uint64_t> ids;
    for (const auto& [id, s] : subscriptions_)
        if (s.job_id == job_id) ids.push_back(id);
    for (std::uint64_t id : ids) {
        auto it = subscriptions_.find(id);
        if (it == subscriptions_.end()) continue;
        if (!it->second.live) {
            it->second.buffered.push_back(event);
            continue;
        }
        it->second.listener(event);
        if (last) subscriptions_.erase(id);
    }
}

}  // namespace hostline::controller
