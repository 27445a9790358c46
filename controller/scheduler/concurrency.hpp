// What may start now across jobs: each agent's capacity (from its hello), each catalog
// command's `concurrency` (its runs at once across the fleet, in all its jobs together), and
// the controller's global cap ([scheduler] max_running_runs). Also how a queued run's place
// in line is counted, and what a refused request is told.
//
// A run holds a slot from its dispatch until it is final (dispatched, running, unknown).
// Threads: owned by the scheduler, on the io thread. No I/O.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/scheduler/retry_policy.hpp"

namespace hostline::controller {

// What a second request for a command at its cap gets: its runs wait in the queue, or the
// request is refused at once.
enum class OnBusy { wait, refuse };

// The scheduling rules of one catalog command; an ad-hoc job has the defaults (no cap, no
// retries).
struct CommandRules {
    int concurrency = 0;  // runs of the command at once across the fleet; 0: no cap of its own
    OnBusy on_busy = OnBusy::wait;
    RetryPolicy retry;
};

class Concurrency {
  public:
    explicit Concurrency(std::uint32_t max_running_runs);  // 0: no global cap

    // The run took a slot (dispatched). Holding it again changes nothing.
    void hold(std::int64_t run_id, const std::string& command);
    // The run is final: its slot is free. Whether it held one.
    bool release(std::int64_t run_id);

    enum class Verdict {
        start,
        agent_full,    // the agent runs `capacity` runs already
        command_full,  // the command runs `concurrency` runs already, somewhere
        fleet_full,    // the controller runs max_running_runs already
    };
    // Whether a queued run of command (whose cap is command_limit, 0: none) may start now on
    // an agent that holds agent_active of its capacity slots.
    Verdict may_start(std::size_t agent_active, std::uint32_t capacity, const std::string& command,
                      int command_limit) const;

    std::size_t running() const { return held_.size(); }
    std::size_t running(const std::string& command) const;
    bool fleet_capped() const { return max_running_ > 0; }

  private:
    const std::uint32_t max_running_;
    std::map<std::int64_t, std::string> held_;  // run -> its command ("" for ad-hoc)
    std::map<std::string, std::size_t> per_command_;
};

// A run waiting on the controller, as queue positions count it.
struct QueuedRun {
    std::int64_t run_id = 0;
    std::string agent;
    std::string command;          // "" for ad-hoc
    bool command_capped = false;  // its command has a concurrency of its own
};

// Each queued run's place in line (1: next), given the queued runs oldest first: one more than
// the older runs it waits behind, which are those on its agent, those of its command when the
// command is capped, and every one when the fleet is capped. Runs that wait for something else
// can overtake it, so it is where it stands, not a promise of order.
std::map<std::int64_t, std::uint32_t> queue_positions(const std::vector<QueuedRun>& oldest_first,
                                                      bool fleet_capped);

// What a request for a command at its cap with on_busy = "refuse" is told, naming the oldest
// of its jobs still going: "restart-nginx is already running (job #41); it allows one at a
// time".
std::string busy_message(const std::string& command, std::int64_t running_job, int limit);

}  // namespace hostline::controller
