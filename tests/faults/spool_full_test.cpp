// Issue 5, scenario 4: the agent's spool fills while the controller is away. The run's
// process is held back for spool_full_wait (back-pressure on its pipe), then the rest of its
// output is dropped and counted; the run still ends with its real exit code, marked
// truncated, its stored output a prefix of what it wrote plus one line that says how much was
// cut. The agent stays up. Once on a real full disk (a 4 MiB tmpfs: needs root), once at
// spool_max_bytes.
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>

#include "faults/fault_scenario.hpp"
#include "faults/fault_support.hpp"

namespace hostline::faults {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// About 20 MB of output: far more than either spool holds.
constexpr std::uint64_t kLines = 170000;
// The controller's default output_cap_bytes, which travels with the run: the agent cuts
// output there whatever its spool, so the spool can only be blamed for bytes below it.
constexpr std::uint64_t kOutputCap = 16 * 1024 * 1024;

// A tmpfs of the given size on a new directory under /tmp, unmounted (lazily, if the agent
// still has files open on it) and removed on destruction.
class TmpfsMount {
  public:
    explicit TmpfsMount(const std::string& size) {
        char pattern[] = "/tmp/hostline-spool-disk-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            error_ = std::string("mkdtemp: ") + std::strerror(errno);
            return;
        }
        path_ = pattern;
        const std::string options = "size=" + size + ",mode=0700";
        if (::mount("tmpfs", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
            error_ = "mount -t tmpfs -o " + options + " " + path_ + ": " + std::strerror(errno);
            return;
        }
        mounted_ = true;
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
        if (!path_.empty()) ::rmdir(path_.c_str());
    }
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;

    const std::string& path() const { return path_; }
    const std::string& error() const { return error_; }  // empty once mounted

  private:
    std::string path_;
    std::string error_;
    bool mounted_ = false;
};

class SpoolFull : public FaultScenario {
  protected:
    // Starts a run that writes ~20 MB on agent (options as given), kills the controller as
    // soon as the process exists so nothing more is acknowledged, and checks what a user sees
    // once the controller is back.
    void expect_output_cut_and_result_kept(const std::string& scenario, const std::string& name,
                                           testing::AgentOptions options) {
        const FaultSettings settings = FaultSettings::from_environment();
        cluster.start_controller();
        ASSERT_TRUE(start_agent(name, std::move(options)));

        const auto started = Clock::now();
        // The pid makes the tag unique on the machine: the test finds the process by it.
        const WriterJob job =
            submit_writer(cluster, name, name + "-" + std::to_string(::getpid()), kLines, 0);
        std::optional<pid_t> writer;
        ASSERT_TRUE(eventually(
            [&] {
                writer = find_process_with_argument(job.tag);
                return writer.has_value();
            },
            60s, 1ms))
            << "the writer never started";
        cluster.kill_controller();

        // Back-pressure holds the process for spool_full_wait (2 s); then its output is
        // dropped and it runs to its end. It must not stay blocked on its pipe.
        const auto cut_off = Clock::now();
        EXPECT_TRUE(eventually([&] { return !testing::process_alive(*writer); }, 60s))
            << "the writer (pid " << *writer
            << ") is still alive 60 s after the controller went away: blocked for good?";
        const double writer_ended_after =
            std::chrono::duration<double>(Clock::now() - cut_off).count();
        ASSERT_TRUE(cluster.agent_alive(name)) << "the agent died with its spool full";

        cluster.start_controller();
        ASSERT_EQ(wait_all_final(cluster, {job}, 90s), "");
        const StoredRun run = read_stored_run(cluster, job.job_id);
        const OutputCheck check = check_output(job, run.out);
        const std::string expected = job.expected();

        EXPECT_EQ(run.state, "succeeded") << run.describe();
        EXPECT_EQ(run.exit_code, 0) << run.describe();
        EXPECT_TRUE(run.truncated) << run.describe();
        EXPECT_EQ(check.match, OutputMatch::prefix)
            << (check.match == OutputMatch::exact ? "nothing was cut: did the spool fill? " : "")
            << check.detail;
        EXPECT_EQ(run.sequence_problem, "");
        // The writer prints nothing on stderr: the one stderr chunk is the closing line.
        static const std::regex kMarker(
            R"(\[hostline: output cut: ([0-9]+) bytes dropped because the agent's spool was full\])");
        std::smatch marker;
        EXPECT_EQ(run.last_stream, "stderr") << "the marker is not the last chunk";
        EXPECT_EQ(run.err, run.last_data) << "stderr holds more than the marker";
        const bool marked = std::regex_search(run.last_data, marker, kMarker);
        EXPECT_TRUE(marked) << "the last chunk is not the marker: \""
                            << run.last_data.substr(0, 300) << "\"";
        if (marked) {
            // Nothing vanished unaccounted: what was stored and what the spool dropped add
            // up to what the writer printed, up to the output cap.
            EXPECT_EQ(run.out.size() + std::stoull(marker[1].str()),
                      std::min<std::uint64_t>(expected.size(), kOutputCap))
                << "stored " << run.out.size() << " + dropped " << marker[1]
                << " is not what the writer printed (" << expected.size() << ") up to the cap";
        }
        EXPECT_EQ(run.stdout_bytes, static_cast<long>(expected.size()))
            << "the run should count every byte its process wrote";
        EXPECT_TRUE(cluster.agent_alive(name)) << "the agent did not survive its full spool";
        EXPECT_TRUE(eventually([&] { return shows_online(cluster, name); }, 30s))
            << "the agent is not online after the controller came back";

        FaultReport report;
        report.scenario = scenario;
        report.runs = 1;
        report.kills = 1;
        report.succeeded = run.state == "succeeded";
        report.lost = run.state == "lost";
        report.bytes_checked = run.out.size();
        report.seconds_to_all_final = std::chrono::duration<double>(Clock::now() - started).count();
        report.seed = settings.seed;
        char extra[160];
        std::snprintf(extra, sizeof extra, "written=%zu stored=%zu writer_ended_after_s=%.1f",
                      expected.size(), run.out.size(), writer_ended_after);
        report.extra = extra;
        report.print();
    }
};

TEST_F(SpoolFull, SpoolDiskFullCutsTheRunsOutputButKeepsItsResult) {
    TmpfsMount disk("4m");
    ASSERT_EQ(disk.error(), "")
        << "this test needs root to mount a 4 MiB tmpfs for the agent's state directory";
    expect_output_cut_and_result_kept(
        "SpoolDiskFull", "small-disk",
        {.capacity = 1,
         .state_dir = disk.path() + "/agent",
         // Above the disk's size, so the real ENOSPC is what stops the spool.
         .agent_toml = "spool_max_bytes = 67108864\nspool_full_wait = \"2s\"\n"});
}

TEST_F(SpoolFull, SpoolLimitReachedHoldsTheProcessBackThenCutsItsOutput) {
    expect_output_cut_and_result_kept(
        "SpoolLimit", "small-spool",
        {.capacity = 1, .agent_toml = "spool_max_bytes = 1048576\nspool_full_wait = \"2s\"\n"});
}

}  // namespace
}  // namespace hostline::faults
