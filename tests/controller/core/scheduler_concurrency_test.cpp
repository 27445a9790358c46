// The scheduler's concurrency and retries against the real SQLite store, with agents played by
// the test: a command's cap across agents, refusal when busy, the global cap, queue positions
// and retried attempts, as the runs sent to agents and the job's stored history show them.
#include "controller/core/played_agents_fixture.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class SchedulerConcurrencyTest : public testing::PlayedAgentsFixture {
  protected:
    // Commands named in rules have them; every other command the defaults.
    void open(std::map<std::string, CommandRules> rules, SchedulerConfig config = {}) {
        PlayedAgentsFixture::open(config, std::move(rules));
    }
};

TEST_F(SchedulerConcurrencyTest, ACommandWithConcurrencyOneRunsOnOneAgentAtATime) {
    open({{"restart-nginx", CommandRules{.concurrency = 1}}});
    hello("web-1");
    hello("web-2");
    auto job = scheduler_->submit(request("*", "restart-nginx"));
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    settle();
    ASSERT_EQ(runs_sent().size(), 1u) << "both agents are free, but the command allows one";
    Sent first = runs_sent()[0];
    JobDetail waiting = detail(job->job_id);
    ASSERT_EQ(waiting.runs.size(), 2u);
    EXPECT_EQ(waiting.runs[1].state, RunState::queued);
    EXPECT_EQ(waiting.runs[1].queue_position, 1u) << "next in line for the command's slot";

    // Ad-hoc work on the free agent is not held back by the command's cap.
    ASSERT_TRUE(scheduler_->submit(request(first.agent == "web-1" ? "web-2" : "web-1")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));

    finish(first.agent, first.run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    EXPECT_NE(runs_sent()[2].agent, first.agent);
    EXPECT_EQ(static_cast<std::int64_t>(runs_sent()[2].run.job_id), job->job_id);
}

TEST_F(SchedulerConcurrencyTest, TheCapCountsRunsOfTheCommandInAllItsJobs) {
    open({{"deploy", CommandRules{.concurrency = 2}}});
    hello("a1", 8);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(scheduler_->submit(request("a1", "deploy")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    settle();
    EXPECT_EQ(runs_sent().size(), 2u);
    JobDetail last = detail(4);
    EXPECT_EQ(last.runs.at(0).queue_position, 2u);
    finish("a1", runs_sent()[0].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    EXPECT_EQ(runs_sent()[2].run.job_id, 3u) << "the oldest waiting job goes first";
}

TEST_F(SchedulerConcurrencyTest, OnBusyRefuseRefusesASecondRequestNamingTheRunningJob) {
    open({{"restart-nginx", CommandRules{.concurrency = 1, .on_busy = OnBusy::refuse}}});
    hello("web-1");
    auto first = scheduler_->submit(request("web-1", "restart-nginx"));
    ASSERT_TRUE(first.ok());
    auto second = scheduler_->submit(request("web-1", "restart-nginx"));
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().message, "restart-nginx is already running (job #" +
                                          std::to_string(first->job_id) +
                                          "); it allows one at a time");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    finish("web-1", runs_sent()[0].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return detail(first->job_id).job.state == JobState::succeeded; }));
    EXPECT_TRUE(scheduler_->submit(request("web-1", "restart-nginx")).ok())
        << "free again once the first one ended";
}

TEST_F(SchedulerConcurrencyTest, TheGlobalCapLimitsRunsAcrossTheFleetAndQueuesTheRestInOrder) {
    SchedulerConfig config;
    config.max_running_runs = 2;
    open({}, config);
    for (const char* name : {"a1", "a2", "a3"}) hello(name, 4);
    auto job = scheduler_->submit(request("*"));
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    settle();
    EXPECT_EQ(runs_sent().size(), 2u);
    auto later = scheduler_->submit(request("a1"));
    JobDetail d = detail(later->job_id);
    EXPECT_EQ(d.runs.at(0).queue_position, 2u) << "behind a3's run, which came first";
    finish(runs_sent()[0].agent, runs_sent()[0].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    EXPECT_EQ(runs_sent()[2].agent, "a3");
    EXPECT_EQ(detail(later->job_id).runs.at(0).queue_position, 1u);
}

TEST_F(SchedulerConcurrencyTest, AnAgentsCapacityHoldsUnderAHundredQueuedRuns) {
    open({});
    hello("a1", 2);
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(scheduler_->submit(request("a1")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    settle();
    EXPECT_EQ(runs_sent().size(), 2u);
    EXPECT_EQ(detail(100).runs.at(0).queue_position, 98u);
    for (std::size_t done = 0; done < 100; ++done) {
        ASSERT_TRUE(
            run_until([&] { return runs_sent().size() >= std::min<std::size_t>(done + 2, 100); }));
        ASSERT_LE(runs_sent().size(), done + 2) << "more than 2 at once";
        finish("a1", runs_sent()[done].run.run_id, 0);
    }
    ASSERT_TRUE(run_until([&] { return detail(100).job.state == JobState::succeeded; }));
}

TEST_F(SchedulerConcurrencyTest, AFailedRunIsRetriedAfterItsBackoffAndTheJobFollowsTheLastAttempt) {
    RetryPolicy retry;
    retry.retries = 2;
    retry.backoff = 300ms;
    open({{"flaky", CommandRules{.retry = retry}}});
    hello("a1");
    auto job = scheduler_->submit(request("a1", "flaky"));
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    auto failed_at = std::chrono::steady_clock::now();
    finish("a1", runs_sent()[0].run.run_id, 3);
    JobDetail waiting = detail(job->job_id);
    ASSERT_EQ(waiting.runs.size(), 2u);
    EXPECT_EQ(waiting.job.state, JobState::running) << "a retry is coming";
    EXPECT_EQ(waiting.runs[1].state, RunState::queued);
    EXPECT_EQ(waiting.runs[1].attempt, 2);
    EXPECT_EQ(waiting.runs[1].queue_position, 0u) << "waiting out its backoff, not in line";

    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }, 5s));
    EXPECT_GE(std::chrono::steady_clock::now() - failed_at, 300ms) << "the backoff was kept";
    finish("a1", runs_sent()[1].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return detail(job->job_id).job.state == JobState::succeeded; }));
    JobDetail done = detail(job->job_id);
    ASSERT_EQ(done.runs.size(), 2u);
    EXPECT_EQ(done.runs[0].state, RunState::failed);
    EXPECT_EQ(done.runs[0].attempt, 1);
    EXPECT_EQ(done.runs[1].state, RunState::succeeded);
    EXPECT_EQ(done.runs[1].attempt, 2);
}

