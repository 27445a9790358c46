// The throughput scenario (issue 10, scenario 3): sustained runs per second end to end, with
// persistence, on 100 real agents, beside the machine's bare spawn rate (posix_spawn + waitpid
// of /bin/true in as many parallel workers as the agents' total capacity) in windows of the
// same length, interleaved. Target: at least half the bare rate, with the store never the
// bottleneck, shown by its queue depth and COMMIT times from GET /metrics during the windows
// (docs/performance.md, "Fan-out and throughput").
#pragma once

#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct ThroughputSettings {
    std::string bin_dir;  // the binaries' directory
    int agents = 100;
    int capacity = 4;  // per agent; the bare baseline runs agents x capacity workers
    // Jobs in flight, each `true` on every agent: twice the capacity, so that a run waits on
    // the controller for every slot that frees and no agent idles between jobs.
    int jobs_in_flight = 8;
    double window_seconds = 5;  // no job is submitted after it; the last ones are awaited
    int rounds = 3;             // hostline window, bare window, ... ; the medians are reported
};

// Rows in milliseconds per run (the inverse of the rate, so that the table's ratio and its
// "<= 2x" are the ">= 0.5x the rate"): hostline's stored runs against the bare spawns,
// with the target; and the store's COMMIT time per stored run against the same (context: the
// share of the wall time the store spent committing). Throws std::runtime_error when a job
// fails or a run counted is not stored as succeeded.
std::vector<ReportRow> run_throughput_bench(const ThroughputSettings& settings);

}  // namespace hostline::bench
