// What a daemon tells its service manager (systemd's sd_notify protocol): that it is
// ready, what it is doing, that it is stopping. The units in packaging/ are Type=notify,
// so `systemctl start` returns only once the daemon listens, and a daemon that fails to
// start fails its unit. Outside systemd ($NOTIFY_SOCKET unset) every call does nothing.
// Thread-safe (each call is one datagram).
#pragma once

#include <string_view>

namespace hostline::service {

// READY=1 with a STATUS= line: the daemon has finished starting (listening, keys loaded).
void notify_ready(std::string_view status);

// STATUS= only: what the daemon is doing now, shown by `systemctl status`.
void notify_status(std::string_view status);

// STOPPING=1: the daemon has begun an orderly shutdown.
void notify_stopping(std::string_view status);

// Whether this process was started by systemd with a notify socket (Type=notify).
bool under_service_manager();

}  // namespace hostline::service
