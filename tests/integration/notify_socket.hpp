// The service manager's end of sd_notify, for tests: a datagram socket a test binds and names
// in NOTIFY_SOCKET for the daemons it starts, which keeps every message they send (READY=1,
// STATUS=..., STOPPING=1). While it lives, NOTIFY_SOCKET is set in this process's environment,
// so that the processes started meanwhile inherit it.
//
// Thread: one test thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace hostline::testing {

class NotifySocket {
  public:
    explicit NotifySocket(const std::string& path);  // binds path; sets NOTIFY_SOCKET
    ~NotifySocket();                                 // unsets NOTIFY_SOCKET
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    // Waits until a message holding text has arrived (or had); returns that message, or ""
    // after the timeout.
    std::string wait_for(const std::string& text, std::chrono::milliseconds timeout);
    const std::vector<std::string>& messages();  // everything received so far

  private:
    void receive(std::chrono::milliseconds timeout);

    int fd_ = -1;
    std::string path_;
    std::vector<std::string> messages_;
};

}  // namespace hostline::testing
