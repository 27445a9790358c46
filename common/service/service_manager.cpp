#include "common/service/service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace hostline::service {
namespace {

// A STATUS= value is one line: a newline would start another assignment.
std::string one_line(std::string_view text) {
    std::string line(text);
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    return line;
}

void notify(const std::string& state) {
    sd_notify(0, state.c_str());
}

}  // namespace

void notify_ready(std::string_view status) {
    notify("READY=1\nSTATUS=" + one_line(status));
}

void notify_status(std::string_view status) {
    notify("STATUS=" + one_line(status));
}

void notify_stopping(std::string_view status) {
    notify("STOPPING=1\nSTATUS=" + one_line(status));
}

bool under_service_manager() {
    return std::getenv("NOTIFY_SOCKET") != nullptr;
}

}  // namespace hostline::service
