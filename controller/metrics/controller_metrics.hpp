// The controller's metrics (docs/api.md, GET /metrics): what the scheduler, the store and
// the chat report, registered once with their label sets resolved, so reporting an event is
// an atomic increment.
//
// Threads: built and exposed on the io thread; the scheduler and chat report on the io
// thread, the store on its own (its figures are atomics).
#pragma once

#include <array>
#include <functional>
#include <string>

#include "controller/jobs/scheduler_metrics.hpp"
#include "controller/metrics/registry.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller::metrics {

class ControllerMetrics final : public SchedulerMetrics, public StoreMetrics {
  public:
    ControllerMetrics();

    // SchedulerMetrics (io thread)
    void job_finished(JobState state) override;
    void run_finished(const RunRecord& run) override;
    void run_acknowledged(std::chrono::steady_clock::duration since_dispatch) override;

    // StoreMetrics (any thread)
    void committed(std::chrono::steady_clock::duration took) override;
    void queue_depth(std::size_t tasks) override;

    // The counter of messages addressed to the bot on this chat adapter ("irc", "local").
    // Resolve it once per adapter and keep it.
    Counter& chat_messages(const std::string& adapter);

    // What is read from its owner at scrape time rather than reported as it changes.
    struct Readings {
        std::size_t agents_online = 0;
        std::size_t agents_offline = 0;
        std::size_t agents_pending = 0;  // keys waiting for an admin to accept them
        std::size_t jobs_active = 0;
        std::size_t runs_queued = 0;
        double heartbeat_seconds = 0;  // the interval agents are told (paced for large fleets)
    };
    // read runs on the io thread before every exposition.
    void read_at_scrape(std::function<Readings()> read);

    // The text exposition format 0.0.4.
    std::string expose() { return registry_.expose(); }

  private:
    Registry registry_;
    // Indexed by the enum's value; null for states that are not final.
    std::array<Counter*, static_cast<std::size_t>(JobState::expired) + 1> jobs_{};
    std::array<Counter*, static_cast<std::size_t>(RunState::skipped) + 1> runs_{};
    Histogram& dispatch_seconds_;
    Histogram& run_seconds_;
    Histogram& commit_seconds_;
    Gauge& store_queue_depth_;
    Gauge& agents_online_;
    Gauge& agents_offline_;
    Gauge& agents_pending_;
    Gauge& jobs_active_;
    Gauge& runs_queued_;
    Gauge& heartbeat_seconds_;
};

}  // namespace hostline::controller::metrics
