// agent.toml: where the controller is, who this agent is, and its limits.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/run_acceptance.hpp"
#include "common/error.hpp"
#include "common/log/log_config.hpp"

namespace hostline::agent {

struct AgentConfig {
    std::string name;                           // [agent] name; default: the host name
    std::map<std::string, std::string> labels;  // [agent.labels]
    std::string state_dir = "/var/lib/hostline-agent";
    std::uint32_t capacity = 4;          // processes at once
    std::int64_t kill_grace_ms = 10000;  // SIGTERM, then SIGKILL this much later
    // The spool (state_dir/spool): at most this many unacknowledged bytes on disk; when full,
    // a run's output waits this long for room (its process blocks), then is cut.
    std::uint64_t spool_max_bytes = std::uint64_t{256} << 20;
    std::int64_t spool_full_wait_ms = 60000;
    std::string controller_endpoint;    // [controller] endpoint, e.g. tcp://ctl:7420
    std::string controller_public_key;  // [controller] public_key, or public_key_file
    RunAcceptance accept;               // [agent.accept]
    log::LogConfig log;                 // [log]; re-read from config_path on SIGHUP
    std::string config_path;
};

// Reads and validates path. Every problem is reported with file, key and reason.
Result<AgentConfig> load_agent_config(const std::string& path);

}  // namespace hostline::agent
