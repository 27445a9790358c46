// ProcessRunner: starts the agent's runs as child processes and reports their output and exit.
//
// Thread: the agent's single poll-loop thread owns it. Nothing here blocks and no thread is
// created: the caller polls the descriptors from add_poll_fds() (bounding its wait by
// next_deadline()) and hands the results back to on_poll(), which calls the Listener.
//
// Each run is its own process group (pgid == pid), so timeout, cancel and destruction reach
// the whole tree the command started (except processes that leave the group with setsid).
// Exits are detected with a pidfd and reaped with waitpid(pid): the process that owns the
// runner must not set SIGCHLD to SIG_IGN nor reap with waitpid(-1).
#pragma once

#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace hostline::agent {

using Clock = std::chrono::steady_clock;

// Which of the child's output pipes bytes came from.
enum class Stream { out, err };

// "stdout" or "stderr", as spelled on the wire (proto::Output::stream).
std::string_view stream_name(Stream stream);

struct RunSpec {
    std::uint64_t run_id = 0;
    std::vector<std::string> argv;                // argv[0] is looked up in PATH if it has no '/'
    std::map<std::string, std::string> env;       // added to / overriding the agent's environment;
                                                  // a PATH here is also the one argv[0] is found in
    std::string cwd;                              // empty: the agent's cwd
    std::chrono::milliseconds timeout{0};         // 0: none
    std::chrono::milliseconds kill_grace{10000};  // SIGTERM, then SIGKILL this long after
    std::string user, group;  // run as (needs a root agent); empty: the agent's own.
                              // user alone: its primary group; group alone: keeps the uid.
};

struct Exit {
    enum class Status { exited, signaled, timed_out, cancelled, failed_to_start };
    Status status = Status::exited;
    int exit_code = -1;              // set when the process exited (also for timed_out / cancelled)
    int signal = 0;                  // set when a signal ended it (also for timed_out / cancelled)
    std::int64_t started_at_ms = 0;  // Unix epoch ms (system_clock)
    std::int64_t ended_at_ms = 0;    // when the main process ended
    std::uint64_t stdout_bytes = 0;
    std::uint64_t stderr_bytes = 0;
    std::string error;  // failed_to_start: e.g. "exec 'nosuch': No such file or directory"
};

// "exited", "signaled", "timed_out", "cancelled" or "failed_to_start" (proto::Result::status).
std::string_view status_name(Exit::Status status);

class ProcessRunner {
  public:
    // Called from on_poll() only. Callbacks may call start(), cancel(), running() and
    // is_running(); they must not call on_poll() or destroy the runner.
    struct Listener {
        // bytes is valid only during the call; bytes of one stream arrive in order.
        std::function<void(std::uint64_t run_id, Stream, std::string_view bytes)> on_output;
        // Exactly once per started run, after all of its output; the run is no longer
        // is_running() by then, so its id may be started again.
        std::function<void(std::uint64_t run_id, const Exit&)> on_exit;
    };

    explicit ProcessRunner(Listener listener);
    // SIGKILLs the process group of every run whose main process is still alive and reaps
    // it. Calls no listener.
    ~ProcessRunner();
    ProcessRunner(const ProcessRunner&) = delete;
    ProcessRunner& operator=(const ProcessRunner&) = delete;

    // Starts the run; argv is exec'd directly, never through a shell. Anything that stops
    // the command itself from starting (no such program, permission, bad cwd, unknown user,
    // a user switch without root, a malformed env) is not an error here: it arrives later
    // through on_exit as failed_to_start, so the caller has one path for it. Errors only for
    // a duplicate run_id (one not yet reported through on_exit), an empty argv, or a system
    // resource failure (pipe, clone, pidfd).
    Result<void> start(const RunSpec& spec);

    // SIGTERM to the run's process group, SIGKILL after its kill_grace; Exit.status becomes
    // cancelled. No-op for an unknown id, a run already timing out or cancelled, or one whose
    // main process has already exited.
    void cancel(std::uint64_t run_id);

    // Stops (paused) or resumes reading the run's output: a process that writes more than
    // its pipes hold then blocks until it is resumed. Its exit is still noticed, but it is
    // reported only once its output has been read to the end. No-op for an unknown id.
    void pause_output(std::uint64_t run_id, bool paused);

    // Runs started and not yet reported through on_exit.
    std::size_t running() const;
    bool is_running(std::uint64_t run_id) const;

    // Poll integration. add_poll_fds() appends the descriptors to wait on (POLLIN); after
    // poll, pass the same entries (same order, with revents) to on_poll(). next_deadline()
    // is the earliest timer (timeout, kill, pipe grace, a failure to report), which may be in
    // the past: poll no longer than until then. on_poll() also handles expired timers, so it
    // must be called when that deadline passes even if no descriptor is ready. Entries that
    // are not the runner's are ignored.
    void add_poll_fds(std::vector<pollfd>& fds) const;
    void on_poll(std::span<const pollfd> fds);
    std::optional<Clock::time_point> next_deadline() const;

  private:
    struct Run;
    class ChildStack;

    void read_output(Run& run, Stream stream);
    void on_main_exit(Run& run);
    void on_timers(Run& run, Clock::time_point now);
    void terminate(Run& run, Exit::Status reason, Clock::time_point now);
    void close_pipe(Run& run, Stream stream);
    Exit make_exit(Run& run) const;

    // Constant after construction.
    const Listener listener_;
    // Runs until they are reported through on_exit. Stable addresses: listeners may start
    // runs while a Run& is in use.
    std::map<std::uint64_t, std::unique_ptr<Run>> runs_;
    // Every descriptor in add_poll_fds(), to the run it belongs to.
    std::unordered_map<int, std::uint64_t> fd_owner_;
    std::vector<char> read_buffer_;
    std::unique_ptr<ChildStack> child_stack_;  // from the first start()
};

}  // namespace hostline::agent
