// The scheduler following a rollout's window (scheduler_rollout.cpp) against the real SQLite
// store, with agents played by the test: what it sends when, across cancel, approval and a
// restart. The window's arithmetic alone is rollout_test.cpp; real agents, batches_test.cpp.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>

#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class SchedulerRollout : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-rollout-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        open();
    }
    void TearDown() override {
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }
    // Opens the store and a scheduler over it; again, it is a controller restart.
    void open() {
        scheduler_.reset();
        store_.reset();
        auto store = Store::open(dir_ + "/hostline.db", [this](std::function<void()> f) {
            boost::asio::post(io_, std::move(f));
        });
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string& agent, proto::Message m) {
                sent_.emplace_back(agent, std::move(m));
            },
            SchedulerConfig{});
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok());
        scheduler_->restore(*snapshot);
        scheduler_->start();
    }
    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(5ms);
        }
        return pred();
    }
    void settle() {
        run_until([] { return false; }, 100ms);
    }
    void hello(const std::string& agent, std::vector<proto::HeldRun> held = {}) {
        proto::Hello h;
        h.agent_id = agent;
        h.capacity = 4;
        h.runs = std::move(held);
        scheduler_->on_agent_message(agent, h);
    }
    // The runs sent so far, as (agent, run id), in order.
    std::vector<std::pair<std::string, std::uint64_t>> runs_sent() {
        std::vector<std::pair<std::string, std::uint64_t>> out;
        for (auto& [agent, m] : sent_)
            if (auto* r = std::get_if<proto::Run>(&m)) out.emplace_back(agent, r->run_id);
        return out;
    }
    void finish(const std::string& agent, std::uint64_t run_id, const std::string& status,
                int exit_code = 0) {
        proto::RunResult r;
        r.run_id = run_id;
        r.seq = 1;
        r.status = status;
        r.exit_code = exit_code;
        scheduler_->on_agent_message(agent, r);
    }
    JobDetail detail(std::int64_t job_id) {
        std::optional<Result<JobDetail>> got;
        scheduler_->job(job_id, [&](Result<JobDetail> d) { got = std::move(d); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        return got->value();
    }
    static SubmitRequest rollout(std::string batch, bool fail_fast = false) {
        SubmitRequest r;
        r.requester = "token:admin";
        r.source = "test";
        r.target = "*";
        r.argv = {"true"};
        r.batch = parse_batch_size(batch).value();
        r.fail_fast = fail_fast;
        return r;
    }

    std::string dir_;
    boost::asio::io_context io_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
};

TEST_F(SchedulerRollout, CancelEndsTheWaitingRunsAndReleasesNothingMore) {
    for (const char* a : {"a1", "a2", "a3"}) hello(a);
    auto job = scheduler_->submit(rollout("1"));
    ASSERT_TRUE(job.ok()) << job.error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(job->job_id).ok());
    finish("a1", runs_sent()[0].second, "cancelled", -1);
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
    for (const auto& [agent, id] : first)
        scheduler_->on_agent_message(agent, proto::RunAck{id, true, ""});
    settle();

    open();
    sent_.clear();
    hello("a1", {{first[0].second, false}});
    hello("a2", {{first[1].second, false}});
    hello("a3");
    hello("a4");
    settle();
    EXPECT_TRUE(runs_sent().empty()) << "the window is full of the runs that survived";
    finish("a1", first[0].second, "exited");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].first, "a3");
    settle();
    EXPECT_EQ(runs_sent().size(), 1u);
}

TEST_F(SchedulerRollout, FailFastStaysStoppedAcrossARestart) {
    for (const char* a : {"a1", "a2", "a3"}) hello(a);
    auto job = scheduler_->submit(rollout("2", true));
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    auto first = runs_sent();
    scheduler_->on_agent_message("a2", proto::RunAck{first[1].second, true, ""});
    finish("a1", first[0].second, "exited", 3);  // fails: a3 never starts
    settle();
    open();
    sent_.clear();
    hello("a1");
    hello("a2", {{first[1].second, false}});
    hello("a3");
    finish("a2", first[1].second, "exited");
    settle();
    EXPECT_TRUE(runs_sent().empty());
    JobDetail d = detail(job->job_id);
    EXPECT_EQ(d.job.state, JobState::partial);
    EXPECT_EQ(d.runs[2].state, RunState::skipped);
    EXPECT_EQ(d.runs[2].error, "not started: fail-fast after a1 failed");
}

}  // namespace
}  // namespace hostline::controller
