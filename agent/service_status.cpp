#include "agent/service_status.hpp"

#include <ctime>

#include "common/service/service_manager.hpp"

namespace hostline::agent {
namespace {

std::string utc(std::chrono::system_clock::time_point when) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

}  // namespace

ServiceStatus::ServiceStatus(std::string endpoint, std::string fingerprint)
    : endpoint_(std::move(endpoint)), fingerprint_(std::move(fingerprint)) {}

void ServiceStatus::started() {
    last_ = "connecting to " + endpoint_ + " (key " + fingerprint_ + ")";
    service::notify_ready(last_);
}

void ServiceStatus::welcomed(const std::string& name) {
    lost_since_.reset();
    set("connected to " + endpoint_ + " as " + name);
}

void ServiceStatus::not_accepted(const std::string& reason, const std::string& name) {
    if (reason.find("is pending") != std::string::npos)
        set("waiting for an admin to accept key " + fingerprint_ + " (hostline agents accept " +
            name + ")");
    else
        set("not accepted: " + reason);
}

void ServiceStatus::refused(const std::string& why) {
    set("refused: " + why);
}

void ServiceStatus::unreachable(std::chrono::system_clock::time_point since) {
    if (!lost_since_) lost_since_ = since;
    set("controller " + endpoint_ + " unreachable since " + utc(*lost_since_));
}

void ServiceStatus::stopping() {
    last_ = "stopping";
    service::notify_stopping(last_);
}

void ServiceStatus::set(std::string status) {
    if (status == last_) return;
    last_ = std::move(status);
    service::notify_status(last_);
}

}  // namespace hostline::agent
