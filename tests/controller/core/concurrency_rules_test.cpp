// The rules of concurrency and retries as pure functions: slots, queue positions, the refusal
// text, backoffs, which attempt decides a job, and the chat's queue note.
#include <gtest/gtest.h>

#include "controller/chat/run_notes.hpp"
#include "controller/scheduler/concurrency.hpp"
#include "controller/scheduler/retry_policy.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;
using Verdict = Concurrency::Verdict;

TEST(ConcurrencyRules, AnAgentsCapacityACommandsCapAndTheFleetsCapEachStopARun) {
    Concurrency fleet(3);
    EXPECT_EQ(fleet.may_start(1, 2, "deploy", 1), Verdict::start);
    EXPECT_EQ(fleet.may_start(2, 2, "deploy", 1), Verdict::agent_full);
    fleet.hold(1, "deploy");
    EXPECT_EQ(fleet.may_start(0, 2, "deploy", 1), Verdict::command_full);
    EXPECT_EQ(fleet.may_start(0, 2, "other", 1), Verdict::start);
    EXPECT_EQ(fleet.may_start(0, 2, "deploy", 0), Verdict::start) << "0: no cap of its own";
    fleet.hold(2, "");
    fleet.hold(3, "other");
    EXPECT_EQ(fleet.may_start(0, 2, "", 0), Verdict::fleet_full);
    EXPECT_TRUE(fleet.release(1));
    EXPECT_FALSE(fleet.release(1)) << "released once";
    EXPECT_EQ(fleet.running("deploy"), 0u);
    EXPECT_EQ(fleet.may_start(0, 2, "deploy", 1), Verdict::start);
}

TEST(ConcurrencyRules, HoldingARunTwiceTakesOneSlot) {
    Concurrency none(0);
    none.hold(7, "deploy");
    none.hold(7, "deploy");
    EXPECT_EQ(none.running("deploy"), 1u);
    EXPECT_EQ(none.running(), 1u);
    EXPECT_FALSE(none.fleet_capped());
}

TEST(ConcurrencyRules, AQueuedRunCountsTheOlderRunsItWaitsBehind) {
    std::vector<QueuedRun> queued{
        {1, "web-1", "", false}, {2, "web-2", "deploy", true}, {3, "web-1", "deploy", true},
        {4, "web-3", "", false}, {5, "web-3", "deploy", true},
    };
    auto positions = queue_positions(queued, false);
    EXPECT_EQ(positions.at(1), 1u);
    EXPECT_EQ(positions.at(2), 1u);
    EXPECT_EQ(positions.at(3), 3u) << "behind web-1's ad-hoc run and the older deploy";
    EXPECT_EQ(positions.at(4), 1u);
    EXPECT_EQ(positions.at(5), 4u) << "web-3's run, then both older deploys";
    auto fleet = queue_positions(queued, true);
    for (std::int64_t id = 1; id <= 5; ++id)
        EXPECT_EQ(fleet.at(id), static_cast<std::uint32_t>(id)) << "one line for the fleet";
}

TEST(ConcurrencyRules, TheRefusalNamesTheRunningJobAndTheCap) {
    EXPECT_EQ(busy_message("restart-nginx", 41, 1),
              "restart-nginx is already running (job #41); it allows one at a time");
    EXPECT_EQ(busy_message("deploy", 7, 3),
              "deploy is already running (job #7); it allows 3 at a time");
}

TEST(RetryRules, TheBackoffDoublesPerAttemptUpToTheCap) {
    RetryPolicy p;
    p.retries = 10;
    p.backoff = 10s;
    EXPECT_EQ(p.next_after(1, RunState::failed), 10s);
    EXPECT_EQ(p.next_after(2, RunState::lost), 20s);
    EXPECT_EQ(p.next_after(3, RunState::timed_out), 40s);
    EXPECT_EQ(p.next_after(10, RunState::failed), RetryPolicy::kMaxBackoff);
    EXPECT_EQ(p.next_after(11, RunState::failed), std::nullopt) << "no retries left";
}

TEST(RetryRules, OnlyTheNamedStatesAreRetriedAndNeverCancelledOrSkipped) {
    RetryPolicy p;
    p.retries = 2;
    EXPECT_TRUE(p.next_after(1, RunState::failed));
    EXPECT_FALSE(p.next_after(1, RunState::cancelled));
    EXPECT_FALSE(p.next_after(1, RunState::skipped));
    EXPECT_FALSE(p.next_after(1, RunState::succeeded));
    p.retry_on = {RunState::lost};
    EXPECT_FALSE(p.next_after(1, RunState::failed));
    EXPECT_TRUE(p.next_after(1, RunState::lost));
    EXPECT_FALSE(RetryPolicy{}.next_after(1, RunState::failed)) << "off unless asked for";
}

TEST(RetryRules, TheJobFollowsEachAgentsLastAttempt) {
    RunRecord a1{.id = 1, .agent = "a1", .state = RunState::failed};
    RunRecord b1{.id = 2, .agent = "b", .state = RunState::succeeded};
    RunRecord a2{.id = 3, .agent = "a1", .state = RunState::succeeded};
    a2.attempt = 2;
    auto states = last_attempt_states({&a1, &b1, &a2});
    EXPECT_EQ(states, (std::vector<RunState>{RunState::succeeded, RunState::succeeded}));
    EXPECT_EQ(job_state_for(states, false), JobState::succeeded);
}

TEST(ChatQueueNote, NamesTheFirstQueuedRunsWithTheirPositions) {
    std::map<std::int64_t, RunRecord> runs;
    auto add = [&](std::int64_t id, std::string agent, RunState state, std::uint32_t position,
                   int attempt = 1) {
        RunRecord r{.id = id, .agent = std::move(agent), .state = state};
        r.queue_position = position;
        r.attempt = attempt;
        runs[id] = r;
    };
    add(1, "web-0", RunState::running, 0);
    EXPECT_EQ(queue_note(runs), "");
    add(2, "web-1", RunState::queued, 3);
    add(3, "web-2", RunState::queued, 0, 2);
    EXPECT_EQ(queue_note(runs), "web-1 queued, position 3; web-2 retrying (attempt 2)");
    add(4, "web-3", RunState::queued, 4);
    add(5, "web-4", RunState::queued, 5);
    add(6, "web-5", RunState::queued, 6);
    EXPECT_EQ(queue_note(runs),
              "web-1 queued, position 3; web-2 retrying (attempt 2); web-3 queued, position 4; "
              "+2 more queued");
    auto last = last_attempts(runs);
    EXPECT_EQ(last.size(), 6u);
}

}  // namespace
}  // namespace hostline::controller
