// The scheduler against the real SQLite store, with agents played by the test: what the
// scheduler sends is captured, and agent messages are fed in as the transport would.
#include "controller/scheduler/scheduler.hpp"
#include "controller/core/recorded_audit.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <filesystem>

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

SubmitRequest request(std::string target, std::vector<std::string> argv) {
    SubmitRequest r;
    r.requester = "token:admin";
    r.source = "test";
    r.target = std::move(target);
    r.argv = std::move(argv);
    return r;
}

// Counts the store's commits (called on the store thread).
struct CommitCounter : StoreMetrics {
    std::atomic<int> commits{0};
    void committed(std::chrono::steady_clock::duration) override { ++commits; }
    void queue_depth(std::size_t) override {}
};

class SchedulerTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-sched-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        open();
    }
    void TearDown() override {
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    void open(SchedulerConfig config = {}) {
        scheduler_.reset();
        store_.reset();
        auto store = Store::open(
            dir_ + "/hostline.db",
            [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); },
            &store_metrics_);
        ASSERT_TRUE(store.ok()) << store.error().message;
        store_ = std::move(*store);
        config.heartbeat = config_heartbeat_;
        config.agent_grace = config_grace_;
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string& agent, proto::Message m) {
                sent_.emplace_back(agent, std::move(m));
            },
            config, &audit_);
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok());
        scheduler_->restore(*snapshot);
        scheduler_->start();
    }

    // Runs the loop until pred holds (store completions arrive through it).
    template <typename Pred>
    bool run_until(Pred pred, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (!pred() && std::chrono::steady_clock::now() < deadline) {
            io_.restart();
            io_.run_for(5ms);
        }
        return pred();
    }

    void hello(const std::string& agent, std::uint32_t capacity = 4,
               std::vector<proto::HeldRun> held = {}, proto::Labels labels = {}) {
        proto::Hello h;
        h.agent_id = agent;
        h.capacity = capacity;
        h.labels = std::move(labels);
        h.runs = std::move(held);
        scheduler_->on_agent_message(agent, h);
    }

    template <typename T>
    std::vector<T> sent_to(const std::string& agent) {
        std::vector<T> out;
        for (auto& [a, m] : sent_)
            if (a == agent)
                if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
        return out;
    }

    // How far the agent has been told run `run` is stored: acks are cumulative, and what is
    // committed together is acknowledged once.
    std::uint64_t acked(const std::string& agent, std::uint64_t run) {
        std::uint64_t seq = 0;
        for (const proto::Ack& ack : sent_to<proto::Ack>(agent))
            if (ack.run_id == run) seq = std::max(seq, ack.seq);
        return seq;
    }

    JobDetail detail(std::int64_t job_id) {
        std::optional<Result<JobDetail>> got;
        scheduler_->job(job_id, [&](Result<JobDetail> d) { got = std::move(d); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        EXPECT_TRUE(got->ok());
        return got->value();
    }

    // Agent a1 says hello and a job runs argv on it: the job's id and its run's, once the run
    // is stored and sent; {0, 0} (and a failed expectation) if it is not.
    struct OneRun {
        std::int64_t job = 0;
        std::uint64_t run = 0;
    };
    OneRun run_on_a1(std::vector<std::string> argv) {
        hello("a1");
        auto submitted = scheduler_->submit(request("a1", std::move(argv)));
        EXPECT_TRUE(submitted.ok());
        if (!submitted.ok() || !run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }))
            return {};
        return {submitted->job_id, sent_to<proto::Run>("a1")[0].run_id};
    }

    // Subscribes to the job; the state of every run event from then on (the snapshot's too)
    // goes to run_states_.
    void watch_run_states(std::int64_t job_id) {
        bool subscribed = false;
        scheduler_->subscribe(
            job_id,
            [this](const JobEvent& e) {
                if (const auto* r = std::get_if<JobEvent::RunChanged>(&e.what))
                    run_states_.push_back(r->run.state);
            },
            [&](Result<std::uint64_t> id) { subscribed = id.ok(); });
        ASSERT_TRUE(run_until([&] { return subscribed; }));
    }

    void finish(const std::string& agent, std::uint64_t run_id, std::uint64_t seq, int exit_code) {
        proto::RunResult r;
        r.run_id = run_id;
        r.seq = seq;
        r.status = "exited";
        r.exit_code = exit_code;
        scheduler_->on_agent_message(agent, r);
    }

    std::string dir_;
    boost::asio::io_context io_;
    RecordedAudit audit_;
    CommitCounter store_metrics_;  // before store_: it outlives the store
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
    std::vector<RunState> run_states_;  // watch_run_states()
    std::chrono::milliseconds config_heartbeat_{5000};
    std::chrono::milliseconds config_grace_{60000};
};

TEST_F(SchedulerTest, HelloIsWelcomedAndTheAgentIsOnline) {
    hello("web-1", 4, {}, {{"role", "web"}});
    ASSERT_EQ(sent_to<proto::Welcome>("web-1").size(), 1u);
    auto agents = scheduler_->agents();
    ASSERT_EQ(agents.size(), 1u);
    EXPECT_TRUE(agents[0].online);
    EXPECT_EQ(agents[0].labels.at("role"), "web");
}

