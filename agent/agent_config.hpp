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
    // Where the controller settings came from: agent.toml's path, or the enrollment file's.
    std::string controller_source;
};

// What agent.toml alone says, before the enrollment is taken into account.
struct AgentToml {
    AgentConfig config;             // no controller settings unless names_controller
    bool names_agent = false;       // [agent] name is set
    bool names_controller = false;  // a [controller] section
};

// Reads and validates agent.toml alone. Every problem is reported with file, key and reason.
Result<AgentToml> read_agent_toml(const std::string& path);

// agent.toml with the enrollment (STATE_DIR/enrollment.toml, enrollment_file.hpp). agent.toml's
// own [controller] wins, and the enrollment is then unused. Without one, the enrollment gives
// the controller, the name unless agent.toml sets one, and the token's labels under
// agent.toml's [agent.labels] (agent.toml wins on the same key). Neither: "not enrolled".
Result<AgentConfig> load_agent_config(const std::string& path);

}  // namespace hostline::agent
