// Every output chunk and result the agent has sent but the controller has not acknowledged,
// kept so it can be sent again after a reconnect: nothing is lost while the controller is
// away. Also remembers which runs it has seen, so a resent `run` never starts twice.
//
// In memory for now: an agent restart loses what it held (the on-disk spool is the
// reliability issue's work; this interface is what it will implement). Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <vector>

#include "common/proto/messages.hpp"

namespace hostline::agent {

class Outbox {
  public:
    using Clock = std::chrono::steady_clock;

    // Records a run as seen. False if it was seen before (do not start it again).
    bool remember_run(std::uint64_t run_id);

    // Keeps a message until acknowledged; returns its sequence number (1, 2, ... per run).
    std::uint64_t add_output(proto::Output output, Clock::time_point now);
    std::uint64_t add_result(proto::RunResult result, Clock::time_point now);

    // Drops everything of run_id up to seq. Once the result is acknowledged the run is done.
    void acknowledge(std::uint64_t run_id, std::uint64_t seq);

    // Everything unacknowledged, in order, for a resend after reconnecting.
    std::vector<proto::Message> all(Clock::time_point now);
    // What has waited longer than age since it was last sent.
    std::vector<proto::Message> older_than(std::chrono::milliseconds age, Clock::time_point now);

    // Runs with something unacknowledged and whether their result is among it.
    std::vector<proto::HeldRun> held_runs() const;
    std::size_t pending_messages() const;

  private:
    struct Pending {
        proto::Message message;
        std::uint64_t seq;
        Clock::time_point sent_at;
    };
    struct RunQueue {
        std::uint64_t next_seq = 1;
        bool has_result = false;
        std::deque<Pending> pending;
    };

    std::map<std::uint64_t, RunQueue> runs_;
    std::set<std::uint64_t> seen_;  // bounded: the oldest ids are forgotten past kMaxSeen
    std::deque<std::uint64_t> seen_order_;
};

}  // namespace hostline::agent
