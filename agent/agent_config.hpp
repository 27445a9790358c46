// agent.toml: where the controller is, who this agent is, and its limits.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/run_acceptance.hpp"
#include "common/error.hpp"

namespace hostline::agent {

struct AgentConfig {
    std::string name;                           // [agent] name; default: the host name
    std::map<std::string, std::string> labels;  // [agent.labels]
    std::string state_dir = "/var/lib/hostline-agent";
    std::uint32_t capacity = 4;          // processes at once
    std::int64_t kill_grace_ms = 10000;  // SIGTERM, then SIGKILL this much later
    std::string controller_endpoint;     // [controller] endpoint, e.g. tcp://ctl:7420
    std::string controller_public_key;   // [controller] public_key, or public_key_file
    RunAcceptance accept;                // [agent.accept]
};

// Reads and validates path. Every problem is reported with file, key and reason.
Result<AgentConfig> load_agent_config(const std::string& path);

}  // namespace hostline::agent
