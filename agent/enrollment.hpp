// `hostline-agent enroll TOKEN`: joins this host to a controller with an enrollment token.
// It decodes the token, creates the agent's key pair in the state directory, connects,
// sends `enroll`, and when the controller accepts the key writes agent.toml (endpoint,
// controller key, name, the token's labels, state dir). It then exits; the service starts
// the agent. Single-threaded; blocks until an answer or the timeout.
#pragma once

#include <chrono>
#include <string>

#include "common/error.hpp"

namespace hostline::agent {

struct EnrollRequest {
    std::string token;
    std::string name;  // empty: the host name
    std::string config_path = "/etc/hostline/agent.toml";
    std::string state_dir = "/var/lib/hostline-agent";
    bool force = false;  // overwrite an existing config file
    std::chrono::milliseconds timeout{30000};
};

// What the controller accepted: the name, and the key's fingerprint.
struct Enrolled {
    std::string name;
    std::string fingerprint;
};

// Errors say why: a malformed token, an existing config, no answer from the controller, or
// the controller's refusal (a reused, expired or unknown token, a name already taken).
Result<Enrolled> enroll(const EnrollRequest& request);

// "SHA256:" and the first 16 hex digits of the SHA-256 of the Z85 public key, as the
// controller shows it (`hostline agents`).
std::string key_fingerprint(const std::string& public_key);

}  // namespace hostline::agent
