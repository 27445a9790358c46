// Scenarios 5 and 6 of the performance issue (docs/performance.md, "Output and agent
// footprint"):
//   (5) one run writing 1 GiB to stdout, stored (committed in the controller's store), against
//       the same generator piped through `cat` into /dev/null, in the same run;
//   (6) an idle agent: its RSS against the 10 MB limit, and its wake-ups (context switches of
//       all its threads) against the heartbeats in the same time.
// Both start a real controller and real agents (testing::LocalCluster) and stop them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct OutputBenchSettings {
    std::string bin_dir;                           // the binaries' directory
    std::uint64_t bytes = std::uint64_t{1} << 30;  // written by the run, and by the baseline
    int runs = 1;  // hostline runs; baselines run before each and once after
    // What the runs write, each measured in turn: "lines" (one line repeated, the target's
    // row), "text" (C headers), "random" (random characters: nothing for LZ4 to shrink).
    std::vector<std::string> contents = {"lines", "text", "random"};
};

// Returns a row per content: the median wall time of the runs against the median of the
// baselines, the first with the target (>= 0.5x the throughput: <= 2x the time). Throws
// std::runtime_error when a run does not succeed or what the store holds is not every byte.
std::vector<ReportRow> run_output_bench(const OutputBenchSettings& settings);

struct IdleAgentSettings {
    std::string bin_dir;
    int heartbeat_ms = 5000;  // the controller's heartbeat setting for this cluster
    int settle_seconds = 10;  // connected and idle this long before counting
    int idle_seconds = 60;    // wake-ups counted over this long
};

// Returns the RSS row (against the 10 MB limit), the wake-ups row (voluntary context switches
// of every thread against heartbeats) and, as context, every context switch (with the
// involuntary ones: preemptions by other load); what each thread did goes to stderr. Throws when
// the agent does not come online or dies.
std::vector<ReportRow> run_idle_agent_bench(const IdleAgentSettings& settings);

}  // namespace hostline::bench
