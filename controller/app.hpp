// The controller process: wiring only. Owns the io_context (scheduler + HTTP), the store
// thread and the agent transport thread, and shuts them down in order on SIGTERM/SIGINT.
#pragma once

#include <memory>

#include "common/error.hpp"
#include "controller/config/controller_config.hpp"

namespace hostline::controller {

class App {
  public:
    explicit App(ControllerConfig config);
    ~App();

    // Creates the data dir, keys and admin token if missing, opens the store, restores state,
    // and starts listening. When everything listens, writes DATA_DIR/endpoints (the bound
    // agent and HTTP endpoints, for tools and tests that use port 0) and starts the
    // service manager's STATUS= line (agents and runs as they come and go).
    Result<void> start();

    // Handles SIGTERM and SIGINT, tells the service manager READY=1, and serves until one
    // comes; then (STOPPING=1) stops taking work, tells agents, flushes the store.
    int run();

  private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hostline::controller
