#include "bench/stop_on_signal.hpp"

#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace hostline::bench {
namespace {

int signal_pipe[2] = {-1, -1};

void on_signal(int signal) {
    const int saved = errno;
    const char byte = static_cast<char>(signal);
    [[maybe_unused]] ssize_t written = ::write(signal_pipe[1], &byte, 1);
    errno = saved;
}

// The bench's children now, whichever of its threads started them.
std::vector<pid_t> children() {
    std::vector<pid_t> pids;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t pid; in >> pid;) pids.push_back(pid);
    }
    return pids;
}

// Whether pid has ended: reaped here, or by whoever else waits for it (ECHILD).
bool ended(pid_t pid) {
    const pid_t reaped = ::waitpid(pid, nullptr, WNOHANG);
    return reaped == pid || (reaped < 0 && errno == ECHILD);
}

[[noreturn]] void stop_children(int signal) {
    const std::vector<pid_t> pids = children();
    std::fprintf(stderr, "hostline-bench: signal %d: stopping the %zu processes it started\n",
                 signal, pids.size());
    for (pid_t pid : pids) ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    std::vector<pid_t> left = pids;
    while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
        std::erase_if(left, ended);
        if (!left.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    ::_exit(128 + signal);
}

}  // namespace

void stop_children_on_signal() {
    if (::pipe2(signal_pipe, O_CLOEXEC) != 0) {
        std::perror("hostline-bench: pipe2");
        return;  // the bench still runs; a signal then ends it alone, as before
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;  // the scenario's calls go on until the children are stopped
    sigemptyset(&action.sa_mask);
    for (int signal : {SIGTERM, SIGINT, SIGHUP}) ::sigaction(signal, &action, nullptr);
    std::thread([] {
        char byte = 0;
        while (::read(signal_pipe[0], &byte, 1) < 0 && errno == EINTR) {
        }
        stop_children(static_cast<unsigned char>(byte));
    }).detach();
}

}  // namespace hostline::bench
