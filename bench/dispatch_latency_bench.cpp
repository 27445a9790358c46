#include "bench/dispatch_latency_bench.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/cluster_api.hpp"
#include "bench/keep_alive_client.hpp"
#include "bench/process_cpu.hpp"
#include "cli/api_client.hpp"
#include "testing/local_cluster.hpp"

extern char** environ;

namespace hostline::bench {
namespace {

using Clock = std::chrono::steady_clock;
using hostline::testing::LocalCluster;

// The issue's targets for scenario 1.
constexpr double kTargetP50 = 2.0;
constexpr double kTargetP99 = 5.0;
constexpr const char* kAgent = "latency-1";

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// The baseline: what starting /bin/true and waiting for it costs with nothing in between.
double spawn_true() {
    const auto start = Clock::now();
    pid_t pid;
    char arg0[] = "/bin/true";
    char* argv[] = {arg0, nullptr};
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0)
        throw std::runtime_error("posix_spawn of /bin/true failed");
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("/bin/true did not exit 0");
    return ms_between(start, Clock::now());
}

// One job, timed as a user sees it: the submit (answered once the job is committed), then
// its events until the final one.
struct JobTiming {
    double submitted_ms = 0;  // POST /api/v1/jobs -> 201
    double total_ms = 0;      // POST -> the final `job` event
};

// The state of the last `job` event in a whole events stream.
std::string final_state_in(std::string_view ndjson) {
    std::string state;
    std::size_t start = 0;
    for (std::size_t end; (end = ndjson.find('\n', start)) != std::string::npos; start = end + 1)
        if (auto job = job_state_in(ndjson.substr(start, end - start))) state = *job;
    return state;
}

// As a client that follows job after job does: one kept connection for the submit and the
// events stream (which ends with the job and leaves the connection for the next request).
JobTiming run_true_kept(KeepAliveClient& http) {
    static const std::string body =
        nlohmann::json{{"target", kAgent}, {"argv", {"/bin/true"}}}.dump();
    const auto start = Clock::now();
    const Answer submitted = http.post("/api/v1/jobs", body);
    if (submitted.status != 201)
        throw std::runtime_error("submit answered " + std::to_string(submitted.status) + ": " +
                                 submitted.body);
    const auto acknowledged = Clock::now();
    const long id = nlohmann::json::parse(submitted.body).at("job");
    const Answer events = http.get("/api/v1/jobs/" + std::to_string(id) + "/events");
    const auto ended = Clock::now();
    const std::string state = final_state_in(events.body);
    if (events.status != 200 || state != "succeeded")
        throw std::runtime_error("job #" + std::to_string(id) + " on " + kAgent + " ended '" +
                                 state + "' (events answered " + std::to_string(events.status) +
                                 ")");
    return {ms_between(start, acknowledged), ms_between(start, ended)};
}

// As the CLI does: a new connection for each request.
JobTiming run_true(hostline::cli::ApiClient& api) {
    const auto start = Clock::now();
    auto submitted = api.post("/api/v1/jobs", {{"target", kAgent}, {"argv", {"/bin/true"}}});
    if (!submitted) throw std::runtime_error("submit failed: " + submitted.error().message);
    const auto acknowledged = Clock::now();
    const long id = (*submitted)["job"];
    auto state = follow_to_final_state(api, id);
    const auto ended = Clock::now();
    if (!state || *state != "succeeded")
        throw std::runtime_error("job #" + std::to_string(id) + " on " + kAgent + " ended " +
                                 (state ? "'" + *state + "'" : state.error().message));
    return {ms_between(start, acknowledged), ms_between(start, ended)};
}

}  // namespace

