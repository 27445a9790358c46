// STATE_DIR/enrollment.toml: what `hostline-agent enroll` learned from its token and the
// controller: the controller's endpoint and public key, this agent's name and the token's
// labels. agent.toml stays the admin's (the package's conffile, never rewritten); the config
// loader (agent_config.hpp) reads this file when agent.toml has no [controller] section.
//
// The file names the controller whose commands this host runs, so it is written 0600 and a
// file that others may write is refused. Thread: called once, before the agent's poll loop.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/error.hpp"

namespace hostline::agent {

struct Enrollment {
    std::string name;
    std::map<std::string, std::string> labels;
    std::string controller_endpoint;
    std::string controller_public_key;
};

// STATE_DIR/enrollment.toml.
std::string enrollment_path(const std::string& state_dir);

// Writes the file atomically (temporary file, then rename), mode 0600. Errors name the path.
Result<void> write_enrollment(const std::string& state_dir, const Enrollment& enrollment);

// The enrollment kept in state_dir, or nullopt when there is none. Errors (unreadable, bad
// TOML, a bad value, writable by others) name the file, the key and the reason.
Result<std::optional<Enrollment>> read_enrollment(const std::string& state_dir);

}  // namespace hostline::agent
