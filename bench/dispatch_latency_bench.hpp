// Scenario 1 of the performance issue, dispatch overhead: submit -> result of /bin/true on one
// real agent over the HTTP API, against a bare posix_spawn + waitpid of /bin/true, the two
// interleaved in the same run (docs/performance.md, "Dispatch latency"). The target:
// p50 <= 2x, p99 <= 5x.
#pragma once

#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct DispatchLatencySettings {
    std::string bin_dir;  // the controller's and agent's binaries
    int runs = 300;       // timed jobs, and as many bare spawns
    int warm_up = 20;     // untimed jobs before
};

// Starts one controller and one agent, times `runs` jobs of /bin/true on it, each followed by
// one bare spawn, stops them, and returns the p50 and p99 rows with the targets, and
// as context where the time went: submit -> 201 (the job committed) and 201 -> final event,
// and the CPU a job costs each process over as many jobs again.
// Throws std::runtime_error when the cluster does not come up or a job does not succeed.
std::vector<ReportRow> run_dispatch_latency_bench(const DispatchLatencySettings& settings);

}  // namespace hostline::bench