std::vector<ReportRow> run_dispatch_latency_bench(const DispatchLatencySettings& settings) {
    LocalCluster cluster(settings.bin_dir);
    cluster.set_log_level("warn");
    cluster.start_controller();
    cluster.add_agent(kAgent, {.capacity = 4});
    cluster.wait_online({kAgent}, std::chrono::minutes(1));
    auto api = client_for(cluster);
    KeepAliveClient http(cluster.http_url(), admin_token_of(cluster));

    std::fprintf(stderr,
                 "(a) %d x /bin/true on one agent over one kept connection, each followed by "
                 "one over new connections (as the CLI) and a posix_spawn+waitpid (after %d "
                 "untimed jobs)\n",
                 settings.runs, settings.warm_up);
    for (int i = 0; i < settings.warm_up; ++i) {
        run_true_kept(http);
        run_true(api);
    }
    std::vector<double> total, submit, rest, fresh, bare;
    for (int i = 0; i < settings.runs; ++i) {
        const JobTiming t = run_true_kept(http);
        total.push_back(t.total_ms);
        submit.push_back(t.submitted_ms);
        rest.push_back(t.total_ms - t.submitted_ms);
        fresh.push_back(run_true(api).total_ms);
        bare.push_back(spawn_true());
    }
    const double bare_p50 = percentile(bare, 0.5);

    // Where a job's CPU goes, steadier than its wall time on a shared machine: as many kept-
    // connection jobs again, untimed, with each process's seconds on a CPU around them, then as
    // many bare spawns with the bench's own (the spawning thread and the reaped child).
    const pid_t controller = cluster.controller_pid(), agent = cluster.agent_pid(kAgent);
    const double controller_before = cpu_seconds_of(controller);
    const std::vector<ThreadCpu> threads_before = controller_threads(controller);
    const double agent_before = cpu_seconds_of(agent);
    const double runs_before = reaped_children_seconds(agent);
    const double client_before = bench_process_cpu_seconds();
    for (int i = 0; i < settings.runs; ++i) run_true_kept(http);
    const double client_after = bench_process_cpu_seconds();
    for (int i = 0; i < settings.runs; ++i) spawn_true();
    const double per_job = 1000.0 / settings.runs;  // seconds in all -> ms a job
    const double bare_cpu = (bench_process_cpu_seconds() - client_after) * per_job;
    const double controller_cpu = (cpu_seconds_of(controller) - controller_before) * per_job;
    const double agent_cpu = (cpu_seconds_of(agent) - agent_before) * per_job;
    const double run_cpu = (reaped_children_seconds(agent) - runs_before) * per_job;
    const double client_cpu = (client_after - client_before) * per_job;
    std::fprintf(stderr,
                 "(a) CPU a job over %d more: controller %.3f ms (%s), agent %.3f, the run %.3f, "
                 "the client %.3f; a bare spawn %.3f (its thread and child)\n",
                 settings.runs, controller_cpu,
                 cpu_since(threads_before, controller_threads(controller), per_job, 3).c_str(),
                 agent_cpu, run_cpu, client_cpu, bare_cpu);

    return {
        {"(a) /bin/true on 1 agent, p50", percentile(total, 0.5), bare_p50, kTargetP50},
        {"(a) /bin/true on 1 agent, p99", percentile(total, 0.99), percentile(bare, 0.99),
         kTargetP99},
        // Context: which half of the job the time is in (baseline: the bare spawn's p50).
        {"(a)   of which submit -> 201 (committed), p50", percentile(submit, 0.5), bare_p50},
        {"(a)   of which 201 -> final event, p50", percentile(rest, 0.5), bare_p50},
        // Context: a client that connects for each request (the CLI, curl), same jobs.
        {"(a)   new connections per request (as the CLI), p50", percentile(fresh, 0.5), bare_p50},
        {"(a)   new connections per request (as the CLI), p99", percentile(fresh, 0.99),
         percentile(bare, 0.99)},
        // Context: CPU a job (baseline: a bare spawn's, the spawning thread and its child).
        {"(a)   CPU a job: controller, all threads", controller_cpu, bare_cpu},
        {"(a)   CPU a job: agent, all threads (not the run)", agent_cpu, bare_cpu},
        {"(a)   CPU a job: the run (/bin/true, as the agent reaps it)", run_cpu, bare_cpu},
        {"(a)   CPU a job: the client (this bench)", client_cpu, bare_cpu},
    };
}

}  // namespace hostline::bench
