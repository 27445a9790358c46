// ProcessRunner against real processes: what a user of `!run` would see come back.
#include "agent/runner/process_runner.hpp"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace hostline::agent {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

struct RecordedRun {
    std::string out;
    std::string err;
    std::optional<Exit> exit;
    int exits = 0;
};

// A ProcessRunner driven by the same kind of poll loop the agent runs, recording what its
// listener receives.
class Harness {
  public:
    Harness()
        : runner_(ProcessRunner::Listener{
              [this](std::uint64_t id, Stream stream, std::string_view bytes) {
                  RecordedRun& run = runs_[id];
                  if (run.exit) ADD_FAILURE() << "output of run " << id << " after its exit";
                  (stream == Stream::out ? run.out : run.err).append(bytes);
              },
              [this](std::uint64_t id, const Exit& exit) {
                  RecordedRun& run = runs_[id];
                  run.exit = exit;
                  ++run.exits;
                  if (runner_.is_running(id)) ADD_FAILURE() << "run " << id << " still running";
              }}) {}

    ProcessRunner& runner() { return runner_; }
    RecordedRun& run(std::uint64_t id) { return runs_[id]; }

    // Polls until done() holds; false if limit passes first.
    bool poll_until(const std::function<bool()>& done, Clock::duration limit = 20s) {
        auto give_up = Clock::now() + limit;
        while (!done()) {
            auto now = Clock::now();
            if (now >= give_up) return false;
            std::vector<pollfd> fds;
            runner_.add_poll_fds(fds);
            auto wake = give_up;
            if (auto deadline = runner_.next_deadline()) wake = std::min(wake, *deadline);
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, {}));
            if (::poll(fds.data(), fds.size(), static_cast<int>(wait.count())) < 0 &&
                errno != EINTR) {
                ADD_FAILURE() << "poll: " << std::strerror(errno);
                return false;
            }
            runner_.on_poll(fds);
        }
        return true;
    }

    bool poll_until_exit(std::uint64_t id, Clock::duration limit = 20s) {
        return poll_until([&] { return runs_[id].exit.has_value(); }, limit);
    }

    // Starts spec and polls until its exit; the exit must come.
    Exit run(const RunSpec& spec) {
        auto started = runner_.start(spec);
        EXPECT_TRUE(started.ok()) << (started ? "" : started.error().message);
        EXPECT_TRUE(poll_until_exit(spec.run_id)) << "run " << spec.run_id << " did not end";
        const RecordedRun& run = runs_[spec.run_id];
        EXPECT_EQ(run.exits, 1);
        return run.exit.value_or(Exit{});
    }

  private:
    std::map<std::uint64_t, RecordedRun> runs_;
    ProcessRunner runner_;
};

RunSpec spec_for(std::vector<std::string> argv, std::uint64_t run_id = 1) {
    RunSpec spec;
    spec.run_id = run_id;
    spec.argv = std::move(argv);
    return spec;
}

// A private directory for one test, removed afterwards.
class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "hostline-runner-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