TEST_F(SchedulerTest, SubmitFansOutOneRunPerMatchedAgentAndSendsItAfterStoring) {
    hello("web-1", 4, {}, {{"role", "web"}});
    hello("web-2", 4, {}, {{"role", "web"}});
    hello("db-1", 4, {}, {{"role", "db"}});
    auto reply = scheduler_->submit(request("role=web", {"uptime"}));
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    EXPECT_EQ(reply->matched, (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_TRUE(sent_to<proto::Run>("web-1").empty()) << "sent before the store committed it";
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("web-2").size() == 1; }));
    EXPECT_EQ(sent_to<proto::Run>("web-1").at(0).argv, std::vector<std::string>{"uptime"});
    EXPECT_TRUE(sent_to<proto::Run>("db-1").empty());
    JobDetail d = detail(reply->job_id);
    ASSERT_EQ(d.runs.size(), 2u);
    EXPECT_EQ(d.runs[0].state, RunState::dispatched);
}

TEST_F(SchedulerTest, NoMatchingAgentIsAClearError) {
    hello("web-1");
    auto reply = scheduler_->submit(request("db-*", {"true"}));
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().message, "no agent matches 'db-*' (known: web-1)");
    auto bad = scheduler_->submit(request("web-1 &", {"true"}));
    ASSERT_FALSE(bad.ok());
    auto empty = scheduler_->submit(request("*", {}));
    ASSERT_FALSE(empty.ok());
}

TEST_F(SchedulerTest, RunCarriesTheUserAndGroupToTheAgent) {
    hello("a1");
    SubmitRequest both = request("a1", {"id"});
    both.run_as_user = "deploy";
    both.run_as_group = "www-data";
    auto reply = scheduler_->submit(both);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[0].user, "deploy");
    EXPECT_EQ(sent_to<proto::Run>("a1")[0].group, "www-data");
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.run_as_user, "deploy");
    EXPECT_EQ(d.job.run_as_group, "www-data");

    SubmitRequest group_only = request("a1", {"id"});
    group_only.run_as_group = "adm";
    ASSERT_TRUE(scheduler_->submit(group_only).ok());
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 2; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[1].user, "");
    EXPECT_EQ(sent_to<proto::Run>("a1")[1].group, "adm");

    ASSERT_TRUE(scheduler_->submit(request("a1", {"id"})).ok());
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 3; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[2].user, "");
    EXPECT_EQ(sent_to<proto::Run>("a1")[2].group, "");
}

TEST_F(SchedulerTest, InvalidUserNameIsRefused) {
    hello("a1");
    const auto as = [&](std::string user, std::string group = "") {
        SubmitRequest r = request("a1", {"id"});
        r.run_as_user = std::move(user);
        r.run_as_group = std::move(group);
        return scheduler_->submit(r);
    };
    auto refused = as("Bob Smith");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "user 'Bob Smith' is not a valid user name");
    auto bad_group = as("deploy", "wheel;rm");
    ASSERT_FALSE(bad_group.ok());
    EXPECT_EQ(bad_group.error().message, "group 'wheel;rm' is not a valid group name");
    for (const std::string& name : std::vector<std::string>{
             "Root", "-rf", "1abc", "a$b", "$", "a/b", "..", "x y", std::string(33, 'a')}) {
        EXPECT_FALSE(as(name).ok()) << name;
    }
    EXPECT_TRUE(sent_to<proto::Run>("a1").empty()) << "a refused job must not run";

    for (const std::string& name : std::vector<std::string>{"nobody", "_apt", "www-data", "host$",
                                                            "u2", "1000", std::string(32, 'a')}) {
        EXPECT_TRUE(as(name).ok()) << name;
    }
}

TEST_F(SchedulerTest, ResultsFinishRunsAndTheJob) {
    hello("a1");
    hello("a2");
    auto reply = scheduler_->submit(request("*", {"true"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a2").size() == 1; }));
    std::uint64_t r1 = sent_to<proto::Run>("a1")[0].run_id,
                  r2 = sent_to<proto::Run>("a2")[0].run_id;
    scheduler_->on_agent_message("a1", proto::RunAck{r1, true, ""});
    proto::Output out{r1, 1, "stdout", proto::Bytes{"hello\n"}};
    scheduler_->on_agent_message("a1", out);
    finish("a1", r1, 2, 0);
    finish("a2", r2, 1, 7);
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.state, JobState::partial);
    EXPECT_EQ(d.runs[0].state, RunState::succeeded);
    EXPECT_EQ(d.runs[1].state, RunState::failed);
    EXPECT_EQ(d.runs[1].exit_code, 7);
    // Output and result are acknowledged once stored (together, if committed together).
    ASSERT_TRUE(run_until([&] { return acked("a1", r1) == 2; }));
    EXPECT_LE(sent_to<proto::Ack>("a1").size(), 2u);
}

TEST_F(SchedulerTest, OutputBeyondTheCapIsCountedButNotStored) {
    SchedulerConfig config;
    config.output_cap_bytes = 10;
    open(config);
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"yes"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[0].output_cap, 10u) << "the agent is told the cap too";
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"y\ny\ny\n"}});
    scheduler_->on_agent_message("a1", proto::Output{run, 2, "stdout", proto::Bytes{"y\ny\ny\n"}});
    scheduler_->on_agent_message("a1", proto::Output{run, 3, "stdout", proto::Bytes{"y\ny\ny\n"}});
    proto::RunResult r;
    r.run_id = run;
    r.seq = 4;
    r.status = "exited";
    r.exit_code = 0;
    r.stdout_bytes = 5000;
    r.truncated = true;
    scheduler_->on_agent_message("a1", r);
    // Every message is acknowledged, also those whose bytes were dropped.
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 4; }));
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.runs[0].stored_bytes, 10u);
    EXPECT_TRUE(d.runs[0].truncated);
    EXPECT_EQ(d.runs[0].stdout_bytes, 5000u) << "the agent's count is kept";
    std::optional<Result<std::vector<OutputChunk>>> out;
    scheduler_->output(reply->job_id, [&](auto o) { out = std::move(o); });
    ASSERT_TRUE(run_until([&] { return out.has_value(); }));
    std::string text;
    for (const auto& c : out->value()) text += c.data;
    EXPECT_EQ(text, "y\ny\ny\ny\ny\n");
}

