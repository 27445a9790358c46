// Issue 5, scenario 3: a network partition between an agent and the controller that lasts
// longer than the heartbeat timeout. The agent sits behind a TCP proxy that blackholes the
// link (both sides hear nothing, nobody sees a close); the runs go on, and once the
// partition heals their output and results arrive and they end succeeded, not lost.
#include <chrono>
#include <thread>

#include "faults/fault_scenario.hpp"
#include "faults/fault_support.hpp"
#include "testing/blackhole_proxy.hpp"

namespace hostline::faults {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

// The cluster's heartbeat is 500 ms, so the controller calls an agent offline after 1.5 s of
// silence; its agent_grace (20 s) keeps the runs from being declared lost meanwhile.
constexpr auto kPartition = 4s;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Each job's run state as `hostline job ID --json` shows it ("" if it cannot be read).
std::vector<std::string> run_states(testing::LocalCluster& cluster,
                                    const std::vector<WriterJob>& jobs) {
    std::vector<std::string> states;
    for (const WriterJob& job : jobs) {
        const json doc = cluster.try_cli_json({"job", std::to_string(job.job_id)});
        const json runs = doc.value("runs", json::array());
        states.push_back(runs.size() == 1 ? runs[0].value("state", "") : "");
    }
    return states;
}

bool all_in(const std::vector<std::string>& states, const std::string& state) {
    for (const std::string& s : states)
        if (s != state) return false;
    return !states.empty();
}

std::string joined(const std::vector<std::string>& states) {
    std::string text;
    for (const std::string& s : states) text += (text.empty() ? "" : ", ") + s;
    return text;
}

class Partition : public FaultScenario {};

TEST_F(Partition, LongerThanTheHeartbeatTimeoutEndsRunsSucceededOnceItHeals) {
    const FaultSettings settings = FaultSettings::from_environment();
    cluster.start_controller();
    testing::BlackholeProxy proxy(cluster.agent_port());
    ASSERT_TRUE(start_agent(
        "edge",
        {.capacity = 4, .controller_endpoint = "tcp://127.0.0.1:" + std::to_string(proxy.port())}));

    const auto started = Clock::now();
    std::vector<WriterJob> jobs;
    for (int i = 0; i < 4; ++i)  // 300 lines over 6 to 7.8 s: output on both sides of the cut
        jobs.push_back(submit_writer(cluster, "edge", "part-" + std::to_string(i), 300,
                                     20000 + 2000 * static_cast<std::uint64_t>(i)));
    ASSERT_TRUE(eventually([&] { return all_in(run_states(cluster, jobs), "running"); }, 60s))
        << "the runs did not all start: " << joined(run_states(cluster, jobs));

    proxy.partition();
    const auto partitioned_at = Clock::now();
    ASSERT_TRUE(eventually([&] { return !shows_online(cluster, "edge"); }, 20s))
        << "the controller still shows the partitioned agent online after 20 s";
    const double offline_after = seconds_since(partitioned_at);
    EXPECT_TRUE(eventually([&] { return all_in(run_states(cluster, jobs), "unknown"); }, 10s))
        << "runs of an agent that went silent should be unknown, not "
        << joined(run_states(cluster, jobs));
    std::this_thread::sleep_until(partitioned_at + kPartition);
    const std::vector<std::string> during = run_states(cluster, jobs);
    for (const std::string& state : during)
        EXPECT_EQ(state, "unknown")
            << "a run changed state through the partition: " << joined(during);
    const double partition_seconds = seconds_since(partitioned_at);
    proxy.heal();

    const std::string not_final = wait_all_final(cluster, jobs, 60s);
    ASSERT_EQ(not_final, "");
    FaultReport report;
    report.scenario = "Partition";
    report.runs = static_cast<int>(jobs.size());
    report.partitions = 1;
    report.seed = settings.seed;
    report.seconds_to_all_final = seconds_since(started);
    for (const WriterJob& job : jobs) {
        const StoredRun run = read_stored_run(cluster, job.job_id);
        const OutputCheck check = check_output(job, run.out);
        report.bytes_checked += run.out.size();
        report.succeeded += run.state == "succeeded";
        report.lost += run.state == "lost";
        EXPECT_EQ(run.state, "succeeded") << job.tag << ": " << run.describe();
        EXPECT_EQ(run.exit_code, 0) << job.tag << ": " << run.describe();
        EXPECT_EQ(check.match, OutputMatch::exact) << job.tag << ": " << check.detail;
        EXPECT_EQ(run.sequence_problem, "") << job.tag;
        EXPECT_EQ(run.err, "") << job.tag;
    }
    EXPECT_TRUE(eventually([&] { return shows_online(cluster, "edge"); }, 30s))
        << "the agent did not come back online after the partition healed";
    const auto counts = proxy.counts();
    char extra[200];
    std::snprintf(extra, sizeof extra,
                  "partition_s=%.1f offline_after_s=%.1f proxy_forwarded=%llu proxy_dropped=%llu "
                  "proxy_connections=%llu",
                  partition_seconds, offline_after,
                  static_cast<unsigned long long>(counts.forwarded_bytes),
                  static_cast<unsigned long long>(counts.dropped_bytes),
                  static_cast<unsigned long long>(counts.connections));
    report.extra = extra;
    report.print();
    EXPECT_GT(counts.dropped_bytes, 0u) << "the partition cut nothing: was the agent behind it?";
}

}  // namespace
}  // namespace hostline::faults
