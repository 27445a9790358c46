#include "agent/runner/process_runner.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstdlib>

#include <cerrno>
#include <cstring>
#include <utility>

extern char** environ;

namespace hostline::agent {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kReadSize = std::size_t{64} * 1024;
// Reads per pipe per on_poll(): bounds one wake-up so a chatty process cannot starve others.
constexpr int kReadsPerWake = 4;
// A pipe a process fills (a read takes all of the default 64 KiB) grows to this: the process
// then writes on while the agent compresses and sends, and each wake-up reads up to
// kReadsPerWake buffers instead of the few KiB written since the last (1 GiB of output: a
// fifth less time, docs/performance.md). Only busy pipes, as a user's pipes count against
// its pipe-user-pages-soft (a root agent is exempt); past it the call fails and the pipe
// stays as it is.
constexpr int kBusyPipeBytes = 1 << 20;
// How long to keep reading after the main process exited, for a background process that
// still holds the pipes.
constexpr auto kPipeGrace = 2s;

// Owns one file descriptor.
class Fd {
  public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    void reset() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

  private:
    int fd_ = -1;
};

std::string errno_text(int error) {
    return std::strerror(error);
}

std::int64_t epoch_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The step of the child's setup that failed, sent to the parent with errno.
enum class ChildStep : int { stdio, close_fds, setgroups, setgid, setuid, keeps_root, chdir, exec };

struct ChildFailure {
    ChildStep step;
    int error;
};

// Who the child becomes. Resolved before the child starts: name lookups are not
// async-signal-safe.
struct Identity {
    bool change = false;
    std::vector<gid_t> groups;
    gid_t gid = 0;
    std::optional<uid_t> uid;  // empty: keep the agent's
};

// Everything the child needs, prepared before it starts so the child only makes
// async-signal-safe calls. Not copyable or movable: argv and envp point into the strings.
struct ExecPlan {
    ExecPlan(std::vector<std::string> args_in, std::vector<std::string> env_in)
        : args(std::move(args_in)), env(std::move(env_in)) {
        for (auto& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        for (auto& entry : env) envp.push_back(entry.data());
        envp.push_back(nullptr);
    }
    ExecPlan(const ExecPlan&) = delete;
    ExecPlan& operator=(const ExecPlan&) = delete;

    pid_t parent = getpid();
    std::vector<std::string> args;  // not resized after construction: argv points in
    std::vector<std::string> env;   // likewise for envp
    std::vector<char*> argv;
    std::vector<char*> envp;
    std::vector<std::string> candidates;  // paths to try with execve, in order
    std::string cwd;
    Identity identity;
};

template <class Entry, class Lookup>
Result<std::optional<Entry>> lookup_entry(const std::string& name, Lookup lookup) {
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        int error = lookup(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < (std::size_t{1} << 24)) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        // Some NSS modules say "no such entry" with an error rather than a null result.
        if (!found && (error == 0 || error == ENOENT || error == ESRCH)) {
            return std::optional<Entry>{};
        }
        if (error != 0) return fail(errno_text(error));
        return std::optional<Entry>{entry};  // only the numeric ids are used afterwards
    }
}

bool is_number(const std::string& text) {
    return !text.empty() && text.size() <= 10 &&
           text.find_first_not_of("0123456789") == std::string::npos;
}

// getpwuid_r and getgrgid_r with the shape of their *nam_r siblings, for numeric ids.
int getpwuid_text(const char* id, passwd* entry, char* buffer, std::size_t size, passwd** found) {
    return getpwuid_r(static_cast<uid_t>(std::strtoul(id, nullptr, 10)), entry, buffer, size,
                      found);
}
int getgrgid_text(const char* id, group* entry, char* buffer, std::size_t size, group** found) {
    return getgrgid_r(static_cast<gid_t>(std::strtoul(id, nullptr, 10)), entry, buffer, size,
                      found);
}

Result<Identity> resolve_identity(const RunSpec& spec) {
    Identity identity;
    if (spec.user.empty() && spec.group.empty()) return identity;

    std::optional<uid_t> uid;
    std::optional<gid_t> user_gid;
    if (!spec.user.empty()) {
        auto entry = lookup_entry<passwd>(spec.user, getpwnam_r);
        if (entry && !*entry && is_number(spec.user))
            entry = lookup_entry<passwd>(spec.user, getpwuid_text);
        if (!entry) return fail("look up user '" + spec.user + "': " + entry.error().message);
        if (!*entry) return fail("unknown user '" + spec.user + "'");
        uid = (*entry)->pw_uid;
        user_gid = (*entry)->pw_gid;
    }
    std::optional<gid_t> group_gid;
    if (!spec.group.empty()) {
        auto entry = lookup_entry<group>(spec.group, getgrnam_r);
        if (entry && !*entry && is_number(spec.group))
            entry = lookup_entry<group>(spec.group, getgrgid_text);
        if (!entry) return fail("look up group '" + spec.group + "': " + entry.error().message);
        if (*entry)
            group_gid = (*entry)->gr_gid;
        else if (is_number(spec.group))
            group_gid = static_cast<gid_t>(std::stoul(spec.group));  // a gid needs no name
        else
            return fail("unknown group '" + spec.group + "'");
    }

    if (geteuid() != 0) {
        // Without root the only identity available is the agent's own.
        if (uid && *uid != geteuid()) {
            return fail("cannot run as user '" + spec.user + "': the agent is not running as root");
        }
        if (group_gid && *group_gid != getegid()) {
            return fail("cannot run as group '" + spec.group +
                        "': the agent is not running as root");
        }
        return identity;
    }

    identity.change = true;
    identity.uid = uid;
    identity.gid = group_gid ? *group_gid : *user_gid;
    if (!uid) {
        identity.groups = {identity.gid};
        return identity;
    }
    int count = 32;
    for (;;) {
        identity.groups.resize(static_cast<std::size_t>(count));
        int capacity = count;
        if (getgrouplist(spec.user.c_str(), identity.gid, identity.groups.data(), &count) >= 0) {
            identity.groups.resize(static_cast<std::size_t>(count));
            return identity;
        }
        if (count <= capacity) count = capacity * 2;
    }
}

// The environment: the agent's, with spec.env added or replacing entries of the same name.
Result<std::vector<std::string>> make_env(const std::map<std::string, std::string>& overrides) {
    std::vector<std::string> env;
    for (const auto& [name, value] : overrides) {
        if (name.empty() || name.find_first_of(std::string_view("=\0", 2)) != std::string::npos) {
            return fail("invalid environment variable name '" + name + "'");
        }
        if (value.find('\0') != std::string::npos) {
            return fail("environment variable '" + name + "' contains a NUL byte");
        }
    }
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string_view text(*entry);
        std::string name(text.substr(0, text.find('=')));
        if (!overrides.contains(name)) env.emplace_back(text);
    }
    for (const auto& [name, value] : overrides) env.push_back(name + "=" + value);
    return env;
}