TEST_F(SchedulerTest, ACommandsOwnOutputCapIsSentAndStoredOutputStopsAtIt) {
    SchedulerConfig config;
    config.output_cap_bytes = 1000;
    open(config);
    hello("a1");
    SubmitRequest capped = request("a1", {"yes"});
    capped.output_cap_bytes = 4;
    auto reply = scheduler_->submit(capped);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[0].output_cap, 4u);
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"y\ny\ny\n"}});
    finish("a1", run, 2, 0);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 2; }));
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.output_cap_bytes, 4);
    EXPECT_EQ(d.runs[0].stored_bytes, 4u);
    EXPECT_TRUE(d.runs[0].truncated);
    std::optional<Result<std::vector<OutputChunk>>> out;
    scheduler_->output(reply->job_id, [&](auto o) { out = std::move(o); });
    ASSERT_TRUE(run_until([&] { return out.has_value(); }));
    ASSERT_EQ(out->value().size(), 1u);
    EXPECT_EQ(out->value()[0].data, "y\ny\n");

    // Without a cap of its own a job gets the controller's; a cap must be positive.
    ASSERT_TRUE(scheduler_->submit(request("a1", {"id"})).ok());
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 2; }));
    EXPECT_EQ(sent_to<proto::Run>("a1")[1].output_cap, 1000u);
    capped.output_cap_bytes = 0;
    auto refused = scheduler_->submit(capped);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message, "output cap must be positive");
}

TEST_F(SchedulerTest, DuplicateAndOutOfOrderOutputIsStoredOnce) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"cat"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"one\n"}});
    scheduler_->on_agent_message("a1",
                                 proto::Output{run, 1, "stdout", proto::Bytes{"one\n"}});  // resent
    scheduler_->on_agent_message("a1",
                                 proto::Output{run, 3, "stdout", proto::Bytes{"three\n"}});  // gap
    scheduler_->on_agent_message("a1", proto::Output{run, 2, "stdout", proto::Bytes{"two\n"}});
    scheduler_->on_agent_message(
        "a1", proto::Output{run, 3, "stdout", proto::Bytes{"three\n"}});  // resent
    finish("a1", run, 4, 0);
    std::optional<Result<std::vector<OutputChunk>>> out;
    scheduler_->output(reply->job_id, [&](auto r) { out = std::move(r); });
    ASSERT_TRUE(run_until([&] { return out.has_value(); }));
    std::string text;
    for (const auto& c : out->value()) text += c.data;
    EXPECT_EQ(text, "one\ntwo\nthree\n");
    EXPECT_EQ(detail(reply->job_id).job.state, JobState::succeeded);
}

TEST_F(SchedulerTest, ARepeatIsNeverAcknowledgedBeforeTheStoreCommittedIt) {
    hello("a1");
    ASSERT_TRUE(scheduler_->submit(request("a1", {"cat"})).ok());
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    // Both arrive before the store has had a turn: the repeat must not be acknowledged, or
    // the agent would forget a chunk a crash could still lose.
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"one\n"}});
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"one\n"}});
    EXPECT_TRUE(sent_to<proto::Ack>("a1").empty());
    ASSERT_TRUE(run_until([&] { return !sent_to<proto::Ack>("a1").empty(); }));
    EXPECT_EQ(sent_to<proto::Ack>("a1").at(0).seq, 1u);
}

// The agent's output is stored before its result arrives (a ROUTER hands messages over round
// robin across agents): its ack waits, and the result's ack ends the run in one.
TEST_F(SchedulerTest, AnOutputsAckWaitsForItsRunsResultAndOneAckEndsTheRun) {
    const std::uint64_t run = run_on_a1({"cat"}).run;
    ASSERT_NE(run, 0u);
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"one\n"}});
    bool stored = false;
    scheduler_->when_stored([&] { stored = true; });
    ASSERT_TRUE(run_until([&] { return stored; }));
    EXPECT_TRUE(sent_to<proto::Ack>("a1").empty()) << "held for the result (up to a second)";
    finish("a1", run, 2, 0);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 2; }));
    EXPECT_EQ(sent_to<proto::Ack>("a1").size(), 1u);
}

// A run's start is in the events at once and in the store shortly after, on its own when
// the run goes on without a word.
TEST_F(SchedulerTest, AStartedRunIsRunningInTheEventsAtOnceAndInTheStoreSoonAfter) {
    const OneRun one = run_on_a1({"sleep", "60"});
    ASSERT_NE(one.run, 0u);
    const std::uint64_t run = one.run;
    watch_run_states(one.job);
    run_states_.clear();  // the snapshot's

    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    ASSERT_EQ(run_states_, std::vector<RunState>{RunState::running}) << "told before any commit";
    EXPECT_TRUE(run_until([&] { return detail(one.job).runs.at(0).state == RunState::running; }));
}

