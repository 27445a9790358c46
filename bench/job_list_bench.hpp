// The job-list scenario: the jobs list API and the UI page against a controller whose store
// holds 100,000 jobs, beside the same requests against one holding 100, in the same run
// (docs/performance.md). The target: p99 within 2x, judged on the requests that
// answer alike at both sizes (a full page at each, or the same few jobs).
#pragma once

#include <string>
#include <vector>

#include "bench/report_table.hpp"

namespace hostline::bench {

struct JobListSettings {
    std::string bin_dir;       // the controller binary's directory
    int requests = 2000;       // timed requests of each kind against each controller
    int warm_up = 50;          // untimed ones before
    int large_jobs = 100'000;  // the large store; the small one holds 100
};

// Starts three controllers (no agents) on stores of 100, 10,000 and large_jobs jobs, times
// the requests in turn on each, stops them, and returns p50 and p99 rows (measured: the large
// store, baseline: 100 jobs; the 10,000-job figures go to stderr with the tails), the p99
// rows of the like-for-like requests with the target ratio. Throws std::runtime_error when a
// controller or a request fails, or a request meant to compare like for like does not.
std::vector<ReportRow> run_job_list_bench(const JobListSettings& settings);

}  // namespace hostline::bench
