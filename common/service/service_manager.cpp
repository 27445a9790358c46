#include "common/service/service_manager.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
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

// sd_notify(3)'s protocol, which systemd documents as stable for daemons to speak without
// libsystemd: one datagram to the AF_UNIX socket $NOTIFY_SOCKET names ('@': an abstract
// one). Not libsystemd itself: it and the libraries it loads (gcrypt, lz4, zstd, lzma, cap)
// were 1 MB of an idle agent's RSS for this one call (docs/performance.md).
void notify(const std::string& state) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (path == nullptr || (path[0] != '/' && path[0] != '@')) return;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::size_t length = std::strlen(path);
    if (length < 2 || length >= sizeof address.sun_path) return;
    std::memcpy(address.sun_path, path, length);
    if (path[0] == '@') address.sun_path[0] = '\0';
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    // A manager that is gone or slow loses the message, as with sd_notify: never block on it.
    (void)::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                   reinterpret_cast<const sockaddr*>(&address),
                   static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + length));
    ::close(fd);
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
