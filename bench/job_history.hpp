// A controller's job history, written straight into its database before it starts: the
// job-list benchmark needs 100,000 jobs, and submitting them through the API would take
// hours of agents running them.
//
// The rows go through the store library itself (Store::open, save_job, save_run,
// append_output), so they are exactly what a controller writes, committed in the store's own
// groups. Call it on a database no controller has open.
#pragma once

#include <functional>
#include <string>

namespace hostline::bench {

struct JobHistory {
    int jobs = 100;
    // The newest this many jobs are still running (their runs on agents that are offline once
    // the controller starts): the same number in every store, so that each controller restores
    // the same active work.
    int running = 5;
};

// Called after every few thousand jobs are committed, with how many are.
using FillProgress = std::function<void(int committed)>;

// Fills database_path (creating it). Throws std::runtime_error if the store cannot be opened.
// The mix, the same for every size: 6 requesters (token:ci 80% of jobs, 4% each for the
// other five), 50 hosts (web-01..20, db-01..10,
// cache-01..10, batch-01..10) with 1-3 runs a job, 4 catalog commands (deploy, restart,
// disk-usage, logs) and 3 ad-hoc programs, states succeeded/failed/partial/timed_out/cancelled,
// and one stdout chunk on every 10th job's runs.
void fill_job_history(const std::string& database_path, const JobHistory& history,
                      const FillProgress& progress);

}  // namespace hostline::bench