// The paths execvp would try for program, searching the PATH the child will have.
std::vector<std::string> exec_candidates(const std::string& program,
                                         const std::map<std::string, std::string>& env) {
    if (program.find('/') != std::string::npos) return {program};
    std::string path = "/bin:/usr/bin";
    if (auto it = env.find("PATH"); it != env.end()) {
        path = it->second;
    } else if (const char* inherited = std::getenv("PATH")) {
        path = inherited;
    }
    std::vector<std::string> candidates;
    std::size_t begin = 0;
    for (;;) {
        std::size_t end = path.find(':', begin);
        std::string dir = path.substr(begin, end == std::string::npos ? end : end - begin);
        candidates.push_back(dir.empty() ? program : dir + "/" + program);
        if (end == std::string::npos) break;
        begin = end + 1;
    }
    return candidates;
}

Result<std::unique_ptr<ExecPlan>> make_plan(const RunSpec& spec) {
    for (const auto& arg : spec.argv) {
        if (arg.find('\0') != std::string::npos) return fail("an argument contains a NUL byte");
    }
    if (spec.cwd.find('\0') != std::string::npos) return fail("cwd contains a NUL byte");
    auto identity = resolve_identity(spec);
    if (!identity) return identity.error();
    auto env = make_env(spec.env);
    if (!env) return env.error();
    auto plan = std::make_unique<ExecPlan>(spec.argv, std::move(*env));
    plan->identity = std::move(*identity);
    plan->candidates = exec_candidates(spec.argv[0], spec.env);
    plan->cwd = spec.cwd;
    return plan;
}