std::string read_file(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Gone: no such process, or a zombie nobody has reaped yet (it runs nothing any more).
bool process_is_gone(pid_t pid) {
    if (::kill(pid, 0) < 0 && errno == ESRCH) return true;
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return true;
    char state = stat.size() > close_paren + 2 ? stat[close_paren + 2] : '?';
    return state == 'Z' || state == 'X';
}

// Waits a little for pid to disappear, since signals are delivered asynchronously.
bool process_goes_away(pid_t pid, Clock::duration limit = 2s) {
    auto give_up = Clock::now() + limit;
    while (!process_is_gone(pid)) {
        if (Clock::now() > give_up) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// Sets the test process's supplementary groups (needs root) and restores them on scope exit.
class AgentGroups {
  public:
    explicit AgentGroups(std::vector<gid_t> groups) {
        saved_.resize(static_cast<std::size_t>(::getgroups(0, nullptr)));
        saved_.resize(
            static_cast<std::size_t>(::getgroups(static_cast<int>(saved_.size()), saved_.data())));
        EXPECT_EQ(::setgroups(groups.size(), groups.data()), 0) << std::strerror(errno);
    }
    ~AgentGroups() { ::setgroups(saved_.size(), saved_.data()); }
    AgentGroups(const AgentGroups&) = delete;
    AgentGroups& operator=(const AgentGroups&) = delete;

  private:
    std::vector<gid_t> saved_;
};

TEST(ProcessRunnerTest, RunsArgvWithoutAShell) {
    Harness harness;
    Exit exit = harness.run(spec_for({"echo", "$HOME;", "`id`", "a | b", "*"}));
    EXPECT_EQ(exit.status, Exit::Status::exited);
    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(harness.run(1).out, "$HOME; `id` a | b *\n");
}

TEST(ProcessRunnerTest, StreamsStdoutAndStderrSeparately) {
    Harness harness;
    Exit exit = harness.run(spec_for({"sh", "-c", "echo to-out; echo to-err >&2; echo more-out"}));
    EXPECT_EQ(exit.status, Exit::Status::exited);
    EXPECT_EQ(harness.run(1).out, "to-out\nmore-out\n");
    EXPECT_EQ(harness.run(1).err, "to-err\n");
    EXPECT_EQ(exit.stdout_bytes, 16u);
    EXPECT_EQ(exit.stderr_bytes, 7u);
}

TEST(ProcessRunnerTest, ReportsExitCode) {
    Harness harness;
    auto before = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    Exit exit = harness.run(spec_for({"sh", "-c", "sleep 0.2; exit 3"}));
    auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
    EXPECT_EQ(exit.status, Exit::Status::exited);
    EXPECT_EQ(exit.exit_code, 3);
    EXPECT_EQ(exit.signal, 0);
    EXPECT_TRUE(exit.error.empty());
    EXPECT_LE(before, exit.started_at_ms);
    EXPECT_GE(exit.ended_at_ms - exit.started_at_ms, 200);
    EXPECT_LE(exit.ended_at_ms, after);
}

TEST(ProcessRunnerTest, ReportsSignal) {
    Harness harness;
    Exit exit = harness.run(spec_for({"sh", "-c", "kill -USR1 $$"}));
    EXPECT_EQ(exit.status, Exit::Status::signaled);
    EXPECT_EQ(exit.signal, SIGUSR1);
    EXPECT_EQ(exit.exit_code, -1);
}

TEST(ProcessRunnerTest, ChildStartsWithDefaultSignalHandlingAndAnEmptyMask) {
    // The agent may ignore or block signals (signalfd); its commands must not inherit that.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    struct sigaction previous_action {};
    ASSERT_EQ(sigaction(SIGUSR1, &ignore, &previous_action), 0);
    sigset_t block, previous_mask;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    ASSERT_EQ(sigprocmask(SIG_BLOCK, &block, &previous_mask), 0);

    Harness harness;
    Exit exit = harness.run(spec_for({"grep", "-E", "^Sig(Blk|Ign):", "/proc/self/status"}));

    sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
    sigaction(SIGUSR1, &previous_action, nullptr);
    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(harness.run(1).out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
}

TEST(ProcessRunnerTest, ChildGetsDevNullStdinAndNoInheritedDescriptors) {
    int leaked = ::open("/dev/null", O_RDONLY);  // deliberately not close-on-exec
    ASSERT_GE(leaked, 3);
    Harness harness;
    Exit stdin_exit = harness.run(spec_for({"readlink", "/proc/self/fd/0"}, 1));
    Exit leaked_exit =
        harness.run(spec_for({"test", "-e", "/proc/self/fd/" + std::to_string(leaked)}, 2));
    ::close(leaked);

    EXPECT_EQ(stdin_exit.exit_code, 0);
    EXPECT_EQ(harness.run(1).out, "/dev/null\n");
    EXPECT_EQ(leaked_exit.exit_code, 1) << "descriptor " << leaked << " reached the command";
}

TEST(ProcessRunnerTest, MissingExecutableIsFailedToStart) {
    Harness harness;
    RunSpec spec = spec_for({"hostline-no-such-program", "arg"}, 1);
    spec.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    Exit by_name = harness.run(spec);
    EXPECT_EQ(by_name.status, Exit::Status::failed_to_start);
    EXPECT_EQ(by_name.error, "exec 'hostline-no-such-program': No such file or directory");
    EXPECT_EQ(by_name.exit_code, -1);

    Exit by_path = harness.run(spec_for({"/nonexistent/bin/tool"}, 2));
    EXPECT_EQ(by_path.status, Exit::Status::failed_to_start);
    EXPECT_EQ(by_path.error, "exec '/nonexistent/bin/tool': No such file or directory");
    EXPECT_EQ(harness.run(2).out, "");
    EXPECT_EQ(harness.run(2).err, "");
}

TEST(ProcessRunnerTest, NonExecutableFileIsFailedToStart) {
    TempDir dir;
    fs::path script = dir.path() / "not-executable";
    std::ofstream(script) << "#!/bin/sh\necho should not run\n";
    Harness harness;
    Exit exit = harness.run(spec_for({script.string()}));
    EXPECT_EQ(exit.status, Exit::Status::failed_to_start);
    EXPECT_EQ(exit.error, "exec '" + script.string() + "': Permission denied");
}

TEST(ProcessRunnerTest, BadCwdIsFailedToStart) {
    Harness harness;
    RunSpec spec = spec_for({"pwd"});
    spec.cwd = "/nonexistent-hostline-dir";
    Exit exit = harness.run(spec);
    EXPECT_EQ(exit.status, Exit::Status::failed_to_start);
    EXPECT_EQ(exit.error, "chdir '/nonexistent-hostline-dir': No such file or directory");
    EXPECT_EQ(harness.run(1).out, "");
}

TEST(ProcessRunnerTest, EnvAndCwdReachTheProcess) {
    TempDir dir;
    ::setenv("HOSTLINE_TEST_INHERITED", "from-agent", 1);
    ::setenv("HOSTLINE_TEST_OVERRIDDEN", "agent-value", 1);
    Harness harness;
    RunSpec spec =
        spec_for({"sh", "-c",
                  "printf '%s|%s|%s|%s\\n' \"$HOSTLINE_TEST_INHERITED\" "
                  "\"$HOSTLINE_TEST_OVERRIDDEN\" \"$HOSTLINE_TEST_ADDED\" \"$(pwd -P)\""});
    spec.env = {{"HOSTLINE_TEST_OVERRIDDEN", "run-value"}, {"HOSTLINE_TEST_ADDED", "a b;$c"}};
    spec.cwd = dir.path().string();
    Exit exit = harness.run(spec);

    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(harness.run(1).out,
              "from-agent|run-value|a b;$c|" + fs::canonical(dir.path()).string() + "\n");
    EXPECT_STREQ(std::getenv("HOSTLINE_TEST_OVERRIDDEN"), "agent-value");
    ::unsetenv("HOSTLINE_TEST_INHERITED");
    ::unsetenv("HOSTLINE_TEST_OVERRIDDEN");
}

TEST(ProcessRunnerTest, ProgramIsFoundInThePathOfTheRunEnv) {
    TempDir dir;
    fs::path script = dir.path() / "hostline-hello";
    std::ofstream(script) << "#!/bin/sh\necho hello from \"$0\"\n";
    fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read |
                                fs::perms::group_exec | fs::perms::others_exec);
    Harness harness;
    RunSpec spec = spec_for({"hostline-hello"});
    spec.env = {{"PATH", "/nonexistent-hostline-dir:" + dir.path().string() + ":/usr/bin:/bin"}};
    Exit exit = harness.run(spec);
    EXPECT_EQ(exit.exit_code, 0) << exit.error;
    EXPECT_EQ(harness.run(1).out, "hello from " + script.string() + "\n");
}

TEST(ProcessRunnerTest, MalformedEnvNameIsFailedToStart) {
    Harness harness;
    RunSpec spec = spec_for({"true"});
    spec.env = {{"BAD=NAME", "x"}};
    Exit exit = harness.run(spec);
    EXPECT_EQ(exit.status, Exit::Status::failed_to_start);
    EXPECT_EQ(exit.error, "invalid environment variable name 'BAD=NAME'");
}

TEST(ProcessRunnerTest, TimeoutKillsTheWholeProcessTreeIncludingAChildThatIgnoresSigterm) {
    TempDir dir;
    fs::path pid_file = dir.path() / "child.pid";
    Harness harness;
    // The main shell dies of SIGTERM; its child ignores SIGTERM (as does the sleep it
    // becomes) and would live on if only SIGTERM or only the main process were signalled.
    RunSpec spec = spec_for({"sh", "-c",
                             "sh -c 'trap \"\" TERM; echo $$ > \"$1\"; exec sleep 30' child \"$0\" "
                             "& wait",
                             pid_file.string()});
    spec.timeout = 1000ms;
    spec.kill_grace = 300ms;
    auto started = Clock::now();
    Exit exit = harness.run(spec);
    auto took = Clock::now() - started;

    EXPECT_EQ(exit.status, Exit::Status::timed_out);
    EXPECT_EQ(exit.signal, SIGTERM);
    EXPECT_GE(took, 1000ms);
    EXPECT_LT(took, 1000ms + 300ms + 1500ms);
    std::string pid_text = read_file(pid_file);
    ASSERT_FALSE(pid_text.empty()) << "the child never started";
    pid_t child = std::stoi(pid_text);
    EXPECT_TRUE(process_goes_away(child, 300ms)) << "child " << child << " survived the timeout";
}

TEST(ProcessRunnerTest, TimeoutEscalatesToSigkillWhenSigtermIsIgnored) {
    Harness harness;
    RunSpec spec = spec_for({"sh", "-c", "trap '' TERM; sleep 30; echo survived"});
    spec.timeout = 200ms;
    spec.kill_grace = 300ms;
    auto started = Clock::now();
    Exit exit = harness.run(spec);
    auto took = Clock::now() - started;

    EXPECT_EQ(exit.status, Exit::Status::timed_out);
    EXPECT_EQ(exit.signal, SIGKILL);
    EXPECT_GE(took, 500ms);
    EXPECT_LT(took, 2500ms);
    EXPECT_EQ(harness.run(1).out, "");
}

TEST(ProcessRunnerTest, CancelStopsASleepQuickly) {
    Harness harness;
    ASSERT_TRUE(harness.runner().start(spec_for({"sleep", "30"}, 7)).ok());
    harness.poll_until([] { return false; }, 100ms);  // let it get going
    ASSERT_TRUE(harness.runner().is_running(7));

    auto cancelled_at = Clock::now();
    harness.runner().cancel(7);
    ASSERT_TRUE(harness.poll_until_exit(7));
    EXPECT_LT(Clock::now() - cancelled_at, 1s);
    const Exit& exit = *harness.run(7).exit;
    EXPECT_EQ(exit.status, Exit::Status::cancelled);
    EXPECT_EQ(exit.signal, SIGTERM);
    EXPECT_FALSE(harness.runner().is_running(7));
    EXPECT_EQ(harness.runner().running(), 0u);

    harness.runner().cancel(7);  // already finished: nothing happens
    harness.runner().cancel(12345);
}

TEST(ProcessRunnerTest, BackgroundGrandchildHoldingThePipeDoesNotHangTheRun) {
    Harness harness;
    auto started = Clock::now();
    Exit exit = harness.run(spec_for(
        {"sh", "-c", "echo early; (sleep 0.3; echo late; exec sleep 30) & echo \"bg $!\""}));
    auto took = Clock::now() - started;

    std::string out = harness.run(1).out;
    auto bg = out.find("bg ");
    ASSERT_NE(bg, std::string::npos) << out;
    pid_t grandchild = std::stoi(out.substr(bg + 3));
    ::kill(grandchild, SIGKILL);

    EXPECT_EQ(exit.status, Exit::Status::exited);
    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(out, "early\nbg " + std::to_string(grandchild) + "\nlate\n")
        << "output written during the grace period must still arrive";
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 4s);
}

TEST(ProcessRunnerTest, DropsPrivilegesToTheNamedUserAndGroups) {
    passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t nobody_uid = nobody->pw_uid;
    const gid_t nobody_gid = nobody->pw_gid;
    Harness harness;
    RunSpec spec = spec_for({"sh", "-c", "id -u; id -g; id -G"}, 1);

    if (::geteuid() != 0) {
        // Only root can switch users: asking for another user must fail visibly, never run
        // the command as the agent's own user instead.
        std::string other = ::geteuid() == nobody_uid ? "root" : "nobody";
        spec.user = other;
        Exit exit = harness.run(spec);
        EXPECT_EQ(exit.status, Exit::Status::failed_to_start);
        EXPECT_EQ(exit.error,
                  "cannot run as user '" + other + "': the agent is not running as root");
        EXPECT_EQ(harness.run(1).out, "");
        return;
    }

    spec.user = "nobody";

    // getgrnam reuses one buffer: take each id before the next lookup.
    group* entry = ::getgrnam("adm");
    ASSERT_NE(entry, nullptr);
    const gid_t adm_gid = entry->gr_gid;
    entry = ::getgrnam("daemon");
    ASSERT_NE(entry, nullptr);
    const gid_t daemon_gid = entry->gr_gid;
    // Give the agent supplementary groups for the duration, so that keeping them would show.
    AgentGroups agent_groups({0, adm_gid});

    Exit exit = harness.run(spec);
    EXPECT_EQ(exit.status, Exit::Status::exited) << exit.error;
    EXPECT_EQ(exit.exit_code, 0);
    auto id = [](unsigned value) { return std::to_string(value); };
    EXPECT_EQ(harness.run(1).out,
              id(nobody_uid) + "\n" + id(nobody_gid) + "\n" + id(nobody_gid) + "\n");

    RunSpec with_group = spec_for({"sh", "-c", "id -u; id -g; id -G"}, 2);
    with_group.user = "nobody";
    with_group.group = "daemon";
    Exit group_exit = harness.run(with_group);
    EXPECT_EQ(group_exit.exit_code, 0) << group_exit.error;
    EXPECT_EQ(harness.run(2).out,
              id(nobody_uid) + "\n" + id(daemon_gid) + "\n" + id(daemon_gid) + "\n");
}

TEST(ProcessRunnerTest, UnknownUserIsFailedToStart) {
    Harness harness;
    RunSpec spec = spec_for({"true"});
    spec.user = "hostline-no-such-user";
    Exit exit = harness.run(spec);
    EXPECT_EQ(exit.status, Exit::Status::failed_to_start);
    EXPECT_EQ(exit.error, "unknown user 'hostline-no-such-user'");
}

TEST(ProcessRunnerTest, LargeOutputIsCountedExactly) {
    Harness harness;
    Exit exit = harness.run(spec_for({"head", "-c", "5000000", "/dev/zero"}));
    EXPECT_EQ(exit.exit_code, 0);
    EXPECT_EQ(exit.stdout_bytes, 5000000u);
    const std::string& out = harness.run(1).out;
    EXPECT_EQ(out.size(), 5000000u);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\0'), 5000000);
}

TEST(ProcessRunnerTest, ConcurrentRunsKeepTheirOwnOutputAndExit) {
    Harness harness;
    constexpr int kRuns = 8;
    for (int i = 1; i <= kRuns; ++i) {
        std::string n = std::to_string(i);
        auto started = harness.runner().start(
            spec_for({"sh", "-c", "sleep 0.1; printf out-$1; printf err-$1 >&2; exit $1", "sh", n},
                     static_cast<std::uint64_t>(i)));
        ASSERT_TRUE(started.ok());
    }
    EXPECT_EQ(harness.runner().running(), static_cast<std::size_t>(kRuns));
    ASSERT_TRUE(harness.poll_until([&] { return harness.runner().running() == 0; }));
    for (int i = 1; i <= kRuns; ++i) {
        const RecordedRun& run = harness.run(static_cast<std::uint64_t>(i));
        EXPECT_EQ(run.out, "out-" + std::to_string(i));
        EXPECT_EQ(run.err, "err-" + std::to_string(i));
        ASSERT_TRUE(run.exit);
        EXPECT_EQ(run.exit->exit_code, i);
        EXPECT_EQ(run.exits, 1);
    }
}

TEST(ProcessRunnerTest, DuplicateRunIdAndEmptyArgvAreRejected) {
    Harness harness;
    ASSERT_TRUE(harness.runner().start(spec_for({"sleep", "0.2"}, 5)).ok());
    auto duplicate = harness.runner().start(spec_for({"true"}, 5));
    ASSERT_FALSE(duplicate.ok());
    EXPECT_EQ(duplicate.error().message, "run 5 is already running");
    auto empty = harness.runner().start(spec_for({}, 6));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().message, "run 6 has an empty argv");
    EXPECT_FALSE(harness.runner().is_running(6));

    ASSERT_TRUE(harness.poll_until_exit(5));
    EXPECT_EQ(harness.run(5).exit->exit_code, 0);
    // Once reported, the id may be used again.
    EXPECT_TRUE(harness.runner().start(spec_for({"true"}, 5)).ok());
}

TEST(ProcessRunnerTest, DestroyingTheRunnerKillsItsProcesses) {
    auto harness = std::make_unique<Harness>();
    ASSERT_TRUE(
        harness->runner().start(spec_for({"sh", "-c", "sleep 30 & echo $$ $!; wait"})).ok());
    ASSERT_TRUE(
        harness->poll_until([&] { return harness->run(1).out.find('\n') != std::string::npos; }));
    std::istringstream pids(harness->run(1).out);
    pid_t shell = 0, background = 0;
    pids >> shell >> background;
    ASSERT_GT(shell, 0);
    ASSERT_GT(background, 0);

    harness.reset();
    EXPECT_TRUE(process_is_gone(shell)) << "the destructor did not reap the main process";
    EXPECT_TRUE(process_goes_away(background)) << "the background sleep survived";
}

TEST(ProcessRunnerTest, PausedOutputBlocksTheProcessUntilResumedAndNothingIsLost) {
    Harness harness;
    // 4 MiB is far more than a pipe holds: while paused the writer must block, not finish.
    ASSERT_TRUE(harness.runner().start(spec_for({"head", "-c", "4194304", "/dev/zero"})).ok());
    harness.runner().pause_output(1, true);
    EXPECT_FALSE(harness.poll_until([&] { return harness.run(1).exit.has_value(); }, 1500ms))
        << "a paused run cannot finish: its process waits on the full pipe";
    EXPECT_LT(harness.run(1).out.size(), std::size_t{4194304});
    harness.runner().pause_output(1, false);
    ASSERT_TRUE(harness.poll_until_exit(1));
    EXPECT_EQ(harness.run(1).exit->exit_code, 0);
    EXPECT_EQ(harness.run(1).out.size(), std::size_t{4194304}) << "every byte, once";
}

// A process that fills its pipe gets a larger one (fewer wake-ups for the agent, and it
// writes on while the agent is busy); one that writes a little keeps the default. The process
// itself says its stdout's size (F_GETPIPE_SZ, 1032, through perl, which Debian always has).
TEST(ProcessRunnerTest, APipeTheProcessFillsGrowsAndAQuietOneDoesNot) {
    const std::string pipe_size = "perl -e 'print \"size \", fcntl(STDOUT, 1032, 0)'";
    Harness harness;
    // Paused, so the 300,000 bytes fill the 64 KiB pipe before the first read.
    ASSERT_TRUE(harness.runner()
                    .start(spec_for({"sh", "-c", "head -c 300000 /dev/zero; " + pipe_size}))
                    .ok());
    harness.runner().pause_output(1, true);
    EXPECT_FALSE(harness.poll_until([&] { return harness.run(1).exit.has_value(); }, 300ms));
    harness.runner().pause_output(1, false);
    ASSERT_TRUE(harness.poll_until_exit(1));
    const std::string& busy = harness.run(1).out;
    ASSERT_EQ(busy.size(), 300000u + 12u)
        << busy.substr(std::min<std::size_t>(busy.size(), 300000));
    EXPECT_EQ(busy.substr(300000), "size 1048576");

    ASSERT_TRUE(harness.runner().start(spec_for({"sh", "-c", "echo hi; " + pipe_size}, 2)).ok());
    ASSERT_TRUE(harness.poll_until_exit(2));
    EXPECT_EQ(harness.run(2).out, "hi\nsize 65536");
}

TEST(ProcessRunnerTest, ARunDiesWithTheProcessThatStartedIt) {
    // A stand-in agent: a child process that starts a long run and is then SIGKILLed. The
    // run's process must not outlive it (nobody would read or report it).
    char tmpl[] = "/tmp/hostline-orphan-XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    std::string pid_file = dir + "/pid";
    pid_t agent = fork();
    ASSERT_GE(agent, 0);
    if (agent == 0) {
        ProcessRunner runner(ProcessRunner::Listener{});
        RunSpec spec = spec_for({"sh", "-c",
                                 "echo $$ > " + pid_file + ".tmp && mv " + pid_file + ".tmp " +
                                     pid_file + " && exec sleep 60"});
        if (!runner.start(spec)) _exit(1);
        ::pause();
        _exit(0);
    }
    pid_t run = -1;
    for (int i = 0; i < 200 && run < 0; ++i) {
        std::ifstream in(pid_file);
        if (!(in >> run)) run = -1;
        if (run < 0) std::this_thread::sleep_for(50ms);
    }
    ASSERT_GT(run, 0) << "the run never started";
    ASSERT_EQ(::kill(run, 0), 0);
    ::kill(agent, SIGKILL);
    ::waitpid(agent, nullptr, 0);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
        // Reaped by init once it dies; until then kill(pid, 0) still succeeds on the zombie.
        std::ifstream stat("/proc/" + std::to_string(run) + "/stat");
        std::string line;
        gone = !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
        if (!gone) std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(gone) << "run process " << run << " outlived the agent that started it";
    if (!gone) ::kill(run, SIGKILL);
    fs::remove_all(dir);
}

}  // namespace
}  // namespace hostline::agent
