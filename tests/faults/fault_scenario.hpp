// The fixture of every fault scenario: a cluster of its own, and on failure the tail of each
// daemon's log and the directory kept for a closer look.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "faults/fault_support.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::faults {

class FaultScenario : public ::testing::Test {
  protected:
    FaultScenario() {
        // Hundreds of runs at debug level make logs too large to read after a failure.
        cluster.set_log_level("info");
    }

    void TearDown() override {
        if (!HasFailure()) return;
        cluster.keep_dir();
        print_tail("controller", cluster.controller_log());
        for (const std::string& name : agents) print_tail("agent " + name, cluster.agent_log(name));
        std::fprintf(stderr, "(logs and data in %s)\n", cluster.dir().c_str());
    }

    // Starts an agent and waits until the controller shows it online; fails at once, with its
    // log, if the agent exits instead (a config it refuses, say). False on failure.
    [[nodiscard]] bool start_agent(const std::string& name, testing::AgentOptions options = {}) {
        agents.push_back(name);
        cluster.add_agent(name, std::move(options));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            if (!cluster.agent_alive(name)) {
                ADD_FAILURE() << "agent " << name << " exited:\n" << cluster.agent_log(name);
                return false;
            }
            if (shows_online(cluster, name)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        ADD_FAILURE() << "agent " << name << " did not come online within 60 s";
        return false;
    }

    static void print_tail(const std::string& what, const std::string& log) {
        constexpr std::size_t kTail = 12000;
        const std::size_t from = log.size() > kTail ? log.size() - kTail : 0;
        std::fprintf(stderr, "--- %s log%s ---\n%s\n", what.c_str(), from > 0 ? " (its end)" : "",
                     log.substr(from).c_str());
    }

    testing::LocalCluster cluster;
    std::vector<std::string> agents;  // whose logs to show on failure
};

}  // namespace hostline::faults
