// A rollout: how one job's runs are released over time (docs/scheduling.md, "Batches").
//
//   --batch N      at most N runs of the job in flight at once: a sliding window, so as one
//                  finishes the next host starts.
//   --batch-wait W a slot a finished run freed is free again W after that run finished. Put
//                  as starts and ends: the k-th run to start, for k > N, starts no sooner
//                  than W after the (k-N)-th run to finish.
//   --fail-fast    once a released run ends in anything but success, no run is released
//                  again; the runs in flight finish, and the ones never released are given
//                  back (take_not_started) to be skipped.
//
// Pure: no I/O and no clock of its own (times are wall-clock Unix ms passed in), so the
// window can be tested alone, and a restarted controller can rebuild it from stored runs.
// The scheduler owns one per job that has a window or fail-fast, on its io thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/jobs/job.hpp"

namespace hostline::controller {

struct RolloutPlan {
    std::size_t window = 1;    // runs in flight at most (at least 1)
    std::int64_t wait_ms = 0;  // a freed slot's pause
    bool fail_fast = false;
};

// Whether the job's runs go out through a Rollout rather than all at once.
bool has_rollout(const Job& job);

// The plan a job asks for with `hosts` runs to make (the job's batch resolved against them:
// "50%" of 5 hosts is a window of 3). fail-fast alone is a window of every host.
RolloutPlan plan_for(const Job& job, std::size_t hosts);

class Rollout {
  public:
    // runs: the job's runs in the order they are to start, all waiting.
    Rollout(RolloutPlan plan, std::vector<std::int64_t> runs);

    // The runs that may start now, in order, within the window and its pauses; they are in
    // flight from now on. Nothing once fail-fast has stopped the rollout.
    std::vector<std::int64_t> release(std::int64_t now_ms);

    // A run of the job ended in `state` on `agent`, at at_ms. A run that was still waiting
    // (cancelled before its turn) just leaves the line: it neither frees a slot nor stops the
    // rollout. Unknown or repeated runs are ignored.
    void finished(std::int64_t run, RunState state, const std::string& agent, std::int64_t at_ms);
    // For a rollout rebuilt after a restart: the run is in flight (it left the line before).
    void in_flight(std::int64_t run);
    // A run in flight ended and is tried again as `next` (a retry): the next attempt keeps
    // its place in the window, and the ended one neither frees a slot nor stops the rollout.
    void retried(std::int64_t run, std::int64_t next);

    // When release() gives a run again without any run finishing first: the moment the next
    // pausing slot frees up. Empty: nothing waits, fail-fast stopped it, or the window is full
    // of runs in flight (the next finish will tell).
    std::optional<std::int64_t> next_release_at() const;

    // Why fail-fast stopped the rollout ("fail-fast after web-3 failed"); empty while it
    // goes on.
    const std::optional<std::string>& stopped() const { return stopped_; }
    // Once stopped: the runs never released, which the caller ends as skipped. Each is given
    // once; the line is empty afterwards.
    std::vector<std::int64_t> take_not_started();

    const RolloutPlan& plan() const { return plan_; }

  private:
    enum class Stage { waiting, in_flight, done };
    struct Entry {
        std::int64_t run = 0;
        Stage stage = Stage::waiting;
    };
    Entry* find(std::int64_t run);
    std::size_t released() const;  // in flight or done after release
    // How many of the released runs finished by `at_ms` - wait, i.e. whose slots are free.
    std::size_t cooled(std::int64_t at_ms) const;

    RolloutPlan plan_;
    std::vector<Entry> runs_;                // in start order
    std::vector<std::int64_t> finished_at_;  // of released runs, ascending
    std::optional<std::string> stopped_;
};

// The window as chat shows it for a job's runs: "batch 3/10: 2 running, 12 done, 6 waiting".
// Runs skipped because their host was offline at the start are not in the rollout and not
// counted; a run queued behind its agent's capacity counts as waiting. Empty for a job
// without a window.
std::string window_progress(const Job& job, const std::vector<RunRecord>& runs);

}  // namespace hostline::controller