// The child's code runs on a stack the address sanitizer does not know (the test build): its
// checks there would report the stack itself as an overflow.
#define HOSTLINE_CHILD_CODE [[gnu::no_sanitize_address]]

HOSTLINE_CHILD_CODE [[noreturn]] void fail_child(int report_fd, ChildStep step, int error) {
    ChildFailure failure{step, error};
    // One write below PIPE_BUF is atomic; nothing more can be done if it fails.
    [[maybe_unused]] ssize_t written = ::write(report_fd, &failure, sizeof failure);
    _exit(127);
}

// Runs in the child, which shares the agent's memory until execve (clone with CLONE_VM and
// CLONE_VFORK, as posix_spawn does: no copy of the agent's page tables to make and tear down
// again, which cost a /bin/true run more than the rest of the agent's work). So from here to
// execve: system calls only, no allocation, no write to anything the agent owns, and no glibc
// wrapper that acts on the whole process's threads (setuid and its kin: the raw calls below).
HOSTLINE_CHILD_CODE [[noreturn]] void exec_child(const ExecPlan& plan, int stdin_fd, int stdout_fd,
                                                 int stderr_fd, int report_fd) {
    // Handlers were blocked around clone; reset dispositions before unblocking so none of the
    // agent's handlers runs here, and so SIG_IGN does not leak into the command.
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int signo = 1; signo < NSIG; ++signo) {
        if (signo == SIGKILL || signo == SIGSTOP) continue;
        if (sigaction(signo, &default_action, nullptr) != 0) {
            // glibc refuses the two real-time signals it reserves (32, 33), yet a parent can
            // leave them ignored (ctest does): reset them with the raw system call.
            struct {
                void (*handler)(int);
                unsigned long flags;
                void (*restorer)();
                unsigned long mask;
            } kernel_default{SIG_DFL, 0, nullptr, 0};
            syscall(SYS_rt_sigaction, signo, &kernel_default, nullptr, sizeof(unsigned long));
        }
    }
    sigset_t empty;
    sigemptyset(&empty);
    sigprocmask(SIG_SETMASK, &empty, nullptr);

    setpgid(0, 0);  // the parent does it too; whichever runs first wins

    // The parent made sure all three sources are above 2, so no dup2 clobbers another.
    if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) {
        fail_child(report_fd, ChildStep::stdio, errno);
    }
    // Everything else closes at exec; the report pipe stays usable until then.
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        rlimit limit{};
        if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
            fail_child(report_fd, ChildStep::close_fds, errno);
        rlim_t last = limit.rlim_cur == RLIM_INFINITY ? 1 << 20 : limit.rlim_cur;
        for (rlim_t fd = 3; fd < last; ++fd) fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
    }

    const Identity& identity = plan.identity;
    if (identity.change) {
        // glibc's setgroups/setgid/setuid would signal every thread of the agent to change it
        // too (POSIX wants the whole process to change): only this process must.
        if (syscall(SYS_setgroups, identity.groups.size(), identity.groups.data()) < 0) {
            fail_child(report_fd, ChildStep::setgroups, errno);
        }
        if (syscall(SYS_setgid, identity.gid) < 0) fail_child(report_fd, ChildStep::setgid, errno);
        if (identity.uid) {
            if (syscall(SYS_setuid, *identity.uid) < 0)
                fail_child(report_fd, ChildStep::setuid, errno);
            if (*identity.uid != 0 && syscall(SYS_setuid, 0) == 0) {
                fail_child(report_fd, ChildStep::keeps_root, 0);
            }
        }
    }
    // After the switch, so a directory the user may not enter fails here.
    if (!plan.cwd.empty() && chdir(plan.cwd.c_str()) < 0) {
        fail_child(report_fd, ChildStep::chdir, errno);
    }
    // Dies with the agent (set after the switch, which clears it): a run nobody reads or
    // reports on is not left behind; the restarted agent reports it interrupted.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != plan.parent) _exit(127);  // the agent died before prctl

    // execvp's search, without its fallback of running a non-executable file with /bin/sh.
    // A program found but not executable (EACCES) wins over not found further along PATH.
    int error = ENOENT;
    bool denied = false;
    for (const auto& candidate : plan.candidates) {
        execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
        error = errno;
        if (error == EACCES) {
            denied = true;
        } else if (error != ENOENT && error != ENOTDIR && error != ESTALE && error != ENODEV &&
                   error != ETIMEDOUT) {
            fail_child(report_fd, ChildStep::exec, error);
        }
    }
    fail_child(report_fd, ChildStep::exec, denied ? EACCES : error);
}