// The start of a run that ends before its start is stored costs no commit of its own: its
// row is written once, as it ended.
TEST_F(SchedulerTest, AShortRunsStartAndEndAreOneCommit) {
    SchedulerConfig config;
    config.running_save_delay = std::chrono::minutes(10);  // never, within this test
    open(config);
    const OneRun one = run_on_a1({"true"});
    ASSERT_NE(one.run, 0u);
    const std::uint64_t run = one.run;
    auto settled = [&] {
        bool stored = false;
        scheduler_->when_stored([&] { stored = true; });
        return run_until([&] { return stored; });
    };
    ASSERT_TRUE(settled());
    const int before = store_metrics_.commits;

    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    ASSERT_TRUE(settled());
    EXPECT_EQ(store_metrics_.commits, before) << "the start alone commits nothing";
    finish("a1", run, 1, 0);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 1; }));
    EXPECT_EQ(store_metrics_.commits, before + 1);
    const JobDetail stored = detail(one.job);
    EXPECT_EQ(stored.job.state, JobState::succeeded);
    EXPECT_EQ(stored.runs.at(0).state, RunState::succeeded);
    EXPECT_GT(stored.runs.at(0).started_at_ms, 0);
}

// A run whose output was stored since its start is not stored again for the start.
TEST_F(SchedulerTest, ARunStoredWithItsOutputIsNotStoredAgainForItsStart) {
    SchedulerConfig config;
    config.running_save_delay = std::chrono::milliseconds(10);
    open(config);
    const OneRun one = run_on_a1({"cat"});
    ASSERT_NE(one.run, 0u);
    scheduler_->on_agent_message("a1", proto::RunAck{one.run, true, ""});
    scheduler_->on_agent_message("a1", proto::Output{one.run, 1, "stdout", proto::Bytes{"one\n"}});
    bool stored = false;
    scheduler_->when_stored([&] { stored = true; });
    ASSERT_TRUE(run_until([&] { return stored; }));
    const int before = store_metrics_.commits;
    run_until([] { return false; }, std::chrono::milliseconds(200));  // the delay, 20 times over
    EXPECT_EQ(store_metrics_.commits, before);
    EXPECT_EQ(detail(one.job).runs.at(0).state, RunState::running);
}

// Held acks never keep an agent's window (64 messages, 4 MiB) from draining: a quarter of it
// held goes out as soon as it is stored, and what is held without a result goes out within
// a second.
TEST_F(SchedulerTest, HeldAcksGoOutAtAQuarterOfTheAgentsWindowOrWithinASecond) {
    const std::uint64_t run = run_on_a1({"cat"}).run;
    ASSERT_NE(run, 0u);
    for (std::uint64_t seq = 1; seq <= 16; ++seq)
        scheduler_->on_agent_message("a1",
                                     proto::Output{run, seq, "stdout", proto::Bytes{"line\n"}});
    bool stored = false;
    scheduler_->when_stored([&] { stored = true; });
    ASSERT_TRUE(run_until([&] { return stored; }));
    EXPECT_EQ(acked("a1", run), 16u) << "sixteen messages held: sent with their commit";

    scheduler_->on_agent_message("a1", proto::Output{run, 17, "stdout", proto::Bytes{"more\n"}});
    const auto start = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 17; }));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500))
        << "one message held waits for its result a while";

    scheduler_->on_agent_message(
        "a1", proto::Output{run, 18, "stdout", proto::Bytes{std::string(1 << 20, 'x')}});
    stored = false;
    scheduler_->when_stored([&] { stored = true; });
    ASSERT_TRUE(run_until([&] { return stored; }));
    EXPECT_EQ(acked("a1", run), 18u) << "1 MiB held: sent with its commit";
}

TEST_F(SchedulerTest, OutputAndResultsForAnotherAgentsRunAreDroppedAndNotAcknowledged) {
    hello("a1");
    hello("evil");
    auto reply = scheduler_->submit(request("a1", {"cat"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("evil", proto::Output{run, 1, "stdout", proto::Bytes{"forged\n"}});
    finish("evil", run, 2, 1);
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"real\n"}});
    finish("a1", run, 2, 0);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 2; }));
    EXPECT_TRUE(sent_to<proto::Ack>("evil").empty());
    std::optional<Result<std::vector<OutputChunk>>> out;
    scheduler_->output(reply->job_id, [&](auto r) { out = std::move(r); });
    ASSERT_TRUE(run_until([&] { return out.has_value(); }));
    ASSERT_EQ(out->value().size(), 1u);
    EXPECT_EQ(out->value()[0].data, "real\n");
    EXPECT_EQ(detail(reply->job_id).job.state, JobState::succeeded);
}

TEST_F(SchedulerTest, AnInterruptedRunIsLostWithTheAgentsReasonAndItsOutputKept) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"long-job"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"half\n"}});
    // The agent restarted: it holds the run (its output and now its result) and says so.
    hello("a1", 4, {{run, true}});
    proto::RunResult r;
    r.run_id = run;
    r.seq = 2;
    r.status = "interrupted";
    r.error = "interrupted: the agent stopped while the run was in progress";
    scheduler_->on_agent_message("a1", r);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 2; }));
    JobDetail d = detail(reply->job_id);
    ASSERT_EQ(d.runs.size(), 1u);
    EXPECT_EQ(d.runs[0].state, RunState::lost);
    EXPECT_NE(d.runs[0].error.find("agent a1: interrupted"), std::string::npos) << d.runs[0].error;
    EXPECT_EQ(d.runs[0].stored_bytes, 5u);
}

