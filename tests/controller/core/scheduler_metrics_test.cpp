// What the scheduler reports to SchedulerMetrics as jobs and runs change state: each final
// state once, the dispatch-to-ack latency once per run, and its load at the moment.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <map>

#include "controller/jobs/scheduler_metrics.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class RecordedMetrics final : public SchedulerMetrics {
  public:
    void job_finished(JobState state) override { ++jobs[state]; }
    void run_finished(const RunRecord& run) override {
        ++runs[run.state];
        if (run.started_at_ms != 0) ++timed_runs;
    }
    void run_acknowledged(std::chrono::steady_clock::duration since) override {
        ++acks;
        EXPECT_GE(since.count(), 0);
    }

    std::map<JobState, int> jobs;
    std::map<RunState, int> runs;
    int timed_runs = 0;
    int acks = 0;
};

class SchedulerMetricsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-sched-metrics-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
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
        scheduler_->enable_metrics(metrics_);
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok());
        scheduler_->restore(*snapshot);
        scheduler_->start();
    }
    void TearDown() override {
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    template <typename Pred>
    bool run_until(Pred pred) {
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(5ms);
        }
        return pred();
    }

    void hello(const std::string& agent, std::uint32_t capacity) {
        proto::Hello h;
        h.agent_id = agent;
        h.capacity = capacity;
        scheduler_->on_agent_message(agent, h);
    }

    std::vector<std::uint64_t> runs_sent_to(const std::string& agent) {
        std::vector<std::uint64_t> out;
        for (auto& [a, m] : sent_)
            if (auto* run = std::get_if<proto::Run>(&m); run != nullptr && a == agent)
                out.push_back(run->run_id);
        return out;
    }

    void finish(const std::string& agent, std::uint64_t run_id, int exit_code) {
        proto::RunResult r;
        r.run_id = run_id;
        r.seq = 1;
        r.status = "exited";
        r.exit_code = exit_code;
        r.started_at_ms = 1000;
        r.ended_at_ms = 1500;
        scheduler_->on_agent_message(agent, r);
    }

    static SubmitRequest request(std::string target) {
        SubmitRequest r;
        r.requester = "token:admin";
        r.source = "test";
        r.target = std::move(target);
        r.argv = {"true"};
        return r;
    }

    std::string dir_;
    boost::asio::io_context io_;
    RecordedMetrics metrics_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
};

TEST_F(SchedulerMetricsTest, EachFinalStateAndEachAckIsReportedOnce) {
    hello("a1", 4);
    hello("a2", 4);
    ASSERT_TRUE(scheduler_->submit(request("*")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent_to("a2").size() == 1; }));
    const std::uint64_t r1 = runs_sent_to("a1")[0], r2 = runs_sent_to("a2")[0];
    scheduler_->on_agent_message("a1", proto::RunAck{r1, true, ""});
    scheduler_->on_agent_message("a1", proto::RunAck{r1, true, ""});  // a repeat: not again
    EXPECT_EQ(metrics_.acks, 1);
    finish("a1", r1, 0);
    finish("a2", r2, 3);  // a result with no run_ack before it: no latency to report
    finish("a2", r2, 3);  // a repeat
    EXPECT_EQ(metrics_.runs,
              (std::map<RunState, int>{{RunState::succeeded, 1}, {RunState::failed, 1}}));
    EXPECT_EQ(metrics_.timed_runs, 2);
    EXPECT_EQ(metrics_.jobs, (std::map<JobState, int>{{JobState::partial, 1}}));
    EXPECT_EQ(scheduler_->load().jobs_active, 0u);
}

TEST_F(SchedulerMetricsTest, AHeldJobDeniedIsReportedDenied) {
    hello("a1", 4);
    auto held = scheduler_->hold(request("a1"));
    ASSERT_TRUE(held.ok());
    EXPECT_EQ(scheduler_->load().jobs_active, 1u);
    ASSERT_TRUE(scheduler_->close_held(held->job_id, JobState::denied).ok());
    EXPECT_EQ(metrics_.jobs, (std::map<JobState, int>{{JobState::denied, 1}}));
    EXPECT_TRUE(metrics_.runs.empty());
}

TEST_F(SchedulerMetricsTest, LoadCountsRunsWaitingForASlot) {
    hello("a1", 1);
    ASSERT_TRUE(scheduler_->submit(request("a1")).ok());
    ASSERT_TRUE(scheduler_->submit(request("a1")).ok());
    ASSERT_TRUE(scheduler_->submit(request("a1")).ok());
    ASSERT_TRUE(run_until([&] { return runs_sent_to("a1").size() == 1; }));
    EXPECT_EQ(scheduler_->load().jobs_active, 3u);
    EXPECT_EQ(scheduler_->load().runs_queued, 2u);
    finish("a1", runs_sent_to("a1")[0], 0);
    EXPECT_EQ(scheduler_->load().runs_queued, 1u);
    EXPECT_EQ(scheduler_->load().jobs_active, 2u);
}

}  // namespace
}  // namespace hostline::controller
