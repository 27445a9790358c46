// hostline-bench: the performance issue's scenarios and the job list, each beside its baseline
// in the same run, reported as ratios in one table (docs/performance.md records the figures).
//
//   (a) submit -> result of /bin/true on one agent, against posix_spawn + waitpid
//       (bench/dispatch_latency_bench.hpp)
//   (2) wall time of `true` on 100 and 1,000 agents, against `seq N | xargs -P64 -n1 true`,
//       Ansible and pdsh (bench/fanout_bench.hpp)
//   (3) runs per second on 100 agents, against bare spawns (bench/throughput_bench.hpp)
//   (c-n) the jobs list API and the UI page with 100,000 jobs stored, against 100 jobs
//         (bench/job_list_bench.hpp)
//   (5) 1 GiB of stdout stored, against the same generator | cat > /dev/null; (6) an idle
//       agent's RSS and wake-ups per heartbeat (bench/footprint_bench.hpp)
//   (4) 10,000 emulated agents: the idle controller's CPU and RSS, and a job to all of them
//       against a bare ROUTER/DEALER request/reply (bench/scale_bench.hpp)
//
//   hostline-bench [--only=latency|job-list|fanout|throughput|output|footprint|scale]
//                  [--fanout-agents=100,1000] [--ansible-runs=1] [--output-bytes=N]
//                  [--output-runs=N] [--idle-seconds=N] [--scale-agents=N] [--scale-rounds=N]
//                  [--scale-idle=S] [--smoke] [LATENCY_RUNS] [FANOUT_RUNS] [LIST_REQUESTS]
//
// A benchmark, not a test: it prints what it measured and asserts nothing.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/dispatch_latency_bench.hpp"
#include "bench/fanout_bench.hpp"
#include "bench/footprint_bench.hpp"
#include "bench/job_list_bench.hpp"
#include "bench/report_table.hpp"
#include "bench/scale_bench.hpp"
#include "bench/stop_on_signal.hpp"
#include "bench/throughput_bench.hpp"

namespace {

// The 1, 5 and 15 minute load averages, as /proc/loadavg has them.
std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one, five, fifteen;
    in >> one >> five >> fifteen;
    return one + " " + five + " " + fifteen;
}

constexpr const char* kUsage =
    R"(usage: hostline-bench [OPTIONS] [LATENCY_RUNS] [FANOUT_RUNS] [LIST_REQUESTS]

Runs the performance scenarios, each beside its baseline, and prints one table of ratios
(docs/performance.md). Takes about 7 minutes on 2 cores; it starts its own controllers and
agents on 127.0.0.1 and stops them.

  --only=SCENARIO          one of latency, job-list, fanout, throughput, output, footprint,
                           scale (default: all)
  --fanout-agents=N,N      agent counts of the fan-out scenario (default 100,1000)
  --ansible-runs=N         Ansible runs per fan-out size; 0 leaves Ansible out (default 1)
  --output-bytes=N         stdout of the output scenario's run (default 1 GiB)
  --output-runs=N          runs of the output scenario (default 1)
  --output-content=A,B     what those runs write: lines (one line repeated, the target's
                           row), text (C headers), random (random characters, which LZ4
                           cannot shrink) (default lines,text,random)
  --idle-seconds=N         how long the idle agent is watched (default 60)
  --scale-agents=N         emulated agents of the scale scenario (default 10000)
  --scale-rounds=N         jobs to all of them, each beside a bare round (default 3)
  --scale-idle=SECONDS     how long the idle controller is watched (default 30)
  --scale-heartbeat=SECONDS  the controller's heartbeat in the scale scenario (default 5)
  --scale-output=BYTES     output of each emulated run (default 100)
  --scale-max-heartbeats=N the controller's max_heartbeats_per_second in the scale scenario
                           (default: the controller's, 250; 0: no pacing)
  --scale-zmtp-heartbeat=MS  ZeroMQ heartbeats on the emulated agents (default none)
  --smoke                  every scenario at a size that only shows it works, in under a
                           minute (make test runs it): its figures mean nothing
  LATENCY_RUNS             jobs of the dispatch scenario (default 300)
  FANOUT_RUNS              rounds of each fan-out size (default 7)
  LIST_REQUESTS            requests per job-list query (default 2000)
  -h, --help               this text
)";

}  // namespace