// What clone() hands the child.
struct ChildStart {
    const ExecPlan* plan;
    int stdin_fd, stdout_fd, stderr_fd, report_fd;
};

HOSTLINE_CHILD_CODE int child_main(void* arg) {
    const auto* start = static_cast<const ChildStart*>(arg);
    exec_child(*start->plan, start->stdin_fd, start->stdout_fd, start->stderr_fd, start->report_fd);
}

// A pipe whose read end, kept by the agent, is non-blocking and whose write end, given to the
// child, is above the stdio numbers (so the child's dup2 calls cannot clobber each other).
// Both ends are close-on-exec.
struct Pipe {
    Fd read;
    Fd write;
};

Result<Fd> above_stdio(Fd fd) {
    if (fd.get() > 2) return fd;
    int moved = fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return fail(errno_text(errno));
    return Fd(moved);
}

Result<Pipe> make_pipe(bool nonblocking_read) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return fail("pipe: " + errno_text(errno));
    Pipe pipe{Fd(fds[0]), Fd(fds[1])};
    auto write = above_stdio(std::move(pipe.write));
    if (!write) return fail("pipe: " + write.error().message);
    pipe.write = std::move(*write);
    if (nonblocking_read) {
        int flags = fcntl(pipe.read.get(), F_GETFL);
        if (flags < 0 || fcntl(pipe.read.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
            return fail("pipe: " + errno_text(errno));
        }
    }
    return pipe;
}

// Sends signo to the process group led by pid. Fails harmlessly (ESRCH) once it is gone.
void signal_group(pid_t pid, int signo) {
    ::kill(-pid, signo);
}

void reap_blocking(pid_t pid) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace

// The stack a child runs on from clone() to execve. The agent waits meanwhile (CLONE_VFORK),
// so one serves every start; mapped on the first, so an idle agent does not hold it.
class ProcessRunner::ChildStack {
  public:
    // Ample for exec_child even unoptimised and instrumented (the test build); a guard page
    // below turns an overflow into a crash of the child rather than of the agent's heap.
    static constexpr std::size_t kBytes = std::size_t{256} * 1024;
    static constexpr std::size_t kGuard = 4096;

    static Result<std::unique_ptr<ChildStack>> map() {
        void* base = ::mmap(nullptr, kBytes + kGuard, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) return fail("mmap of a child's stack: " + errno_text(errno));
        if (::mprotect(base, kGuard, PROT_NONE) != 0) {
            int error = errno;
            ::munmap(base, kBytes + kGuard);
            return fail("mprotect of a child's stack: " + errno_text(error));
        }
        return std::unique_ptr<ChildStack>(new ChildStack(static_cast<char*>(base)));
    }
    ~ChildStack() { ::munmap(base_, kBytes + kGuard); }
    ChildStack(const ChildStack&) = delete;
    ChildStack& operator=(const ChildStack&) = delete;

    void* top() const { return base_ + kGuard + kBytes; }  // x86-64 and arm64 grow down

  private:
    explicit ChildStack(char* base) : base_(base) {}
    char* base_;
};

std::string_view stream_name(Stream stream) {
    return stream == Stream::out ? "stdout" : "stderr";
}

std::string_view status_name(Exit::Status status) {
    switch (status) {
        case Exit::Status::exited:
            return "exited";
        case Exit::Status::signaled:
            return "signaled";
        case Exit::Status::timed_out:
            return "timed_out";
        case Exit::Status::cancelled:
            return "cancelled";
        case Exit::Status::failed_to_start:
            return "failed_to_start";
    }
    return "unknown";
}

