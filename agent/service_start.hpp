// Starting the agent's service once `hostline-agent enroll` has kept the enrollment.
//
// With systemd: `systemctl enable --now hostline-agent.service`; when the unit is already
// active, `systemctl enable` and `systemctl restart` instead, so that it reads the new
// enrollment. systemctl is run by path with a fixed argv (posix_spawn, never a shell), its
// exit status checked and its output kept for the error. Without systemd (a container, a
// chroot): nothing is run, and the answer says how to start the agent by hand.
//
// Single-threaded; blocks while systemctl runs (it waits for the unit, Type=notify, to be
// ready: the agent says so once it has loaded its keys and started connecting).
#pragma once

#include <string>

#include "common/error.hpp"

namespace hostline::agent {

// Whether systemd manages this host (sd_booted()).
bool systemd_booted();

// How to reach the service manager; the defaults are the real ones.
struct ServiceControl {
    std::string systemctl = "/bin/systemctl";
    bool systemd_running = systemd_booted();
    std::string unit = "hostline-agent.service";
};

// What was done, as a line for the person enrolling; or, without systemd, how to start the
// agent with config_path. Errors: systemctl could not be run or failed; the message has the
// command, its exit status and what it printed.
Result<std::string> start_agent_service(const ServiceControl& control,
                                        const std::string& config_path);

}  // namespace hostline::agent
