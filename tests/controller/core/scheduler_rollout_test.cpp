// The scheduler following a rollout's window (scheduler_rollout.cpp) against the real SQLite
// store, with agents played by the test: what it sends when, across cancel, approval and a
// restart. The window's arithmetic alone is rollout_test.cpp; real agents, batches_test.cpp.
#include "controller/core/played_agents_fixture.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class SchedulerRollout : public testing::PlayedAgentsFixture {
  protected:
    void SetUp() override {
        PlayedAgentsFixture::SetUp();
        open();
    }
    void hello(const std::string& agent, std::vector<proto::HeldRun> held = {}) {
        PlayedAgentsFixture::hello(agent, 4, std::move(held));
    }
    static SubmitRequest rollout(std::string batch, bool fail_fast = false) {
        SubmitRequest r = request("*");
        r.batch = parse_batch_size(batch).value();
        r.fail_fast = fail_fast;
        return r;
    }
};

TEST_F(SchedulerRollout, CancelEndsTheWaitingRunsAndReleasesNothingMore) {
    for (const char* a : {"a1", "a2", "a3"}) hello(a);
    auto job = scheduler_->submit(rollout("1"));
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(job->job_id).ok());
    finish("a1", runs_sent()[0].run.run_id, -1, "cancelled");
    settle();
    EXPECT_EQ(runs_sent().size(), 1u) << "nothing released after the cancel";
    JobDetail d = detail(job->job_id);
    EXPECT_EQ(d.job.state, JobState::cancelled);
    for (const RunRecord& r : d.runs) EXPECT_EQ(r.state, RunState::cancelled) << r.agent;
    EXPECT_EQ(d.runs[1].error, "cancelled before it started");
}

TEST_F(SchedulerRollout, AHeldJobGoesThroughItsWindowOnceApproved) {
    for (const char* a : {"a1", "a2", "a3", "a4"}) hello(a);
    auto held = scheduler_->hold(rollout("50%"));
    ASSERT_TRUE(held.ok()) << held.error().message;
    settle();
    EXPECT_TRUE(runs_sent().empty());
    ASSERT_TRUE(scheduler_->release(held->job_id, {"a1", "a2", "a3"}).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));  // 50% of 3, rounded up
    settle();
    EXPECT_EQ(runs_sent().size(), 2u);
    EXPECT_EQ(detail(held->job_id).job.batch_window, 2);
}

TEST_F(SchedulerRollout, ARestartKeepsTheWindowItHad) {
    for (const char* a : {"a1", "a2", "a3", "a4"}) hello(a);
    auto job = scheduler_->submit(rollout("2"));
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    auto first = runs_sent();
    // The runs are acknowledged: they run on a1 and a2 when the controller goes away.
    for (const auto& [agent, run] : first)
        scheduler_->on_agent_message(agent, proto::RunAck{run.run_id, true, ""});
    settle();

    open();
    sent_.clear();
    hello("a1", {{first[0].run.run_id, false}});
    hello("a2", {{first[1].run.run_id, false}});
    hello("a3");
    hello("a4");
    settle();
    EXPECT_TRUE(runs_sent().empty()) << "the window is full of the runs that survived";
    finish("a1", first[0].run.run_id, 0);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].agent, "a3");
    settle();
    EXPECT_EQ(runs_sent().size(), 1u);
}

TEST_F(SchedulerRollout, FailFastStaysStoppedAcrossARestart) {
    for (const char* a : {"a1", "a2", "a3"}) hello(a);
    auto job = scheduler_->submit(rollout("2", true));
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    auto first = runs_sent();
    scheduler_->on_agent_message("a2", proto::RunAck{first[1].run.run_id, true, ""});
    finish("a1", first[0].run.run_id, 3);  // fails: a3 never starts
    settle();
    open();
    sent_.clear();
    hello("a1");
    hello("a2", {{first[1].run.run_id, false}});
    hello("a3");
    finish("a2", first[1].run.run_id, 0);
    settle();
    EXPECT_TRUE(runs_sent().empty());
    JobDetail d = detail(job->job_id);
    EXPECT_EQ(d.job.state, JobState::partial);
    EXPECT_EQ(d.runs[2].state, RunState::skipped);
    EXPECT_EQ(d.runs[2].error, "not started: fail-fast after a1 failed");
}

}  // namespace
}  // namespace hostline::controller