TEST_F(SchedulerTest, AResultForARunAlreadyLostIsAcknowledgedSoTheAgentForgetsIt) {
    config_heartbeat_ = 100ms;
    config_grace_ = 300ms;
    open();
    hello("a1");
    hello("a2");
    auto reply = scheduler_->submit(request("a1,a2", {"sleep", "9"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    // a2 keeps its run going (so the job stays active) while a1 goes silent past the grace.
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a2").size() == 1; }));
    ASSERT_TRUE(run_until(
        [&] {
            scheduler_->on_agent_message("a2", proto::Heartbeat{1});
            for (const RunRecord& r : detail(reply->job_id).runs)
                if (r.id == static_cast<std::int64_t>(run)) return r.state == RunState::lost;
            return false;
        },
        10s));
    hello("a1", 4, {{run, true}});
    finish("a1", run, 1, 0);
    ASSERT_TRUE(run_until([&] { return !sent_to<proto::Ack>("a1").empty(); }));
    EXPECT_EQ(sent_to<proto::Ack>("a1").back().seq, 1u);
}

TEST_F(SchedulerTest, WhenStoredAnswersOnlyOnceTheSubmittedJobIsCommitted) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"uptime"}));
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    bool answered = false;
    bool visible = false;
    scheduler_->when_stored([&] {
        answered = true;
        // Another connection sees it: it is committed, not merely queued.
        auto other = Store::open(dir_ + "/hostline.db", [](std::function<void()>) {});
        ASSERT_TRUE(other.ok()) << other.error().message;
        auto snapshot = (*other)->load();
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        for (const Job& j : snapshot->active_jobs) visible = visible || j.id == reply->job_id;
    });
    EXPECT_FALSE(answered) << "answered before the store had its turn";
    ASSERT_TRUE(run_until([&] { return answered; }));
    EXPECT_TRUE(visible);
}

TEST_F(SchedulerTest, AgentCapacityQueuesRunsOnTheController) {
    hello("a1", 1);
    auto first = scheduler_->submit(request("a1", {"sleep", "1"}));
    auto second = scheduler_->submit(request("a1", {"sleep", "1"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    io_.restart();
    io_.run_for(50ms);
    EXPECT_EQ(sent_to<proto::Run>("a1").size(), 1u) << "capacity 1 allows one run at a time";
    EXPECT_EQ(detail(second->job_id).runs[0].state, RunState::queued);
    finish("a1", sent_to<proto::Run>("a1")[0].run_id, 1, 0);
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 2; }));
    EXPECT_EQ(static_cast<std::int64_t>(sent_to<proto::Run>("a1")[1].job_id), second->job_id);
}

TEST_F(SchedulerTest, OfflineAgentsRunIsSkipped) {
    config_heartbeat_ = 50ms;
    open();
    hello("up");
    hello("down");
    // Only "up" keeps talking; "down" misses three heartbeats.
    ASSERT_TRUE(run_until([&] {
        scheduler_->on_agent_message("up", proto::Heartbeat{0});
        for (const auto& a : scheduler_->agents())
            if (a.name == "down") return !a.online;
        return false;
    }));
    auto reply = scheduler_->submit(request("*", {"true"}));
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->offline, std::vector<std::string>{"down"});
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.runs[1].agent, "down");
    EXPECT_EQ(d.runs[1].state, RunState::skipped);
}

// Heartbeats the transport answered on its own thread (AgentPresence) count as heard: an
// agent that only ever heartbeats that way stays online; one that stops goes offline, and from
// then on its heartbeats are not answered there but handed on, so it is asked to say hello.
TEST_F(SchedulerTest, HeartbeatsAnsweredByTheTransportKeepAnAgentOnline) {
    config_heartbeat_ = 50ms;
    open();
    hello("up");
    hello("down");
    auto online = [&](const std::string& name) {
        for (const auto& a : scheduler_->agents())
            if (a.name == name) return a.online;
        return false;
    };
    const auto heard_before = [&] {
        for (const auto& a : scheduler_->agents())
            if (a.name == "up") return a.last_seen_ms;
        return std::int64_t{0};
    }();
    ASSERT_TRUE(run_until([&] {
        EXPECT_TRUE(scheduler_->presence().answer("up", AgentPresence::Clock::now()).has_value());
        return !online("down");
    }));
    EXPECT_TRUE(online("up"));
    for (const auto& a : scheduler_->agents()) {
        if (a.name == "up") {
            EXPECT_GT(a.last_seen_ms, heard_before);
        }
    }
    EXPECT_FALSE(scheduler_->presence().answer("down", AgentPresence::Clock::now()).has_value())
        << "an agent out of session is not answered by the transport";
    scheduler_->on_agent_message("down", proto::Heartbeat{0});
    ASSERT_EQ(sent_to<proto::ErrorReply>("down").size(), 1u);
    EXPECT_EQ(sent_to<proto::ErrorReply>("down")[0].code, "no_session");
}

// Past max_heartbeats_per_second the fleet is told a longer heartbeat (whole seconds): in the
// welcome, in every heartbeat reply (the transport's and the scheduler's), and silence is
// judged by it.
TEST_F(SchedulerTest, ALargeFleetIsToldALongerHeartbeatAndJudgedByIt) {
    config_heartbeat_ = 1000ms;
    SchedulerConfig config;
    config.max_heartbeats_per_second = 1;  // 3 agents: one heartbeat each 3 s
    open(config);
    for (const char* name : {"a1", "a2", "a3"}) hello(name);
    EXPECT_EQ(sent_to<proto::Welcome>("a1").at(0).heartbeat_ms, 1000u) << "before any pacing";
    ASSERT_TRUE(run_until([&] { return scheduler_->heartbeat() == 3s; }));

    auto reply = scheduler_->presence().answer("a1", AgentPresence::Clock::now());
    ASSERT_TRUE(reply.has_value());
    auto decoded = proto::decode(*reply);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(std::get<proto::Heartbeat>(*decoded).interval_ms, 3000u);
    scheduler_->on_agent_message("a2", proto::Heartbeat{0});
    EXPECT_EQ(sent_to<proto::Heartbeat>("a2").back().interval_ms, 3000u);
    hello("a4");
    EXPECT_EQ(sent_to<proto::Welcome>("a4").at(0).heartbeat_ms, 3000u);

    // Silent for longer than three of the configured 1 s, within three of the 3 s in force.
    io_.restart();
    io_.run_for(3500ms);
    for (const auto& a : scheduler_->agents()) EXPECT_TRUE(a.online) << a.name;
}

