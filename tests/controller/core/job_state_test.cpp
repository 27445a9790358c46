#include "controller/jobs/job.hpp"

#include <gtest/gtest.h>

namespace hostline::controller {
namespace {

TEST(RunStateMachine, FinalStatesNeverChange) {
    for (RunState from : {RunState::succeeded, RunState::failed, RunState::timed_out,
                          RunState::cancelled, RunState::lost, RunState::skipped})
        for (RunState to :
             {RunState::queued, RunState::running, RunState::succeeded, RunState::lost})
            EXPECT_FALSE(can_transition(from, to)) << to_string(from) << " -> " << to_string(to);
}

TEST(RunStateMachine, QueuedRunsGoOutOrFinishWithoutRunning) {
    EXPECT_TRUE(can_transition(RunState::queued, RunState::dispatched));
    EXPECT_TRUE(can_transition(RunState::queued, RunState::cancelled));
    EXPECT_TRUE(can_transition(RunState::queued, RunState::skipped));
    EXPECT_FALSE(can_transition(RunState::queued, RunState::running));
    EXPECT_FALSE(can_transition(RunState::queued, RunState::succeeded));
}

TEST(RunStateMachine, InFlightRunsCanGoUnknownAndComeBack) {
    EXPECT_TRUE(can_transition(RunState::dispatched, RunState::running));
    EXPECT_TRUE(can_transition(RunState::dispatched, RunState::succeeded));  // result before ack
    EXPECT_TRUE(can_transition(RunState::running, RunState::unknown));
    EXPECT_TRUE(can_transition(RunState::unknown, RunState::running));
    EXPECT_TRUE(can_transition(RunState::unknown, RunState::lost));
    EXPECT_FALSE(can_transition(RunState::running, RunState::dispatched));
    EXPECT_FALSE(can_transition(RunState::running, RunState::queued));
    EXPECT_FALSE(can_transition(RunState::running, RunState::skipped));
}

TEST(JobStateMachine, JobStateFollowsItsRuns) {
    using R = RunState;
    EXPECT_EQ(job_state_for({R::succeeded, R::succeeded}, false), JobState::succeeded);
    EXPECT_EQ(job_state_for({R::succeeded, R::running}, false), JobState::running);
    EXPECT_EQ(job_state_for({R::failed, R::failed}, false), JobState::failed);
    EXPECT_EQ(job_state_for({R::succeeded, R::failed}, false), JobState::partial);
    EXPECT_EQ(job_state_for({R::succeeded, R::skipped}, false), JobState::partial);
    EXPECT_EQ(job_state_for({R::skipped}, false), JobState::failed);
    EXPECT_EQ(job_state_for({R::timed_out, R::timed_out}, false), JobState::timed_out);
    EXPECT_EQ(job_state_for({R::timed_out, R::failed}, false), JobState::failed);
    EXPECT_EQ(job_state_for({R::cancelled, R::succeeded}, true), JobState::cancelled);
    EXPECT_EQ(job_state_for({R::succeeded, R::succeeded}, true), JobState::succeeded)
        << "a cancel that came too late changes nothing";
}

TEST(JobStateMachine, NamesRoundTrip) {
    for (JobState s :
         {JobState::pending_approval, JobState::queued, JobState::running, JobState::succeeded,
          JobState::failed, JobState::partial, JobState::timed_out, JobState::cancelled,
          JobState::denied, JobState::expired})
        EXPECT_EQ(parse_job_state(to_string(s)), s);
    for (RunState s : {RunState::queued, RunState::dispatched, RunState::running, RunState::unknown,
                       RunState::succeeded, RunState::failed, RunState::timed_out,
                       RunState::cancelled, RunState::lost, RunState::skipped})
        EXPECT_EQ(parse_run_state(to_string(s)), s);
    EXPECT_FALSE(parse_job_state("done").has_value());
}

}  // namespace
}  // namespace hostline::controller