// In a fail-fast rollout a failure that is retried is not yet a failure: the next attempt
// keeps the host's place in the window, and only a failure with no attempt left stops it.
TEST_F(SchedulerConcurrencyTest, AFailFastRolloutWaitsForTheRetryBeforeItStops) {
    RetryPolicy retry;
    retry.retries = 1;
    retry.backoff = 50ms;
    open({{"flaky", CommandRules{.retry = retry}}});
    hello("a1");
    hello("a2");
    hello("a3");
    SubmitRequest r = request("a*", "flaky");
    r.batch = BatchSize{1, false};
    r.fail_fast = true;
    auto job = scheduler_->submit(r);
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    finish(runs_sent()[0].agent, runs_sent()[0].run.run_id, 1);  // a1 fails: retried
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }, 5s));
    EXPECT_EQ(runs_sent()[1].agent, "a1") << "the retry, not the next host";
    finish("a1", runs_sent()[1].run.run_id, 0);  // the retry succeeds: the rollout goes on
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }, 5s));
    EXPECT_EQ(runs_sent()[2].agent, "a2");
    finish("a2", runs_sent()[2].run.run_id, 1);  // a2 fails twice: fail-fast stops it
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 4; }, 5s));
    finish("a2", runs_sent()[3].run.run_id, 1);
    ASSERT_TRUE(run_until([&] { return is_final(detail(job->job_id).job.state); }, 5s));
    JobDetail done = detail(job->job_id);
    EXPECT_EQ(done.job.state, JobState::partial) << "a1 succeeded on its retry, a2 failed";
    EXPECT_EQ(runs_sent().size(), 4u) << "a3 never started";
    bool a3_not_started = false;
    for (const RunRecord& run : done.runs)
        if (run.agent == "a3")
            a3_not_started = run.state == RunState::skipped &&
                             run.error.rfind("not started: fail-fast after a2", 0) == 0;
    EXPECT_TRUE(a3_not_started);
}