// While the transport leaves the agents' messages unread (its inbound budget spent), their
// heartbeats may be among them: nobody is marked offline for silence until it reads again.
TEST_F(SchedulerTest, NoAgentIsJudgedSilentWhileTheTransportLeavesMessagesUnread) {
    config_heartbeat_ = 50ms;
    bool paused = true;
    SchedulerConfig config;
    config.inbound_paused = [&] { return paused; };
    open(config);
    hello("quiet");
    auto online = [&] {
        for (const auto& a : scheduler_->agents())
            if (a.name == "quiet") return a.online;
        return false;
    };
    // Two ticks (one a second) with "quiet" silent for far more than 3 heartbeats.
    EXPECT_FALSE(run_until([&] { return !online(); }, 2500ms));
    paused = false;
    EXPECT_TRUE(run_until([&] { return !online(); }, 2500ms));
}

TEST_F(SchedulerTest, ADrainedAgentGetsNoNewRunsAndItsQueuedRunsWaitUntilUndrained) {
    hello("a1", 1);
    hello("a2", 1);
    auto first = scheduler_->submit(request("a1", {"sleep", "1"}));
    auto queued = scheduler_->submit(request("a1", {"sleep", "1"}));  // behind it: capacity 1
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));

    auto drained = scheduler_->set_draining("a1", true, "local:ops");
    ASSERT_TRUE(drained.ok()) << drained.error().message;
    EXPECT_TRUE(drained->draining);
    const auto audited = audit_.of_kind("agent.drained");
    ASSERT_EQ(audited.size(), 1u);
    EXPECT_EQ(audited[0].actor, "local:ops");
    EXPECT_EQ(audited[0].subject, "agent:a1");

    // A new job skips it, saying why; the other agent runs it.
    auto during = scheduler_->submit(request("*", {"true"}));
    ASSERT_TRUE(during.ok()) << during.error().message;
    EXPECT_EQ(during->matched, std::vector<std::string>{"a2"});
    EXPECT_EQ(during->offline, std::vector<std::string>{"a1"});
    for (const RunRecord& run : detail(during->job_id).runs) {
        if (run.agent != "a1") continue;
        EXPECT_EQ(run.state, RunState::skipped);
        EXPECT_EQ(run.error, "agent a1 is draining");
    }

    // Its running run finishes; the queued one is held, not sent.
    finish("a1", sent_to<proto::Run>("a1")[0].run_id, 1, 0);
    ASSERT_TRUE(run_until([&] { return detail(first->job_id).job.state == JobState::succeeded; }));
    io_.restart();
    io_.run_for(50ms);
    EXPECT_EQ(sent_to<proto::Run>("a1").size(), 1u) << "a draining agent gets no queued run";
    EXPECT_EQ(detail(queued->job_id).runs[0].state, RunState::queued);

    // Undrained, the held run goes out.
    auto undrained = scheduler_->set_draining("a1", false, "local:ops");
    ASSERT_TRUE(undrained.ok());
    EXPECT_FALSE(undrained->draining);
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 2; }));
    EXPECT_EQ(static_cast<std::int64_t>(sent_to<proto::Run>("a1")[1].job_id), queued->job_id);
    EXPECT_EQ(audit_.of_kind("agent.undrained").size(), 1u);

    auto unknown = scheduler_->set_draining("nope", true, "local:ops");
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().message, "there is no agent named 'nope'");
}

TEST_F(SchedulerTest, SilentAgentsRunsBecomeUnknownThenLost) {
    config_heartbeat_ = 50ms;
    config_grace_ = 1000ms;
    open();
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"sleep", "60"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    scheduler_->on_agent_message("a1",
                                 proto::RunAck{sent_to<proto::Run>("a1")[0].run_id, true, ""});
    ASSERT_TRUE(
        run_until([&] { return detail(reply->job_id).runs[0].state == RunState::unknown; }));
    ASSERT_TRUE(
        run_until([&] { return detail(reply->job_id).runs[0].state == RunState::lost; }, 10s));
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.state, JobState::failed);
    EXPECT_NE(d.runs[0].error.find("did not come back"), std::string::npos) << d.runs[0].error;
}

TEST_F(SchedulerTest, AgentBackWithoutItsRunMarksItLost) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"sleep", "60"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    hello("a1");  // restarted, holding nothing
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.runs[0].state, RunState::lost);
    EXPECT_NE(d.runs[0].error.find("came back without"), std::string::npos);
}

