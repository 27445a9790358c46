// The rollout window alone (controller/scheduler/rollout.hpp): which runs go out when, with
// times passed in, so each rule of docs/scheduling.md "Batches" is checked exactly.
#include "controller/scheduler/rollout.hpp"

#include <gtest/gtest.h>

#include "common/batch_size.hpp"

namespace hostline::controller {
namespace {

using Ids = std::vector<std::int64_t>;

RolloutPlan plan(std::size_t window, std::int64_t wait_ms = 0, bool fail_fast = false) {
    return RolloutPlan{window, wait_ms, fail_fast};
}

TEST(BatchSize, WindowIsTheCountOrThePercentageRoundedUp) {
    EXPECT_EQ(window_for(parse_batch_size("2").value(), 6), 2u);
    EXPECT_EQ(window_for(parse_batch_size("50%").value(), 6), 3u);
    EXPECT_EQ(window_for(parse_batch_size("50%").value(), 5), 3u);  // 2.5 rounds up
    EXPECT_EQ(window_for(parse_batch_size("1%").value(), 6), 1u);   // never below one
    EXPECT_EQ(window_for(parse_batch_size("10").value(), 3), 3u);   // never above the hosts
    EXPECT_EQ(window_for(parse_batch_size("100%").value(), 7), 7u);
    EXPECT_EQ(to_string(parse_batch_size("25%").value()), "25%");
}

TEST(BatchSize, RefusesWhatIsNotASize) {
    EXPECT_EQ(parse_batch_size("0").error().message, "--batch must be at least 1 (or 1%)");
    EXPECT_EQ(parse_batch_size("101%").error().message, "--batch 101% is more than 100%");
    EXPECT_FALSE(parse_batch_size("half"));
    EXPECT_FALSE(parse_batch_size("-1"));
    EXPECT_FALSE(parse_batch_size(""));
    EXPECT_FALSE(parse_batch_size("2 "));
}

TEST(Rollout, ReleasesNoMoreThanTheWindow) {
    Rollout r(plan(2), {1, 2, 3, 4, 5});
    EXPECT_EQ(r.release(0), (Ids{1, 2}));
    EXPECT_EQ(r.release(0), Ids{});                // full
    EXPECT_EQ(r.next_release_at(), std::nullopt);  // waits for a run to end, not for time
}

TEST(Rollout, SlidesOneHostInAsOneFinishes) {
    Rollout r(plan(2), {1, 2, 3, 4, 5});
    r.release(0);
    r.finished(2, RunState::succeeded, "b", 10);
    EXPECT_EQ(r.release(10), Ids{3});
    r.finished(1, RunState::succeeded, "a", 11);
    r.finished(3, RunState::succeeded, "c", 12);
    EXPECT_EQ(r.release(12), (Ids{4, 5}));
    EXPECT_EQ(r.release(12), Ids{});
}

TEST(Rollout, BatchWaitFreesASlotOnlyWaitAfterItsRunEnded) {
    Rollout r(plan(2, 1000), {1, 2, 3, 4});
    EXPECT_EQ(r.release(0), (Ids{1, 2}));
    r.finished(1, RunState::succeeded, "a", 500);
    EXPECT_EQ(r.release(500), Ids{});
    EXPECT_EQ(r.next_release_at(), 1500);
    EXPECT_EQ(r.release(1499), Ids{});
    EXPECT_EQ(r.release(1500), Ids{3});
    // The next start takes the slot of the second run to end, whenever that is.
    EXPECT_EQ(r.next_release_at(), std::nullopt);
    r.finished(2, RunState::succeeded, "b", 2000);
    EXPECT_EQ(r.next_release_at(), 3000);
    EXPECT_EQ(r.release(2999), Ids{});
    EXPECT_EQ(r.release(3000), Ids{4});
    EXPECT_EQ(r.next_release_at(), std::nullopt);  // nothing waits
}

TEST(Rollout, BatchWaitCountsFromTheEarliestFinishesFirst) {
    // Ends out of order: the slot that frees first is the earliest end's.
    Rollout r(plan(2, 100), {1, 2, 3, 4});
    r.release(0);
    r.finished(2, RunState::succeeded, "b", 50);
    r.finished(1, RunState::succeeded, "a", 40);
    EXPECT_EQ(r.next_release_at(), 140);
    EXPECT_EQ(r.release(140), Ids{3});
    EXPECT_EQ(r.next_release_at(), 150);
    EXPECT_EQ(r.release(1000), Ids{4});
}

TEST(Rollout, FailFastStopsReleasingAndGivesBackTheRest) {
    Rollout r(plan(2, 0, true), {1, 2, 3, 4, 5});
    r.release(0);
    r.finished(1, RunState::failed, "web-1", 10);
    ASSERT_TRUE(r.stopped());
    EXPECT_EQ(*r.stopped(), "fail-fast after web-1 failed");
    EXPECT_EQ(r.release(10), Ids{});
    EXPECT_EQ(r.take_not_started(), (Ids{3, 4, 5}));
    EXPECT_EQ(r.take_not_started(), Ids{});  // given once
    // The run in flight finishes; a later failure does not rename the cause.
    r.finished(2, RunState::timed_out, "web-2", 20);
    EXPECT_EQ(*r.stopped(), "fail-fast after web-1 failed");
}

TEST(Rollout, FailFastNamesHowTheRunEnded) {
    Rollout r(plan(1, 0, true), {1, 2});
    r.release(0);
    r.finished(1, RunState::lost, "db-1", 5);
    EXPECT_EQ(*r.stopped(), "fail-fast after db-1 was lost");
}

TEST(Rollout, WithoutFailFastAFailureFreesItsSlotLikeASuccess) {
    Rollout r(plan(1), {1, 2});
    r.release(0);
    r.finished(1, RunState::failed, "a", 5);
    EXPECT_FALSE(r.stopped());
    EXPECT_EQ(r.release(5), Ids{2});
    EXPECT_EQ(r.take_not_started(), Ids{});
}

TEST(Rollout, AWaitingRunThatEndsLeavesTheLineWithoutFreeingASlot) {
    Rollout r(plan(1, 0, true), {1, 2, 3});
    r.release(0);
    r.finished(2, RunState::cancelled, "b", 5);  // cancelled before its turn
    EXPECT_FALSE(r.stopped());
    EXPECT_EQ(r.release(5), Ids{});  // run 1 still holds the only slot
    r.finished(1, RunState::succeeded, "a", 6);
    EXPECT_EQ(r.release(6), Ids{3});
}

TEST(Rollout, RebuiltAfterARestartGoesOnWhereItWas) {
    // Runs 1-2 finished (1 at 1000), 3 in flight, 4-5 waiting; window 2, 500 ms between.
    Rollout r(plan(2, 500), {1, 2, 3, 4, 5});
    for (std::int64_t id : {1, 2, 3}) r.in_flight(id);
    r.finished(1, RunState::succeeded, "a", 1000);
    r.finished(2, RunState::succeeded, "b", 1200);
    // Three released, two finished: the fourth start takes the second finish's slot.
    EXPECT_EQ(r.next_release_at(), 1700);
    EXPECT_EQ(r.release(1699), Ids{});
    EXPECT_EQ(r.release(1700), Ids{4});
}

TEST(Rollout, RebuiltAfterARestartWithAFailureStopsAtOnce) {
    Rollout r(plan(2, 0, true), {1, 2, 3});
    r.in_flight(1);
    r.finished(1, RunState::failed, "a", 1);
    EXPECT_EQ(r.release(2), Ids{});
    EXPECT_EQ(r.take_not_started(), (Ids{2, 3}));
}

TEST(RolloutPlan, ResolvesTheJobsBatchAgainstItsHosts) {
    Job job;
    EXPECT_FALSE(has_rollout(job));
    job.batch = "50%";
    job.batch_wait_ms = 2000;
    EXPECT_TRUE(has_rollout(job));
    RolloutPlan p = plan_for(job, 5);
    EXPECT_EQ(p.window, 3u);
    EXPECT_EQ(p.wait_ms, 2000);
    EXPECT_FALSE(p.fail_fast);
    Job only_fail_fast;
    only_fail_fast.fail_fast = true;
    EXPECT_TRUE(has_rollout(only_fail_fast));
    EXPECT_EQ(plan_for(only_fail_fast, 4).window, 4u);  // every host at once
}

RunRecord run(std::string agent, RunState state, std::string error = "") {
    RunRecord r;
    r.agent = std::move(agent);
    r.state = state;
    r.error = std::move(error);
    return r;
}

TEST(WindowProgress, ShowsTheBatchAndTheCounts) {
    Job job;
    job.batch = "2";
    job.batch_window = 2;
    std::vector<RunRecord> runs;
    for (int i = 0; i < 12; ++i) runs.push_back(run("h", RunState::succeeded));
    for (int i = 0; i < 2; ++i) runs.push_back(run("h", RunState::running));
    for (int i = 0; i < 6; ++i) runs.push_back(run("h", RunState::queued));
    runs.push_back(run("off", RunState::skipped, "agent off was offline"));  // not in it
    EXPECT_EQ(window_progress(job, runs), "batch 7/10: 2 running, 12 done, 6 waiting");
    job.batch_window = 0;
    EXPECT_EQ(window_progress(job, runs), "");
}

TEST(WindowProgress, HostsNeverStartedAreDoneButNotABatch) {
    Job job;
    job.batch_window = 1;
    std::vector<RunRecord> runs{
        run("a", RunState::failed),
        run("b", RunState::skipped, "not started: fail-fast after a failed"),
        run("c", RunState::skipped, "not started: fail-fast after a failed")};
    EXPECT_TRUE(never_started(runs[1]));
    EXPECT_FALSE(never_started(run("d", RunState::skipped, "agent d was offline")));
    EXPECT_EQ(window_progress(job, runs), "batch 1/3: 0 running, 3 done, 0 waiting");
}

}  // namespace
}  // namespace hostline::controller
