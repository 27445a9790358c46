// Issue 5, "Nothing lost", scenarios 1 and 2: the controller, then the agents, SIGKILLed and
// started again at random moments while a hundred runs print output. Every run must end, and
// what is stored of each must be exactly what its process wrote: never a byte twice, never a
// gap. The seed is printed; HOSTLINE_FAULT_SEED=N replays a schedule.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "faults/fault_scenario.hpp"
#include "faults/fault_support.hpp"

namespace hostline::faults {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::vector<std::string> kAgents{"a1", "a2", "a3"};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

class KillRestart : public FaultScenario {
  protected:
    // Starts the controller and three agents of capacity 8, submits settings.runs writer
    // jobs and waits until some run is running.
    void start_runs(const std::string& tag_prefix) {
        cluster.start_controller();
        for (const std::string& name : kAgents) ASSERT_TRUE(start_agent(name, {.capacity = 8}));
        started_ = Clock::now();
        jobs_ = submit_short_writers(cluster, kAgents, settings_.runs, tag_prefix, rng_);
        ASSERT_TRUE(eventually(
            [&] {
                const auto states = job_states(cluster);
                return states && std::any_of(states->begin(), states->end(),
                                             [](const auto& s) { return s.second == "running"; });
            },
            60s))
            << "no job started running within 60 s";
    }

    // settings.kills times, 1-3 s apart: strike(). Counts the strikes that found runs
    // unfinished, so a schedule that missed them all cannot pass for a test.
    void strike_at_random_moments(const std::function<void()>& strike) {
        std::uniform_int_distribution<int> gap_ms(1000, 3000);
        for (int k = 0; k < settings_.kills; ++k) {
            std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng_)));
            const auto left = unfinished(cluster, jobs_);
            if (left && *left > 0) ++strikes_during_runs_;
            strike();
            if (HasFatalFailure()) return;
        }
        EXPECT_GT(strikes_during_runs_, 0) << "every run had ended before the first kill";
    }

    // Waits (bounded) until every job is final; the seconds it took from the submission.
    double wait_until_all_final() {
        const auto bound = std::chrono::seconds(90 + settings_.runs / 4);
        const std::string not_final = wait_all_final(cluster, jobs_, bound);
        EXPECT_EQ(not_final, "");
        return seconds_since(started_);
    }

    // Checks every run with verdict (empty: fine, else what is wrong) and fills the report.
    void check_every_run(
        const std::function<std::string(const StoredRun&, const OutputCheck&)>& verdict,
        FaultReport& report) {
        std::vector<std::string> problems;
        std::map<std::string, int> kinds;  // how often each problem came up
        for (const WriterJob& job : jobs_) {
            const StoredRun run = read_stored_run(cluster, job.job_id);
            const OutputCheck check = check_output(job, run.out);
            report.bytes_checked += run.out.size();
            report.succeeded += run.state == "succeeded";
            report.lost += run.state == "lost";
            std::string problem = verdict(run, check);
            if (problem.empty() && !run.sequence_problem.empty()) problem = "a seq gap or repeat";
            if (problem.empty() && !run.err.empty()) problem = "it has stderr output";
            if (problem.empty()) continue;
            ++kinds[problem];
            problems.push_back("job #" + std::to_string(job.job_id) + " (" + job.tag + "): " +
                               problem + "\n    " + run.describe() + "\n    " + check.detail);
        }
        std::ostringstream shown;
        for (const auto& [kind, count] : kinds) shown << "  " << count << " x " << kind << "\n";
        for (std::size_t i = 0; i < problems.size() && i < 20; ++i) shown << problems[i] << "\n";
        EXPECT_TRUE(problems.empty()) << problems.size() << " of " << jobs_.size()
                                      << " run(s) wrong (seed " << settings_.seed << "):\n"
                                      << shown.str();
    }

    FaultReport report(const std::string& scenario) const {
        FaultReport r;
        r.scenario = scenario;
        r.runs = static_cast<int>(jobs_.size());
        r.kills = settings_.kills;
        r.seed = settings_.seed;
        r.extra = "kills_during_runs=" + std::to_string(strikes_during_runs_);
        return r;
    }

    const FaultSettings settings_ = FaultSettings::from_environment();
    std::mt19937_64 rng_{settings_.seed};
    std::vector<WriterJob> jobs_;
    Clock::time_point started_;
    int strikes_during_runs_ = 0;
};

TEST_F(KillRestart, ControllerKilledAtRandomMomentsStoresEveryByteExactlyOnce) {
    ASSERT_NO_FATAL_FAILURE(start_runs("ctl"));
    const std::string http_url = cluster.http_url();
    strike_at_random_moments([&] {
        cluster.kill_controller();
        ASSERT_FALSE(cluster.controller_alive());
        cluster.start_controller();
        // Same agent port from the config, and the HTTP port must come back too (TIME_WAIT).
        ASSERT_EQ(cluster.http_url(), http_url) << "the restarted controller moved its HTTP port";
    });
    FaultReport r = report("ControllerKilled");
    r.seconds_to_all_final = wait_until_all_final();
    // The processes never noticed: every run succeeds, with every byte exactly once.
    check_every_run(
        [](const StoredRun& run, const OutputCheck& check) -> std::string {
            if (run.state != "succeeded" || run.exit_code != 0) return "did not succeed";
            if (check.match != OutputMatch::exact) return "stored output is not what it wrote";
            return "";
        },
        r);
    r.print();
    EXPECT_EQ(r.succeeded, settings_.runs);
}

TEST_F(KillRestart, AgentsKilledAtRandomMomentsLoseNoStoredByteAndNeverDuplicateOne) {
    ASSERT_NO_FATAL_FAILURE(start_runs("agt"));
    std::uniform_int_distribution<std::size_t> pick(0, kAgents.size() - 1);
    strike_at_random_moments([&] {
        const std::string& name = kAgents[pick(rng_)];
        cluster.kill_agent(name);
        ASSERT_FALSE(cluster.agent_alive(name));
        cluster.restart_agent(name);
    });
    FaultReport r = report("AgentsKilled");
    r.seconds_to_all_final = wait_until_all_final();
    // A run the kill interrupted ends lost, with what its process wrote before the kill and
    // nothing else; every other run succeeds whole.
    check_every_run(
        [](const StoredRun& run, const OutputCheck& check) -> std::string {
            if (run.state == "succeeded") {
                if (run.exit_code != 0) return "succeeded with a non-zero exit code";
                if (check.match != OutputMatch::exact) return "stored output is not what it wrote";
                return "";
            }
            if (run.state == "lost") {
                if (run.error.find("interrupted") == std::string::npos)
                    return "lost without saying it was interrupted";
                if (check.match == OutputMatch::differs)
                    return "stored output is not a prefix of what it wrote";
                return "";
            }
            return "ended " + run.state + ", neither succeeded nor lost";
        },
        r);
    r.print();
    EXPECT_GT(r.succeeded, 0) << "no run survived the kills; the schedule is too dense";
    // The agents came back and stay up.
    cluster.wait_online(kAgents);
}

}  // namespace
}  // namespace hostline::faults