TEST_F(SchedulerTest, RestartRestoresActiveJobsAndReconcilesFromHello) {
    hello("a1");
    hello("a2");
    auto reply = scheduler_->submit(request("*", {"sleep", "5"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a2").size() == 1; }));
    std::uint64_t r1 = sent_to<proto::Run>("a1")[0].run_id,
                  r2 = sent_to<proto::Run>("a2")[0].run_id;
    scheduler_->on_agent_message("a1", proto::RunAck{r1, true, ""});
    scheduler_->on_agent_message("a2", proto::RunAck{r2, true, ""});
    ASSERT_TRUE(run_until([&] {
        const JobDetail stored = detail(reply->job_id);
        return stored.runs.at(0).state == RunState::running &&
               stored.runs.at(1).state == RunState::running;
    }));

    open();  // a new controller over the same database
    sent_.clear();
    hello("a1", 4, {{r1, false}});  // still running it
    hello("a2", 4, {});             // lost it
    finish("a1", r1, 1, 0);
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.runs[0].state, RunState::succeeded);
    EXPECT_EQ(d.runs[1].state, RunState::lost);
    EXPECT_EQ(d.job.state, JobState::partial);
}

// A restart soon after a run started finds it `dispatched` in the store (mark_running): the
// agent's hello, which holds it, says it started; one that does not hold it gets it again.
TEST_F(SchedulerTest, ARunStartedJustBeforeARestartIsRunningOnceItsAgentSaysItHoldsIt) {
    SchedulerConfig config;
    config.running_save_delay = std::chrono::minutes(10);  // the restart comes first
    open(config);
    const OneRun one = run_on_a1({"sleep", "5"});
    ASSERT_NE(one.run, 0u);
    const std::uint64_t run = one.run;
    scheduler_->on_agent_message("a1", proto::RunAck{run, true, ""});
    std::optional<bool> flushed;
    store_->flush([&] { flushed = true; });
    ASSERT_TRUE(run_until([&] { return flushed.has_value(); }));
    EXPECT_EQ(detail(one.job).runs.at(0).state, RunState::dispatched);

    open(config);  // a new controller over the same database
    sent_.clear();
    hello("a1", 4, {{run, false}});
    EXPECT_TRUE(sent_to<proto::Run>("a1").empty()) << "held: not sent again";
    watch_run_states(one.job);
    EXPECT_EQ(run_states_, std::vector<RunState>{RunState::running});
    finish("a1", run, 1, 0);
    ASSERT_TRUE(run_until([&] { return acked("a1", run) == 1; }));
    EXPECT_EQ(detail(one.job).runs.at(0).state, RunState::succeeded);
}

TEST_F(SchedulerTest, AScriptRunResentAfterARestartCarriesTheScriptAndItsCap) {
    hello("a1");
    SubmitRequest r = request("a1", {"/bin/sh", "scripts/who.sh", "x"});
    r.script = "#!/bin/sh\necho \"$@\"\n";
    r.script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    r.output_cap_bytes = 2048;
    auto reply = scheduler_->submit(r);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    const std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    std::optional<bool> flushed;
    store_->flush([&] { flushed = true; });
    ASSERT_TRUE(run_until([&] { return flushed.has_value(); }));

    open();  // a new controller; the run never reached the agent
    sent_.clear();
    hello("a1", 4, {});
    auto resent = sent_to<proto::Run>("a1");
    ASSERT_EQ(resent.size(), 1u);
    EXPECT_EQ(resent[0].run_id, run);
    EXPECT_EQ(resent[0].argv, r.argv);
    EXPECT_EQ(resent[0].script.data, r.script);
    EXPECT_EQ(resent[0].script_sha256, r.script_sha256);
    EXPECT_EQ(resent[0].output_cap, 2048u);
}

TEST_F(SchedulerTest, CancelReachesEveryRunningRunAndCancelsQueuedOnes) {
    hello("a1", 1);
    auto first = scheduler_->submit(request("a1", {"sleep", "60"}));
    auto second = scheduler_->submit(request("a1", {"sleep", "60"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(second->job_id).ok());
    EXPECT_EQ(detail(second->job_id).job.state, JobState::cancelled);
    ASSERT_TRUE(scheduler_->cancel(first->job_id).ok());
    ASSERT_EQ(sent_to<proto::Cancel>("a1").size(), 1u);
    proto::RunResult r;
    r.run_id = sent_to<proto::Cancel>("a1")[0].run_id;
    r.seq = 1;
    r.status = "cancelled";
    r.signal = 15;
    scheduler_->on_agent_message("a1", r);
    EXPECT_EQ(detail(first->job_id).job.state, JobState::cancelled);
    auto again = scheduler_->cancel(first->job_id);
    ASSERT_FALSE(again.ok());
}

TEST_F(SchedulerTest, ACancelThatOvertakesItsRunCancelsIt) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"sleep", "60"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(reply->job_id).ok());  // no run_ack yet
    ASSERT_EQ(sent_to<proto::Cancel>("a1").size(), 1u);
    // The agent got the cancel first, so it refuses the run when it arrives.
    scheduler_->on_agent_message("a1", proto::RunAck{sent_to<proto::Run>("a1")[0].run_id, false,
                                                     "cancelled before it started"});
    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.state, JobState::cancelled);
    EXPECT_EQ(d.runs[0].state, RunState::cancelled);
}

TEST_F(SchedulerTest, ARunTheAgentRefusesFailsWithItsReasonAndIsAudited) {
    hello("a1");
    SubmitRequest r = request("a1", {"systemctl", "restart", "nginx"});
    r.command = "restart-service";
    auto reply = scheduler_->submit(r);
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    proto::Run sent = sent_to<proto::Run>("a1")[0];
    EXPECT_EQ(sent.command, "restart-service");
    scheduler_->on_agent_message(
        "a1", proto::RunAck{sent.run_id, false,
                            "command 'restart-service' is not accepted on this host"});

    JobDetail d = detail(reply->job_id);
    EXPECT_EQ(d.job.state, JobState::failed);
    EXPECT_EQ(d.job.command, "restart-service");
    ASSERT_EQ(d.runs.size(), 1u);
    EXPECT_EQ(d.runs[0].state, RunState::failed);
    EXPECT_EQ(d.runs[0].error,
              "rejected by agent a1: command 'restart-service' is not accepted on this host");
    const auto rejected = audit_.of_kind("run.rejected");
    ASSERT_EQ(rejected.size(), 1u);
    const AuditEvent& e = rejected[0];
    EXPECT_EQ(e.actor, "agent:a1");
    EXPECT_EQ(e.subject, "run:" + std::to_string(sent.run_id));
    EXPECT_EQ(e.detail.at("job"), std::to_string(reply->job_id));
    EXPECT_EQ(e.detail.at("requester"), "token:admin");
    EXPECT_EQ(e.detail.at("command"), "restart-service");
    EXPECT_EQ(e.detail.at("reason"), "command 'restart-service' is not accepted on this host");
}

TEST_F(SchedulerTest, ARunCancelledBeforeItStartedIsNotAuditedAsRejected) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"sleep", "60"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    ASSERT_TRUE(scheduler_->cancel(reply->job_id).ok());
    scheduler_->on_agent_message("a1", proto::RunAck{sent_to<proto::Run>("a1")[0].run_id, false,
                                                     "cancelled before it started"});
    EXPECT_TRUE(audit_.of_kind("run.rejected").empty());
}

