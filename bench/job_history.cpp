#include "bench/job_history.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <future>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "controller/store/store.hpp"

namespace hostline::bench {
namespace {

using controller::AgentRecord;
using controller::Job;
using controller::JobState;
using controller::OutputChunk;
using controller::RunRecord;
using controller::RunState;
using controller::Store;

// Jobs queued between waits for their commit: bounds the store's queue, and paces the
// progress lines.
constexpr int kJobsPerBatch = 5000;

// Who asks: the CI token most of the time (pipelines deploy and restart through the API), the
// people the rest. So skewed that `requester=token:ci` fills a page of 50 even among 100 jobs,
// and the job-list bench can compare a requester filter like for like (docs/performance.md).
constexpr int kCiPercent = 80;
constexpr std::array kPeople{"token:admin", "local:alice", "local:bob", "slack:carol", "irc:dave"};

// One draw of the generator, whatever it picks: every later field gets the same draws as
// with an even mix, so the other filters' answers do not depend on this skew.
const char* requester(std::uint32_t draw) {
    const std::uint32_t roll = draw % 100;
    if (roll < kCiPercent) return "token:ci";
    return kPeople[(roll - kCiPercent) % kPeople.size()];
}
constexpr std::array kSources{"api", "cli", "#ops", "#deploys"};

struct Program {
    const char* command;  // catalog command name; empty: ad-hoc
    std::vector<std::string> argv;
};

const std::vector<Program>& programs() {
    static const std::vector<Program> all{
        {"deploy", {"/opt/deploy/bin/deploy", "--release", "2026.11.3"}},
        {"restart", {"systemctl", "restart", "nginx"}},
        {"disk-usage", {"df", "-h", "/"}},
        {"logs", {"journalctl", "-u", "app", "-n", "200"}},
        {"", {"uptime"}},
        {"", {"systemctl", "status", "postgresql"}},
        {"", {"df", "-i"}},
    };
    return all;
}

std::vector<std::string> host_names() {
    std::vector<std::string> names;
    auto add = [&](const char* role, int count) {
        for (int i = 1; i <= count; ++i) {
            char name[32];
            std::snprintf(name, sizeof name, "%s-%02d", role, i);
            names.emplace_back(name);
        }
    };
    add("web", 20);
    add("db", 10);
    add("cache", 10);
    add("batch", 10);
    return names;
}

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// A finished job's state, and each of its runs' (partial needs two runs or more).
JobState final_state(std::mt19937& random, std::size_t runs) {
    const int roll = static_cast<int>(random() % 100);
    if (roll < 62) return JobState::succeeded;
    if (roll < 80) return JobState::failed;
    if (roll < 85) return runs > 1 ? JobState::partial : JobState::failed;
    if (roll < 92) return JobState::timed_out;
    return JobState::cancelled;
}

RunState run_state(JobState job, std::size_t index) {
    switch (job) {
        case JobState::succeeded:
            return RunState::succeeded;
        case JobState::partial:
            return index == 0 ? RunState::succeeded : RunState::failed;
        case JobState::timed_out:
            return RunState::timed_out;
        case JobState::cancelled:
            return RunState::cancelled;
        case JobState::running:
            return RunState::running;
        default:
            return RunState::failed;
    }
}

// Waits until everything queued so far is committed.
void wait_committed(Store& store) {
    std::promise<void> committed;
    store.flush([&committed] { committed.set_value(); });
    committed.get_future().wait();
}

}  // namespace

void fill_job_history(const std::string& database_path, const JobHistory& history,
                      const FillProgress& progress) {
    // The store's own log (each migration applied) is the controller's business, not the
    // bench's output.
    spdlog::set_level(spdlog::level::warn);
    // Completions run on the store thread itself: nothing here has an io_context, and the
    // only completion is wait_committed()'s, which just wakes this thread.
    auto opened = Store::open(database_path, [](std::function<void()> done) { done(); });
    if (!opened) throw std::runtime_error(opened.error().message);
    Store& store = **opened;

    const std::vector<std::string> hosts = host_names();
    const std::int64_t now = now_ms();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
        AgentRecord agent;
        agent.name = hosts[i];
        agent.public_key = std::string(40, static_cast<char>('A' + i % 26));
        agent.hostname = hosts[i] + ".example.net";
        agent.version = "0.1.0";
        agent.labels = {{"role", hosts[i].substr(0, hosts[i].find('-'))}, {"env", "prod"}};
        agent.capacity = 4;
        agent.last_seen_ms = now - 60'000;
        store.save_agent(agent);
    }

    std::mt19937 random(6);  // the same history on every run
    const std::int64_t first_created = now - static_cast<std::int64_t>(history.jobs) * 60'000;
    std::int64_t run_id = 0;
    for (int i = 1; i <= history.jobs; ++i) {
        const Program& program = programs()[random() % programs().size()];
        const std::size_t run_count = 1 + random() % 3;
        const std::size_t first_host = random() % hosts.size();

        Job job;
        job.id = i;
        job.requester = requester(static_cast<std::uint32_t>(random()));
        job.source = kSources[random() % kSources.size()];
        job.argv = program.argv;
        job.command = program.command;
        job.timeout_ms = 600'000;
        job.created_at_ms = first_created + static_cast<std::int64_t>(i) * 60'000;
        const bool running = i > history.jobs - history.running;
        job.state = running ? JobState::running : final_state(random, run_count);
        job.cancel_requested = job.state == JobState::cancelled;
        for (std::size_t r = 0; r < run_count; ++r)
            job.target += (r ? "," : "") + hosts[(first_host + r) % hosts.size()];

        std::vector<RunRecord> runs;
        for (std::size_t r = 0; r < run_count; ++r) {
            RunRecord run;
            run.id = ++run_id;
            run.job_id = job.id;
            run.agent = hosts[(first_host + r) % hosts.size()];
            run.state = run_state(job.state, r);
            run.started_at_ms = job.created_at_ms + 40;
            if (!running) {
                run.ended_at_ms = run.started_at_ms + static_cast<std::int64_t>(random() % 30'000);
                job.finished_at_ms = std::max(job.finished_at_ms, run.ended_at_ms);
                if (run.state == RunState::succeeded) run.exit_code = 0;
                if (run.state == RunState::failed) run.exit_code = 1;
                if (run.state == RunState::timed_out || run.state == RunState::cancelled)
                    run.signal = 15;
                run.last_seq = 1;  // the result
            }
            runs.push_back(run);
        }

        store.save_job(job);
        for (RunRecord& run : runs) {
            if (i % 10 != 0) {
                store.save_run(run);
                continue;
            }
            OutputChunk chunk;
            chunk.run_id = run.id;
            chunk.seq = 1;
            chunk.stream = "stdout";
            chunk.data = job.argv[0] + " on " + run.agent + ": step 1/3 done\nstep 2/3 done\n" +
                         (run.state == RunState::failed ? "error: exit status 1\n" : "ok\n");
            run.stdout_bytes = chunk.data.size();
            run.stored_bytes = chunk.data.size();
            run.last_seq = running ? 1 : 2;
            store.append_output(chunk, run);
        }

        if (i % kJobsPerBatch == 0 || i == history.jobs) {
            wait_committed(store);
            if (progress) progress(i);
        }
    }
}

}  // namespace hostline::bench