struct ProcessRunner::Run {
    std::uint64_t id = 0;
    Clock::time_point started;
    pid_t pid = -1;  // also the process group id; -1 when it failed before fork
    Fd pidfd;        // valid until the main process is reaped
    Fd out, err;     // valid until EOF or the pipe grace ends
    Fd report;       // the child's setup failure, read once it is reaped
    std::chrono::milliseconds kill_grace{0};
    std::optional<Exit::Status> ending;  // timed_out or cancelled once requested
    std::optional<Clock::time_point> timeout_at;
    std::optional<Clock::time_point> kill_at;
    std::optional<Clock::time_point> pipes_close_at;
    bool reaped = false;
    bool paused = false;                        // output pipes not read (back-pressure)
    bool out_grown = false, err_grown = false;  // to kBusyPipeBytes
    std::optional<int> wait_status;             // empty: lost (somebody else reaped it)
    std::string start_error;                    // failed_to_start before fork: reported by on_poll
    std::optional<ChildFailure> child_failure;
    Exit exit;
    // For the failure messages.
    std::string program, cwd;
    std::optional<uid_t> uid;
    gid_t gid = 0;

    bool finished() const {
        return !start_error.empty() || (reaped && !out.valid() && !err.valid());
    }
};

ProcessRunner::ProcessRunner(Listener listener)
    : listener_(std::move(listener)), read_buffer_(kReadSize) {}

ProcessRunner::~ProcessRunner() {
    for (auto& [id, run] : runs_) {
        if (run->pid > 0 && !run->reaped) {
            signal_group(run->pid, SIGKILL);
            ::kill(run->pid, SIGKILL);  // in case it is not yet in its own group
            reap_blocking(run->pid);
        }
    }
}

Result<void> ProcessRunner::start(const RunSpec& spec) {
    if (runs_.contains(spec.run_id)) {
        return fail("run " + std::to_string(spec.run_id) + " is already running");
    }
    if (spec.argv.empty()) return fail("run " + std::to_string(spec.run_id) + " has an empty argv");

    auto run = std::make_unique<Run>();
    run->id = spec.run_id;
    run->started = Clock::now();
    run->exit.started_at_ms = epoch_ms();
    run->kill_grace = spec.kill_grace;
    run->program = spec.argv[0];
    run->cwd = spec.cwd;

    auto plan = make_plan(spec);
    if (!plan) {
        run->start_error = plan.error().message;
        run->exit.ended_at_ms = run->exit.started_at_ms;
        runs_.emplace(spec.run_id, std::move(run));
        return {};
    }
    const ExecPlan& exec_plan = **plan;
    run->uid = exec_plan.identity.uid;
    run->gid = exec_plan.identity.gid;

    auto out = make_pipe(true);
    if (!out) return out.error();
    auto err = make_pipe(true);
    if (!err) return err.error();
    auto report = make_pipe(true);
    if (!report) return report.error();
    Fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_fd.valid()) return fail("open /dev/null: " + errno_text(errno));
    auto null = above_stdio(std::move(null_fd));
    if (!null) return fail("open /dev/null: " + null.error().message);

    if (!child_stack_) {
        auto stack = ChildStack::map();
        if (!stack) return stack.error();
        child_stack_ = std::move(*stack);
    }
    ChildStart child{&exec_plan, null->get(), out->write.get(), err->write.get(),
                     report->write.get()};
    // Blocked across clone so no handler of the agent runs in the child (on the agent's
    // memory) before it resets them. clone returns once the child has exec'd or exited.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pid_t pid = ::clone(child_main, child_stack_->top(), CLONE_VM | CLONE_VFORK | SIGCHLD, &child);
    int fork_error = errno;
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (pid < 0) return fail("clone: " + errno_text(fork_error));

    // Also here, so kill(-pid) reaches the group as soon as start() returns. Fails with EACCES
    // once the child has exec'd, by which time it has done it itself.
    setpgid(pid, pid);
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
        int error = errno;
        signal_group(pid, SIGKILL);
        ::kill(pid, SIGKILL);
        reap_blocking(pid);
        return fail("pidfd_open: " + errno_text(error));
    }

    run->pid = pid;
    run->pidfd = Fd(pidfd);
    run->out = std::move(out->read);
    run->err = std::move(err->read);
    run->report = std::move(report->read);
    if (spec.timeout.count() > 0) run->timeout_at = run->started + spec.timeout;
    for (int fd : {run->pidfd.get(), run->out.get(), run->err.get()}) fd_owner_[fd] = spec.run_id;
    runs_.emplace(spec.run_id, std::move(run));
    return {};
}