// After a restart, a run still queued for an agent that never comes back is lost after the
// grace period, like one that was in flight, and its job ends.
TEST_F(SchedulerConcurrencyTest, AQueuedRunWhoseAgentNeverReturnsAfterARestartIsLost) {
    SchedulerConfig config;
    config.agent_grace = 200ms;
    open({}, config);
    hello("a1", 1);  // one run at a time: the second job's run waits on the controller
    auto first = scheduler_->submit(request("a1"));
    auto second = scheduler_->submit(request("a1"));
    ASSERT_TRUE(first.ok() && second.ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    settle();
    ASSERT_EQ(detail(second->job_id).runs.at(0).state, RunState::queued);

    open({}, config);  // the controller restarts; a1 is never heard from again
    ASSERT_TRUE(run_until([&] { return is_final(detail(second->job_id).job.state); }, 10s))
        << "the queued run waited for ever";
    EXPECT_EQ(detail(second->job_id).runs.at(0).state, RunState::lost);
    EXPECT_EQ(detail(first->job_id).runs.at(0).state, RunState::lost);
}

TEST_F(SchedulerConcurrencyTest, RetriesStopAtTheirCountAndSkipStatesNotRetried) {
    RetryPolicy retry;
    retry.retries = 1;
    retry.backoff = 10ms;
    retry.retry_on = {RunState::failed};
    open({{"flaky", CommandRules{.retry = retry}}});
    hello("a1");
    auto job = scheduler_->submit(request("a1", "flaky"));
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    finish("a1", runs_sent()[0].run.run_id, 1);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }, 5s));
    finish("a1", runs_sent()[1].run.run_id, 1);
    ASSERT_TRUE(run_until([&] { return detail(job->job_id).job.state == JobState::failed; }));
    EXPECT_EQ(detail(job->job_id).runs.size(), 2u) << "one retry, then the job ends";

    auto timed = scheduler_->submit(request("a1", "flaky"));
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    proto::RunResult r;
    r.run_id = runs_sent()[2].run.run_id;
    r.seq = 1;
    r.status = "timed_out";
    scheduler_->on_agent_message("a1", r);
    ASSERT_TRUE(run_until([&] { return detail(timed->job_id).job.state == JobState::timed_out; }));
    EXPECT_EQ(detail(timed->job_id).runs.size(), 1u) << "retry_on names only failed";
}

TEST_F(SchedulerConcurrencyTest, ACancelledJobIsNotRetried) {
    RetryPolicy retry;
    retry.retries = 3;
    retry.backoff = 10ms;
    open({{"flaky", CommandRules{.retry = retry}}});
    hello("a1");
    auto job = scheduler_->submit(request("a1", "flaky"));
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(job->job_id).ok());
    finish("a1", runs_sent()[0].run.run_id, 1);
    ASSERT_TRUE(run_until([&] { return detail(job->job_id).job.state == JobState::cancelled; }));
    EXPECT_EQ(detail(job->job_id).runs.size(), 1u);
}

TEST_F(SchedulerConcurrencyTest, AFollowerSeesAQueuedRunsPositionAndItsMovesInLine) {
    open({});
    hello("a1", 1);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(scheduler_->submit(request("a1")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    std::vector<std::uint32_t> positions;  // job 3's run, as its follower was told
    std::optional<Result<std::uint64_t>> subscribed;
    scheduler_->subscribe(
        3,
        [&](const JobEvent& e) {
            if (const auto* run = std::get_if<JobEvent::RunChanged>(&e.what))
                positions.push_back(run->run.queue_position);
        },
        [&](Result<std::uint64_t> s) { subscribed = std::move(s); });
    ASSERT_TRUE(run_until([&] { return subscribed.has_value(); }));
    ASSERT_EQ(positions, std::vector<std::uint32_t>{2}) << "the snapshot says where it stands";

    finish("a1", runs_sent()[0].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return positions.size() == 2; }, 3s));
    EXPECT_EQ(positions.back(), 1u) << "one place up once the run ahead started";
    finish("a1", runs_sent()[1].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    ASSERT_TRUE(run_until([&] { return positions.size() >= 3; }));
    EXPECT_EQ(positions.back(), 0u) << "dispatched: out of the queue";
}

TEST_F(SchedulerConcurrencyTest, ARunInFlightAcrossARestartStillHoldsItsCommandsSlot) {
    std::map<std::string, CommandRules> rules{{"restart-nginx", CommandRules{.concurrency = 1}}};
    open(rules);
    hello("web-1");
    ASSERT_TRUE(scheduler_->submit(request("web-1", "restart-nginx")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    std::uint64_t in_flight = runs_sent()[0].run.run_id;
    scheduler_->on_agent_message("web-1", proto::RunAck{in_flight, true, ""});
    bool stored = false;
    scheduler_->when_stored([&] { stored = true; });
    ASSERT_TRUE(run_until([&] { return stored; }));

    open(rules);
    hello("web-1", 4, {proto::HeldRun{in_flight, false}});  // back, still holding its run
    hello("web-2", 4);
    auto second = scheduler_->submit(request("web-2", "restart-nginx"));
    ASSERT_TRUE(second.ok());
    settle();
    EXPECT_TRUE(runs_sent().empty()) << "web-1's run from before the restart holds the slot";
    finish("web-1", in_flight, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].agent, "web-2");
}

}  // namespace
}  // namespace hostline::controller
