// SigintPipe: turns Ctrl-C into a file descriptor that becomes readable, so a command that
// blocks on the network can notice it without racing the signal.
//
// While a SigintPipe exists, SIGINT no longer ends the process: it makes fd() readable (and
// keeps it readable). The previous handler comes back when it is destroyed. One at a time
// per process; create and destroy it on the main thread.
#pragma once

#include <chrono>

#include <signal.h>

namespace hostline::cli {

class SigintPipe {
  public:
    SigintPipe();
    ~SigintPipe();
    SigintPipe(const SigintPipe&) = delete;
    SigintPipe& operator=(const SigintPipe&) = delete;

    // Readable once SIGINT has arrived; -1 if the pipe could not be made (then Ctrl-C keeps
    // its usual effect).
    int fd() const { return read_fd_; }

  private:
    int read_fd_ = -1;
    int write_fd_ = -1;
    struct sigaction previous_ {};
};

// Waits up to timeout for fd to become readable; true if it is. With fd -1, just sleeps.
bool wait_readable(int fd, std::chrono::milliseconds timeout);

}  // namespace hostline::cli
