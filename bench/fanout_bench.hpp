// The fan-out scenario (issue 10, scenario 2): `true` on every one of 100 and of 1,000 real
// agent processes, submit to the job's final event, beside the machine's spawn floor (`seq N |
// xargs -P64 -n1 true`) run interleaved with it; target: within 2x of the floor. For context,
// the same host counts through Ansible ad-hoc (connection=local) and pdsh's exec module, the
// peers a team would otherwise reach for (docs/performance.md, "Fan-out and throughput").
#pragma once

#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct FanoutSettings {
    std::string bin_dir;                       // the binaries' directory
    std::vector<int> agent_counts{100, 1000};  // one fleet per count, started in turn
    int runs = 7;                              // hostline jobs and xargs floors per count
    // pdsh -R exec per count, interleaved too: 4-6 s a run at 1,000 hosts, and 4x the floor,
    // so a few runs say enough.
    int pdsh_runs = 3;
    // Ansible forks a Python worker per host: ~10 s for 100 hosts, 100-220 s for 1,000 (a
    // quiet and a busy machine). 0 leaves it out.
    int ansible_runs = 1;
};

// Returns per count the median wall time against the floor (with the target), and against
// Ansible and pdsh (context: no target); a peer that is not installed is left out, with a
// line on stderr. Throws std::runtime_error when a job or a baseline does not succeed.
std::vector<ReportRow> run_fanout_bench(const FanoutSettings& settings);

}  // namespace hostline::bench
