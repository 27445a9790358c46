// The agent: one thread, one poll loop over the controller link, the children's pipes and
// pidfds, and a signalfd. It runs what the controller sends, streams the output back, and
// keeps every output chunk and result until the controller acknowledges it.
#pragma once

#include <memory>

#include "agent/agent_config.hpp"
#include "common/error.hpp"

namespace hostline::agent {

class Agent {
  public:
    explicit Agent(AgentConfig config);
    ~Agent();

    // Prepares the state dir (0711, see state_dir.hpp), creates or loads the key pair in it
    // and connects. Errors: state dir not writable, bad keys, bad endpoint.
    Result<void> start();

    // Runs until SIGTERM or SIGINT; then cancels running processes, tells the controller
    // and returns the exit status.
    int run();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hostline::agent
