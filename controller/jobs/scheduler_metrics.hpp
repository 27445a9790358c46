// What the scheduler reports as jobs and runs change state, for GET /metrics.
//
// Called on the io thread, at the moments a state changes; an implementation must be cheap
// (it sits on the scheduler's paths) and must not call back into the scheduler.
#pragma once

#include <chrono>

#include "controller/jobs/job.hpp"

namespace hostline::controller {

class SchedulerMetrics {
  public:
    virtual ~SchedulerMetrics() = default;

    // A job reached a final state (succeeded ... expired).
    virtual void job_finished(JobState state) = 0;
    // A run reached a final state; run.started_at_ms and ended_at_ms as recorded.
    virtual void run_finished(const RunRecord& run) = 0;
    // An agent answered a run dispatched by this controller this long after the dispatch.
    virtual void run_acknowledged(std::chrono::steady_clock::duration since_dispatch) = 0;
};

// Reports nowhere: for schedulers nobody scrapes (tests, tools).
class NoSchedulerMetrics final : public SchedulerMetrics {
  public:
    void job_finished(JobState) override {}
    void run_finished(const RunRecord&) override {}
    void run_acknowledged(std::chrono::steady_clock::duration) override {}
};

}  // namespace hostline::controller
