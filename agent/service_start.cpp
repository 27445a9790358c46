#include "agent/service_start.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

extern char** environ;

namespace hostline::agent {
namespace {

constexpr std::size_t kMaxOutput = 16 * 1024;  // of what systemctl says, kept for the error

struct Finished {
    int exit_status = -1;  // -1: killed by a signal
    std::string output;    // stdout and stderr together
};

std::string command_line(const std::vector<std::string>& argv) {
    std::string line;
    for (const auto& arg : argv) line += (line.empty() ? "" : " ") + arg;
    return line;
}

// Runs argv[0] (a path) with argv, stdin from /dev/null, stdout and stderr into one pipe.
Result<Finished> run(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0)
        return fail(std::string("pipe: ") + std::strerror(errno));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], 2);
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    int spawned = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (spawned != 0) {
        ::close(pipe_fds[0]);
        return fail("cannot run " + argv[0] + ": " + std::strerror(spawned));
    }
    Finished done;
    char buffer[4096];
    for (;;) {
        ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (done.output.size() < kMaxOutput)
            done.output.append(buffer, std::min<std::size_t>(static_cast<std::size_t>(n),
                                                             kMaxOutput - done.output.size()));
    }
    ::close(pipe_fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return fail("waitpid: " + std::string(std::strerror(errno)));
    if (WIFEXITED(status)) done.exit_status = WEXITSTATUS(status);
    while (!done.output.empty() && (done.output.back() == '\n' || done.output.back() == ' '))
        done.output.pop_back();
    return done;
}

// Runs it and requires exit status 0.
Result<void> run_checked(const std::vector<std::string>& argv) {
    auto done = run(argv);
    if (!done) return done.error();
    if (done->exit_status == 0) return {};
    return fail("`" + command_line(argv) + "` failed (" +
                (done->exit_status < 0 ? std::string("killed by a signal")
                                       : "exit status " + std::to_string(done->exit_status)) +
                ")" + (done->output.empty() ? "" : ": " + done->output));
}

}  // namespace

bool systemd_booted() {
    // What sd_booted(3) checks, without linking libsystemd for it (docs/performance.md).
    struct stat st {};
    return ::lstat("/run/systemd/system/", &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> start_agent_service(const ServiceControl& control,
                                        const std::string& config_path) {
    if (!control.systemd_running)
        return "systemd does not run on this host: start the agent yourself, as root (or as the "
               "user that owns its state_dir): hostline-agent --config " +
               config_path;
    const std::string& systemctl = control.systemctl;
    auto active = run({systemctl, "is-active", "--quiet", control.unit});
    if (!active) return active.error();
    if (active->exit_status == 0) {
        if (auto enabled = run_checked({systemctl, "enable", control.unit}); !enabled)
            return enabled.error();
        if (auto restarted = run_checked({systemctl, "restart", control.unit}); !restarted)
            return restarted.error();
        return "restarted " + control.unit + ", which was running, so that it uses the enrollment";
    }
    if (auto started = run_checked({systemctl, "enable", "--now", control.unit}); !started)
        return started.error();
    return "started " + control.unit + " and enabled it at boot (systemctl status " + control.unit +
           ")";
}

}  // namespace hostline::agent
