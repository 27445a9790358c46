// `hostline-agent enroll TOKEN`: joins this host to a controller with an enrollment token.
// It decodes the token, reads agent.toml (for the state directory and the agent's name; it
// never writes it: it is the package's conffile), creates the agent's key pair in the state
// directory, connects, sends `enroll`, and when the controller accepts the key keeps what it
// learned in STATE_DIR/enrollment.toml (enrollment_file.hpp). Starting the service is the
// caller's (service_start.hpp). Single-threaded; blocks until an answer or the timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace hostline::agent {

struct EnrollRequest {
    std::string token;
    std::string name;  // empty: agent.toml's [agent] name, else the host name
    std::string config_path = "/etc/hostline/agent.toml";
    // Empty: agent.toml's state_dir. Given, it must be that one: the agent reads its
    // enrollment from there and nowhere else.
    std::string state_dir;
    bool force = false;  // replace an existing enrollment
    std::chrono::milliseconds timeout{30000};
};

// What the controller accepted: the name, the key's fingerprint, and where it was kept.
struct Enrolled {
    std::string name;
    std::string fingerprint;
    std::string enrollment_path;
    // For the person enrolling, e.g. that agent.toml's own [controller] wins over the enrollment.
    std::vector<std::string> warnings;
};

// Errors say why and leave no enrollment behind: a malformed token, a bad or missing
// agent.toml, an existing enrollment (without force), no answer from the controller, or the
// controller's refusal (a reused, expired or unknown token, a name already taken, another
// protocol version).
Result<Enrolled> enroll(const EnrollRequest& request);

}  // namespace hostline::agent
