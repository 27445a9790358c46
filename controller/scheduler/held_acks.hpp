// Output acknowledgements held back a little, so that the end of a run is one ack. An agent
// sends a run's output and then its result, but a ROUTER socket hands messages over round
// robin across its agents: with thousands of them busy, the result arrives after everyone
// else's output, and the output, committed first, was acknowledged on its own (1.7 acks per
// run in the 10,000-agent job, docs/performance.md "Fleet scale"). Acks are cumulative, so the
// result's ack covers the output's; one held back costs the agent nothing while its window
// has room, and the window is kept open by giving the held acks up well before it fills.
//
// The scheduler holds the ack of each stored output here, forgets it when the run's result's
// ack covers it, takes an agent's held acks at once when they reach a quarter of the agent's
// window (agent/spool/spool.hpp: 64 messages, 4 MiB), and the rest after a short while (its
// timer). Single-threaded: the io thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/proto/messages.hpp"

namespace hostline::controller {

class HeldAcks {
  public:
    static constexpr std::size_t kBatchMessages = 16;
    static constexpr std::uint64_t kBatchBytes = std::uint64_t{1} << 20;

    // Holds the ack of run_id up to seq, for one more message of `bytes`. True when the
    // agent's held acks make a batch: take() them now.
    bool hold(const std::string& agent, std::uint64_t run_id, std::uint64_t seq,
              std::uint64_t bytes);
    // A later ack of the run is sent: it covers what was held of it.
    void forget(const std::string& agent, std::uint64_t run_id);
    // The agent's held acks, one per run (its highest seq); none held afterwards.
    std::vector<proto::Ack> take(const std::string& agent);
    // Every agent's.
    std::vector<std::pair<std::string, proto::Ack>> take_all();
    bool empty() const { return agents_.empty(); }

  private:
    struct Held {
        std::uint64_t seq = 0;
        std::size_t messages = 0;
        std::uint64_t bytes = 0;
    };
    struct Agent {
        std::map<std::uint64_t, Held> runs;  // by run id
        std::size_t messages = 0;            // the sums over runs
        std::uint64_t bytes = 0;
    };
    std::unordered_map<std::string, Agent> agents_;
};

}  // namespace hostline::controller
