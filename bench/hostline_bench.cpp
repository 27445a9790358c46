// hostline-bench: Hostline's dispatch latency and fan-out, each beside its baseline in the
// same run, reported as ratios (docs/performance.md records the figures).
//
//   (a) submit -> result of /bin/true on one agent, against posix_spawn + waitpid
//   (b) wall time of `true` on 100 agents, against `seq 100 | xargs -P64 -n1 true`
//
// A benchmark, not a test: it prints what it measured and asserts nothing.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.hpp"
#include "testing/local_cluster.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
using hostline::testing::LocalCluster;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double p) {
    std::sort(values.begin(), values.end());
    std::size_t index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
    return values[std::min(index, values.size() - 1)];
}

double spawn_true() {
    auto start = Clock::now();
    pid_t pid;
    char arg0[] = "/bin/true";
    char* argv[] = {arg0, nullptr};
    if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, argv, environ) != 0) return -1;
    int status;
    waitpid(pid, &status, 0);
    return ms_since(start);
}

hostline::cli::ApiClient client_for(const LocalCluster& cluster) {
    auto url = hostline::cli::parse_controller_url(cluster.http_url());
    std::ifstream in(cluster.token_file());
    std::string token;
    std::getline(in, token);
    return hostline::cli::ApiClient(*url, {token, cluster.token_file()});
}

// Submits argv on target and waits for the job's final event; returns the wall time in ms.
double run_job(hostline::cli::ApiClient& api, const std::string& target,
               const std::vector<std::string>& argv) {
    auto start = Clock::now();
    auto submitted = api.post("/api/v1/jobs", {{"target", target}, {"argv", argv}});
    if (!submitted) throw std::runtime_error("submit failed: " + submitted.error().message);
    long id = (*submitted)["job"];
    std::string state;
    auto streamed = api.stream_lines("/api/v1/jobs/" + std::to_string(id) + "/events",
                                     [&](std::string_view line) {
                                         auto event = nlohmann::json::parse(line, nullptr, false);
                                         if (event.value("type", "") != "job") return true;
                                         state = event["job"].value("state", "");
                                         return state == "running" || state == "queued";
                                     });
    double elapsed = ms_since(start);
    if (!streamed || state != "succeeded") {
        std::fprintf(stderr, "job #%ld ended %s\n", id, state.c_str());
        if (auto detail = api.get("/api/v1/jobs/" + std::to_string(id)))
            for (const auto& run : (*detail)["runs"])
                if (run.value("state", "") != "succeeded")
                    std::fprintf(stderr, "  %s: %s %s\n", run.value("agent", "").c_str(),
                                 run.value("state", "").c_str(), run.value("error", "").c_str());
        // Thrown, not exit(): the cluster's destructor must stop the processes it started.
        throw std::runtime_error("job #" + std::to_string(id) + " did not succeed");
    }
    return elapsed;
}

double wall_of(const std::vector<std::string>& argv) {
    auto start = Clock::now();
    auto result = hostline::testing::run_command(argv, std::chrono::minutes(5));
    if (result.exit_code != 0) throw std::runtime_error("baseline failed: " + result.err);
    return ms_since(start);
}

void row(const char* scenario, double hostline, double baseline) {
    std::printf("%-44s %10.2f ms %10.2f ms %8.1fx\n", scenario, hostline, baseline,
                hostline / baseline);
}

}  // namespace

int main(int argc, char** argv) {
    int latency_runs = argc > 1 ? std::atoi(argv[1]) : 300;
    int fanout_runs = argc > 2 ? std::atoi(argv[2]) : 7;
    std::string bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
    try {
        LocalCluster cluster(bin_dir);
        cluster.set_log_level("warn");
        cluster.start_controller();
        std::vector<std::string> names;
        for (int i = 1; i <= 100; ++i) {
            names.push_back("bench-" + std::to_string(i));
            cluster.add_agent(names.back(), {.capacity = 4});
        }
        std::fprintf(stderr, "started a controller and 100 agents; waiting for them...\n");
        cluster.wait_online(names, std::chrono::minutes(2));
        auto api = client_for(cluster);

        std::fprintf(stderr, "(a) %d x /bin/true on one agent, and %d x posix_spawn+waitpid\n",
                     latency_runs, latency_runs);
        for (int i = 0; i < 20; ++i) run_job(api, "bench-1", {"/bin/true"});  // warm up
        std::vector<double> hostline, bare;
        for (int i = 0; i < latency_runs; ++i) {
            hostline.push_back(run_job(api, "bench-1", {"/bin/true"}));
            bare.push_back(spawn_true());
        }

        std::fprintf(stderr,
                     "(b) %d x true on 100 agents, and %d x seq 100 | xargs -P64 -n1 true\n",
                     fanout_runs, fanout_runs);
        std::vector<double> fanout, xargs;
        run_job(api, "bench-*", {"true"});  // warm up
        for (int i = 0; i < fanout_runs; ++i) {
            fanout.push_back(run_job(api, "bench-*", {"true"}));
            xargs.push_back(wall_of({"/bin/sh", "-c", "seq 100 | xargs -P64 -n1 true"}));
        }

        std::printf("\n%-44s %13s %13s %9s\n", "scenario", "hostline", "baseline", "ratio");
        row("(a) /bin/true on 1 agent, p50", percentile(hostline, 0.5), percentile(bare, 0.5));
        row("(a) /bin/true on 1 agent, p99", percentile(hostline, 0.99), percentile(bare, 0.99));
        row("(b) true on 100 agents, median wall", percentile(fanout, 0.5), percentile(xargs, 0.5));
        std::printf(
            "\nbaselines: (a) posix_spawn+waitpid of /bin/true; (b) seq 100 | xargs -P64 -n1 "
            "true\n");
        std::printf("machine: %u cores; hostline with persistence (SQLite, WAL), CURVE, loopback\n",
                    std::thread::hardware_concurrency());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hostline-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