void ProcessRunner::cancel(std::uint64_t run_id) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    terminate(*it->second, Exit::Status::cancelled, Clock::now());
}

std::size_t ProcessRunner::running() const {
    return runs_.size();
}

bool ProcessRunner::is_running(std::uint64_t run_id) const {
    return runs_.contains(run_id);
}

void ProcessRunner::pause_output(std::uint64_t run_id, bool paused) {
    auto it = runs_.find(run_id);
    if (it != runs_.end()) it->second->paused = paused;
}

void ProcessRunner::add_poll_fds(std::vector<pollfd>& fds) const {
    for (const auto& [id, run] : runs_) {
        if (run->pidfd.valid()) fds.push_back(pollfd{run->pidfd.get(), POLLIN, 0});
        if (run->paused) continue;
        for (const Fd* fd : {&run->out, &run->err}) {
            if (fd->valid()) fds.push_back(pollfd{fd->get(), POLLIN, 0});
        }
    }
}

std::optional<Clock::time_point> ProcessRunner::next_deadline() const {
    std::optional<Clock::time_point> earliest;
    auto consider = [&](const std::optional<Clock::time_point>& at) {
        if (at && (!earliest || *at < *earliest)) earliest = at;
    };
    for (const auto& [id, run] : runs_) {
        if (!run->start_error.empty()) consider(run->started);
        consider(run->timeout_at);
        consider(run->kill_at);
        if (!run->paused) consider(run->pipes_close_at);
    }
    return earliest;
}

void ProcessRunner::on_poll(std::span<const pollfd> fds) {
    // Listeners may start runs (and so reuse descriptor numbers closed here): look every
    // entry up afresh. A stale match costs one EAGAIN read or one empty waitpid.
    for (const pollfd& entry : fds) {
        if (entry.revents == 0) continue;
        auto owner = fd_owner_.find(entry.fd);
        if (owner == fd_owner_.end()) continue;
        auto it = runs_.find(owner->second);
        if (it == runs_.end()) continue;
        Run& run = *it->second;
        if (entry.fd == run.pidfd.get()) {
            on_main_exit(run);
        } else if (entry.fd == run.out.get()) {
            read_output(run, Stream::out);
        } else if (entry.fd == run.err.get()) {
            read_output(run, Stream::err);
        }
    }

    auto now = Clock::now();
    std::vector<std::unique_ptr<Run>> finished;
    for (auto it = runs_.begin(); it != runs_.end();) {
        on_timers(*it->second, now);
        if (it->second->finished()) {
            finished.push_back(std::move(it->second));
            it = runs_.erase(it);
        } else {
            ++it;
        }
    }
    // After the runs left runs_, so a listener sees them gone and may reuse their ids.
    for (auto& run : finished) {
        Exit exit = make_exit(*run);
        if (listener_.on_exit) listener_.on_exit(run->id, exit);
    }
}

void ProcessRunner::read_output(Run& run, Stream stream) {
    Fd& fd = stream == Stream::out ? run.out : run.err;
    std::uint64_t& counted = stream == Stream::out ? run.exit.stdout_bytes : run.exit.stderr_bytes;
    for (int reads = 0; reads < kReadsPerWake && fd.valid(); ++reads) {
        ssize_t n = ::read(fd.get(), read_buffer_.data(), read_buffer_.size());
        if (n > 0) {
            counted += static_cast<std::uint64_t>(n);
            if (listener_.on_output) {
                listener_.on_output(run.id, stream,
                                    std::string_view(read_buffer_.data(), static_cast<size_t>(n)));
            }
            if (static_cast<std::size_t>(n) < read_buffer_.size()) return;  // drained for now
            if (bool& grown = stream == Stream::out ? run.out_grown : run.err_grown; !grown) {
                grown = true;
                ::fcntl(fd.get(), F_SETPIPE_SZ, kBusyPipeBytes);
            }
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            close_pipe(run, stream);  // EOF, or an error that will not go away
        }
    }
}