int main(int argc, char** argv) {
    hostline::bench::stop_children_on_signal();
    std::string only;
    std::vector<int> counts;
    std::vector<int> fanout_agents{100, 1000};
    int ansible_runs = 1;
    hostline::bench::OutputBenchSettings output;
    hostline::bench::IdleAgentSettings idle;
    std::vector<std::string> options;  // other --NAME=VALUE, for the scenarios to read
    bool smoke = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg.rfind("--only=", 0) == 0) {
            only = arg.substr(7);
        } else if (arg.rfind("--ansible-runs=", 0) == 0) {  // 0: fan-out without Ansible
            ansible_runs = std::atoi(arg.c_str() + 15);
        } else if (arg.rfind("--fanout-agents=", 0) == 0) {  // e.g. 100,1000
            fanout_agents.clear();
            std::istringstream list(arg.substr(16));
            for (std::string n; std::getline(list, n, ',');)
                fanout_agents.push_back(std::atoi(n.c_str()));
        } else if (arg.rfind("--output-bytes=", 0) == 0) {
            output.bytes = std::strtoull(arg.c_str() + 15, nullptr, 10);
        } else if (arg.rfind("--output-runs=", 0) == 0) {
            output.runs = std::atoi(arg.c_str() + 14);
        } else if (arg.rfind("--output-content=", 0) == 0) {
            output.contents.clear();
            std::istringstream list(arg.substr(17));
            for (std::string name; std::getline(list, name, ',');) {
                if (name != "lines" && name != "text" && name != "random") {
                    std::fprintf(stderr,
                                 "hostline-bench: --output-content takes lines, text and random, "
                                 "not %s\n",
                                 name.c_str());
                    return 2;
                }
                output.contents.push_back(name);
            }
        } else if (arg.rfind("--idle-seconds=", 0) == 0) {
            idle.idle_seconds = std::atoi(arg.c_str() + 15);
        } else if (arg.rfind("--scale-", 0) == 0) {
            options.push_back(arg);
        } else if (arg.rfind("-", 0) == 0 || arg.find_first_not_of("0123456789") != arg.npos) {
            std::fprintf(stderr, "hostline-bench: unknown argument %s (--help lists them)\n",
                         arg.c_str());
            return 2;
        } else {
            counts.push_back(std::atoi(arg.c_str()));
        }
    }
    if (output.bytes == 0 || output.runs < 1 || idle.idle_seconds < 1 || output.contents.empty()) {
        std::fprintf(stderr,
                     "hostline-bench: --output-bytes, --output-runs and --idle-seconds "
                     "take a number above 0, --output-content at least one name\n");
        return 2;
    }
    if (!only.empty() && only != "latency" && only != "job-list" && only != "fanout" &&
        only != "throughput" && only != "output" && only != "footprint" && only != "scale") {
        std::fprintf(stderr,
                     "hostline-bench: --only takes latency, job-list, fanout, throughput, output, "
                     "footprint or scale\n");
        return 2;
    }
    const int latency_runs = counts.size() > 0 ? counts[0] : smoke ? 10 : 300;
    const int fanout_runs = counts.size() > 1 ? counts[1] : smoke ? 1 : 7;
    // 2,000: with 500 the p99 is the 5th slowest, and on a shared machine that is whichever
    // requests a scheduler time slice fell on (docs/performance.md).
    const int list_requests = counts.size() > 2 ? counts[2] : smoke ? 5 : 2000;
    hostline::bench::JobListSettings list{.requests = list_requests};
    hostline::bench::ThroughputSettings throughput;
    int pdsh_runs = 3;
    if (smoke) {
        // Each scenario end to end (its clusters, its checks of what was stored), small: a
        // scenario that no longer works fails make test, not the next `make bench`.
        list.warm_up = 2;
        list.large_jobs = 1000;
        fanout_agents = {5};
        ansible_runs = 0;
        pdsh_runs = 1;
        throughput.agents = 5;
        throughput.window_seconds = 0.5;
        throughput.rounds = 1;
        output.bytes = 1 << 20;
        idle.settle_seconds = 1;
        idle.idle_seconds = 2;
        options.insert(options.begin(),
                       {"--scale-agents=100", "--scale-rounds=1", "--scale-idle=1"});
    }
    std::string bin_dir = std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
    const std::string load_at_start = load_average();
    try {
        std::vector<hostline::bench::ReportRow> rows;
        if (only.empty() || only == "latency") {
            auto latency = hostline::bench::run_dispatch_latency_bench(
                {.bin_dir = bin_dir, .runs = latency_runs});
            rows.insert(rows.end(), latency.begin(), latency.end());
        }
        if (only.empty() || only == "job-list") {
            list.bin_dir = bin_dir;
            auto listed = hostline::bench::run_job_list_bench(list);
            rows.insert(rows.end(), listed.begin(), listed.end());
        }
        // (2) and (3), fan-out and throughput (bench/fanout_bench.hpp, throughput_bench.hpp).
        if (only.empty() || only == "fanout") {
            auto fanout = hostline::bench::run_fanout_bench({.bin_dir = bin_dir,
                                                             .agent_counts = fanout_agents,
                                                             .runs = fanout_runs,
                                                             .pdsh_runs = pdsh_runs,
                                                             .ansible_runs = ansible_runs});
            rows.insert(rows.end(), fanout.begin(), fanout.end());
        }
        if (only.empty() || only == "throughput") {
            throughput.bin_dir = bin_dir;
            auto sustained = hostline::bench::run_throughput_bench(throughput);
            rows.insert(rows.end(), sustained.begin(), sustained.end());
        }
        output.bin_dir = idle.bin_dir = bin_dir;
        if (only.empty() || only == "output") {
            auto stored = hostline::bench::run_output_bench(output);
            rows.insert(rows.end(), stored.begin(), stored.end());
        }
        if (only.empty() || only == "footprint") {
            auto footprint = hostline::bench::run_idle_agent_bench(idle);
            rows.insert(rows.end(), footprint.begin(), footprint.end());
        }
        if (only.empty() || only == "scale") {
            auto scale =
                hostline::bench::run_scale_bench(hostline::bench::scale_settings(bin_dir, options));
            rows.insert(rows.end(), scale.begin(), scale.end());
        }
        if (smoke)
            std::printf(
                "\nsmoke pass (--smoke): every scenario ran end to end; its figures, of a small "
                "run\nand maybe of a sanitized build, mean nothing\n");
        hostline::bench::print_table(rows);
        std::printf(
            "\nbaselines: (a) posix_spawn+waitpid of /bin/true; (2) seq N | xargs -P64 -n1 "
            "true,\n  pdsh -R exec -f 64, ansible -c local -f 64; (3) posix_spawn+waitpid of "
            "/bin/true in\n  agents x capacity threads (store: hostline's time per run);\n  (c-n) "
            "the same request against a controller with 100 jobs stored "
            "(measured: 100,000 jobs)\n");
        if (only.empty() || only == "output" || only == "footprint")
            std::printf(
                "  (5) the same generator (yes LINE | head -c N) | cat > /dev/null; target:\n"
                "  the issue's >= 0.5x the throughput, i.e. <= 2x the time; (6) the issue's\n"
                "  10 MB, and the heartbeats in the same time: 4 wake-ups each at most (the\n"
                "  agent's thread and ZeroMQ's I/O thread, each woken by the heartbeat and by\n"
                "  its answer)\n");
        if (only.empty() || only == "job-list")
            std::printf(
                "  [x/y/z jobs]: what the request answered with 100, 10,000 and 100,000 jobs\n"
                "target: the issue's, p99 with 100,000 jobs within 2x of 100 jobs, judged on\n"
                "  the requests that answer alike at both sizes; (d), (e) and (f) answer fewer\n"
                "  jobs at 100 (an empty or short page against a full one) and are context\n");
        std::printf("machine: %u cores; hostline with persistence (SQLite, WAL), CURVE, loopback\n",
                    std::thread::hardware_concurrency());
        // Tails (p99) follow the machine's load more than anything measured: say what it was.
        std::printf("load average at the start: %s; at the end: %s\n", load_at_start.c_str(),
                    load_average().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hostline-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
