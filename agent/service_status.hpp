// What the agent tells systemd (sd_notify, the unit is Type=notify) about its link to the
// controller, for `systemctl status hostline-agent`:
//   READY=1 once started: keys loaded, spool open, connecting. Never later: a controller that
//   is down must not fail the agent's unit.
//   STATUS= "connected to tcp://… as web-01", "waiting for an admin to accept key SHA256:…",
//   "controller unreachable since …", a refusal (revoked, another protocol version).
//   STOPPING=1 on SIGTERM.
// Outside systemd every call does nothing (common/service/service_manager.hpp). Belongs to
// the agent's poll loop thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace hostline::agent {

class ServiceStatus {
  public:
    ServiceStatus(std::string endpoint, std::string fingerprint);

    void started();
    void welcomed(const std::string& name);
    // The controller's error{not_accepted}: the key is pending, or the name is another key's.
    void not_accepted(const std::string& reason, const std::string& name);
    void refused(const std::string& why);  // revoked, or another protocol version
    // The controller is gone; the status keeps the first moment until the next welcome.
    void unreachable(std::chrono::system_clock::time_point since);
    void stopping();

  private:
    void set(std::string status);

    // Constant after construction.
    const std::string endpoint_;
    const std::string fingerprint_;

    std::string last_;
    std::optional<std::chrono::system_clock::time_point> lost_since_;
};

}  // namespace hostline::agent