void ProcessRunner::close_pipe(Run& run, Stream stream) {
    Fd& fd = stream == Stream::out ? run.out : run.err;
    if (!fd.valid()) return;
    fd_owner_.erase(fd.get());
    fd.reset();
}

void ProcessRunner::on_main_exit(Run& run) {
    // While the exited leader is a zombie its pid still names the group, so this cannot hit
    // an unrelated group that reused the number.
    if (run.ending) signal_group(run.pid, SIGKILL);
    int status = 0;
    pid_t reaped;
    while ((reaped = waitpid(run.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (reaped == 0) return;  // not exited after all
    if (reaped == run.pid) run.wait_status = status;

    run.reaped = true;
    run.exit.ended_at_ms = epoch_ms();
    fd_owner_.erase(run.pidfd.get());
    run.pidfd.reset();
    run.timeout_at.reset();
    run.kill_at.reset();
    ChildFailure failure{};
    if (::read(run.report.get(), &failure, sizeof failure) == sizeof failure) {
        run.child_failure = failure;
    }
    run.report.reset();
    if (run.out.valid() || run.err.valid()) run.pipes_close_at = Clock::now() + kPipeGrace;
}

void ProcessRunner::on_timers(Run& run, Clock::time_point now) {
    if (run.timeout_at && now >= *run.timeout_at) terminate(run, Exit::Status::timed_out, now);
    if (run.kill_at && now >= *run.kill_at) {
        run.kill_at.reset();
        signal_group(run.pid, SIGKILL);
    }
    if (run.pipes_close_at && now >= *run.pipes_close_at && !run.paused) {
        run.pipes_close_at.reset();
        // Whatever the background process wrote so far, within one wake-up's budget.
        for (Stream stream : {Stream::out, Stream::err}) {
            read_output(run, stream);
            close_pipe(run, stream);
        }
    }
}

void ProcessRunner::terminate(Run& run, Exit::Status reason, Clock::time_point now) {
    if (run.pid < 0 || run.reaped || run.ending) return;
    run.ending = reason;
    run.timeout_at.reset();
    signal_group(run.pid, SIGTERM);
    signal_group(run.pid, SIGCONT);  // a stopped process acts on SIGTERM only once resumed
    if (run.kill_grace.count() <= 0) {
        signal_group(run.pid, SIGKILL);
    } else {
        run.kill_at = now + run.kill_grace;
    }
}

Exit ProcessRunner::make_exit(Run& run) const {
    Exit exit = run.exit;
    if (!run.start_error.empty()) {
        exit.status = Exit::Status::failed_to_start;
        exit.error = run.start_error;
        return exit;
    }
    if (run.child_failure) {
        exit.status = Exit::Status::failed_to_start;
        std::string reason = errno_text(run.child_failure->error);
        std::string uid = run.uid ? std::to_string(*run.uid) : "?";
        switch (run.child_failure->step) {
            case ChildStep::stdio:
                exit.error = "redirect stdin/stdout/stderr: " + reason;
                break;
            case ChildStep::close_fds:
                exit.error = "close inherited descriptors: " + reason;
                break;
            case ChildStep::setgroups:
                exit.error = "setgroups: " + reason;
                break;
            case ChildStep::setgid:
                exit.error = "setgid " + std::to_string(run.gid) + ": " + reason;
                break;
            case ChildStep::setuid:
                exit.error = "setuid " + uid + ": " + reason;
                break;
            case ChildStep::keeps_root:
                exit.error = "dropping privileges to uid " + uid + " failed: setuid(0) still works";
                break;
            case ChildStep::chdir:
                exit.error = "chdir '" + run.cwd + "': " + reason;
                break;
            case ChildStep::exec:
                exit.error = "exec '" + run.program + "': " + reason;
                break;
        }
        return exit;
    }
    if (!run.wait_status) {
        exit.status = Exit::Status::exited;
        exit.error = "exit status lost: the process was reaped by someone else";
    } else if (WIFSIGNALED(*run.wait_status)) {
        exit.status = Exit::Status::signaled;
        exit.signal = WTERMSIG(*run.wait_status);
    } else {
        exit.status = Exit::Status::exited;
        exit.exit_code = WEXITSTATUS(*run.wait_status);
    }
    if (run.ending) exit.status = *run.ending;
    return exit;
}

}  // namespace hostline::agent