TEST_F(SchedulerTest, HeartbeatWithoutHelloAsksForHello) {
    scheduler_->on_agent_message("stranger", proto::Heartbeat{0});
    auto errors = sent_to<proto::ErrorReply>("stranger");
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].code, "no_session");
}

TEST_F(SchedulerTest, SubscriberSeesSnapshotThenEveryLiveEventOnce) {
    hello("a1");
    auto reply = scheduler_->submit(request("a1", {"cat"}));
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    std::uint64_t run = sent_to<proto::Run>("a1")[0].run_id;
    scheduler_->on_agent_message("a1", proto::Output{run, 1, "stdout", proto::Bytes{"a"}});

    std::string seen;
    std::optional<JobState> last;
    bool subscribed = false;
    scheduler_->subscribe(
        reply->job_id,
        [&](const JobEvent& e) {
            if (auto* o = std::get_if<JobEvent::OutputAdded>(&e.what)) seen += o->chunk.data;
            if (auto* j = std::get_if<JobEvent::JobChanged>(&e.what)) last = j->job.state;
        },
        [&](Result<std::uint64_t> id) { subscribed = id.ok(); });
    // Output arriving while the snapshot is read is buffered, not lost or repeated.
    scheduler_->on_agent_message("a1", proto::Output{run, 2, "stdout", proto::Bytes{"b"}});
    ASSERT_TRUE(run_until([&] { return subscribed; }));
    scheduler_->on_agent_message("a1", proto::Output{run, 3, "stdout", proto::Bytes{"c"}});
    finish("a1", run, 4, 0);
    ASSERT_TRUE(run_until([&] { return last == JobState::succeeded; }));
    EXPECT_EQ(seen, "abc");
}

TEST_F(SchedulerTest, RunCarriesTheScriptAndItsHash) {
    hello("a1");
    SubmitRequest r = request("a1", {"/bin/sh", "scripts/who.sh", "a b; rm -rf /"});
    r.script = "#!/bin/sh\necho \"$@\"\n";
    r.script_sha256 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    auto reply = scheduler_->submit(r);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("a1").size() == 1; }));
    const proto::Run run = sent_to<proto::Run>("a1")[0];
    EXPECT_EQ(run.script.data, r.script);
    EXPECT_EQ(run.script_sha256, r.script_sha256);
    EXPECT_EQ(run.argv, r.argv);
    EXPECT_EQ(detail(reply->job_id).job.script_sha256, r.script_sha256);

    // A job's details name the script but leave its content out.
    open();
    JobDetail restored = detail(reply->job_id);
    EXPECT_EQ(restored.job.script_sha256, r.script_sha256);
    EXPECT_EQ(restored.job.script, "");

    // A plain run carries neither.
    hello("a1");
    ASSERT_TRUE(scheduler_->submit(request("a1", {"id"})).ok());
    ASSERT_TRUE(run_until([&] {
        auto runs = sent_to<proto::Run>("a1");
        return !runs.empty() && runs.back().argv == std::vector<std::string>{"id"};
    }));
    EXPECT_EQ(sent_to<proto::Run>("a1").back().script.data, "");
    EXPECT_EQ(sent_to<proto::Run>("a1").back().script_sha256, "");
}

TEST_F(SchedulerTest, JobCreatedAndRunFinishedAreAudited) {
    hello("web-1");
    auto reply = scheduler_->submit(request("web-1", {"echo", "a \"b\""}));
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    ASSERT_TRUE(run_until([&] { return sent_to<proto::Run>("web-1").size() == 1; }));
    finish("web-1", sent_to<proto::Run>("web-1")[0].run_id, 1, 3);

    ASSERT_EQ(audit_.events.size(), 2u);
    const AuditEvent& created = audit_.events[0];
    EXPECT_EQ(created.kind, "job.created");
    EXPECT_EQ(created.actor, "token:admin");
    EXPECT_EQ(created.subject, "job:" + std::to_string(reply->job_id));
    EXPECT_EQ(created.detail.at("argv"), R"(["echo","a \"b\""])");
    EXPECT_EQ(created.detail.at("hosts"), "web-1");
    const AuditEvent& finished = audit_.events[1];
    EXPECT_EQ(finished.kind, "run.finished");
    EXPECT_EQ(finished.actor, "agent:web-1");
    EXPECT_EQ(finished.detail.at("exit_code"), "3");
    EXPECT_EQ(finished.detail.at("state"), "failed");
}

}  // namespace
}  // namespace hostline::controller
