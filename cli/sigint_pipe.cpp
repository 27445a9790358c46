#include "cli/sigint_pipe.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <thread>

namespace hostline::cli {

namespace {

// A signal handler can reach nothing but globals; this is the one the pipe needs.
volatile sig_atomic_t g_write_fd = -1;

void on_sigint(int) {
    const int saved_errno = errno;
    const char byte = 'i';
    if (g_write_fd != -1) {
        // Nothing to do if it fails: the pipe is full, so SIGINT is already showing.
        [[maybe_unused]] ssize_t written = ::write(g_write_fd, &byte, 1);
    }
    errno = saved_errno;
}

}  // namespace

SigintPipe::SigintPipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    read_fd_ = fds[0];
    write_fd_ = fds[1];
    g_write_fd = write_fd_;
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // other blocking calls (writes to stdout) carry on
    ::sigaction(SIGINT, &action, &previous_);
}

SigintPipe::~SigintPipe() {
    if (read_fd_ == -1) return;
    ::sigaction(SIGINT, &previous_, nullptr);
    g_write_fd = -1;
    ::close(read_fd_);
    ::close(write_fd_);
}

bool wait_readable(int fd, std::chrono::milliseconds timeout) {
    if (fd == -1) {
        std::this_thread::sleep_for(timeout);
        return false;
    }
    pollfd watch{fd, POLLIN, 0};
    auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            until - std::chrono::steady_clock::now());
        int ready = ::poll(&watch, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) return false;
    }
}

}  // namespace hostline::cli
