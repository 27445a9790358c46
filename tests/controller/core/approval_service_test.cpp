// Approvals with the real scheduler and the real SQLite store; agents are played by the test.
// The approver rules stand in for the policy engine: who is in which group, who may decide.
#include "controller/approvals/approval_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <filesystem>
#include <set>

#include "controller/core/recorded_audit.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class ApprovalServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-approvals-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        open();
    }
    void TearDown() override {
        approvals_.reset();
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    // A controller (scheduler, store, approvals) over the database in dir_, restoring it.
    void open() {
        approvals_.reset();
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
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        scheduler_->restore(*snapshot);
        approvals_ = std::make_unique<ApprovalService>(
            io_, *store_, *scheduler_, audit_,
            ApproverRules{[this](const std::string& who, const std::string& group) {
                              return members_[group].count(who) > 0;
                          },
                          [this](const std::string& who, const std::string& permission) {
                              return permission == "approvals.decide" && deciders_.count(who);
                          }});
        approvals_->add_listener([this](const Approval& a) { changes_.push_back(a); });
        approvals_->restore(snapshot->pending_approvals);
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

    void hello(const std::string& agent, proto::Labels labels = {{"role", "web"}}) {
        proto::Hello h;
        h.agent_id = agent;
        h.capacity = 4;
        h.labels = std::move(labels);
        scheduler_->on_agent_message(agent, h);
    }

    std::vector<proto::Run> runs_sent_to(const std::string& agent) {
        std::vector<proto::Run> out;
        for (auto& [a, m] : sent_)
            if (a == agent)
                if (auto* r = std::get_if<proto::Run>(&m)) out.push_back(*r);
        return out;
    }

    JobDetail detail(std::int64_t job_id) {
        std::optional<Result<JobDetail>> got;
        scheduler_->job(job_id, [&](Result<JobDetail> d) { got = std::move(d); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        EXPECT_TRUE(got->ok());
        return got->value();
    }

    std::vector<Approval> listed(std::optional<ApprovalState> state) {
        std::optional<Result<std::vector<Approval>>> got;
        ApprovalQuery query;
        if (state) query.states = {*state};
        approvals_->list_approvals(query,
                                   [&](Result<std::vector<Approval>> l) { got = std::move(l); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        EXPECT_TRUE(got->ok());
        return got->value();
    }

    void flush() {
        bool done = false;
        store_->flush([&] { done = true; });
        ASSERT_TRUE(run_until([&] { return done; }));
    }

    Approval ask(ApprovalSpec spec = {"ops", 1, 30min}, std::string target = "role=web") {
        SubmitRequest r;
        r.requester = "irc:alice";
        r.source = "irc:#ops";
        r.target = std::move(target);
        r.argv = {"systemctl", "restart", "nginx"};
        auto requested = approvals_->request(r, spec);
        EXPECT_TRUE(requested.ok()) << requested.error().message;
        return *requested;
    }

    std::string dir_;
    boost::asio::io_context io_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<ApprovalService> approvals_;
    RecordedAudit audit_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
    std::vector<Approval> changes_;
    std::map<std::string, std::set<std::string>> members_{
        {"ops", {"irc:alice", "irc:bob", "irc:carol"}}, {"dba", {"irc:dave"}}};
    std::set<std::string> deciders_{"irc:alice", "irc:bob", "irc:carol", "irc:dave"};
};

TEST_F(ApprovalServiceTest, ARequestHoldsTheJobWithItsExactHostsAndSendsNothing) {
    hello("web-1");
    hello("web-2");
    hello("db-1", {{"role", "db"}});
    Approval a = ask();
    EXPECT_EQ(a.hosts, (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_EQ(a.state, ApprovalState::pending);
    EXPECT_EQ(a.argv, (std::vector<std::string>{"systemctl", "restart", "nginx"}));
    JobDetail d = detail(a.job_id);
    EXPECT_EQ(d.job.state, JobState::pending_approval);
    EXPECT_TRUE(d.runs.empty());
    EXPECT_TRUE(runs_sent_to("web-1").empty());
    EXPECT_TRUE(runs_sent_to("web-2").empty());
    ASSERT_EQ(audit_.events.size(), 1u);
    EXPECT_EQ(audit_.events[0].kind, "approval.requested");
    EXPECT_EQ(audit_.events[0].actor, "irc:alice");
    EXPECT_EQ(audit_.events[0].detail.at("hosts"), "web-1,web-2");
    auto cancelled = scheduler_->cancel(a.job_id);
    ASSERT_FALSE(cancelled.ok());
    EXPECT_NE(cancelled.error().message.find("awaits approval"), std::string::npos);
}

TEST_F(ApprovalServiceTest, SelfApprovalIsRefused) {
    hello("web-1");
    Approval a = ask();
    auto self = approvals_->approve(a.job_id, "irc:alice");
    ASSERT_FALSE(self.ok());
    EXPECT_NE(self.error().message.find("the requester never counts"), std::string::npos)
        << self.error().message;
    EXPECT_EQ(approvals_->pending_for("irc:alice").size(), 0u) << "nothing awaits the requester";
    EXPECT_EQ(detail(a.job_id).job.state, JobState::pending_approval);
    EXPECT_TRUE(runs_sent_to("web-1").empty());
}

TEST_F(ApprovalServiceTest, TwoApprovalsMustComeFromTwoDifferentApprovers) {
    hello("web-1");
    Approval a = ask({"ops", 2, 30min});
    auto first = approvals_->approve(a.job_id, "irc:bob");
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->state, ApprovalState::pending);
    EXPECT_EQ(first->approvals(), 1);
    auto again = approvals_->approve(a.job_id, "irc:bob");
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message.find("you already approved"), std::string::npos);
    EXPECT_TRUE(approvals_->pending_for("irc:bob").empty());
    ASSERT_EQ(approvals_->pending_for("irc:carol").size(), 1u);
    flush();
    EXPECT_TRUE(runs_sent_to("web-1").empty()) << "one approval of two started it";
    EXPECT_EQ(detail(a.job_id).job.state, JobState::pending_approval);

    auto second = approvals_->approve(a.job_id, "irc:carol");
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_EQ(second->state, ApprovalState::granted);
    ASSERT_TRUE(run_until([&] { return runs_sent_to("web-1").size() == 1; }));
    EXPECT_EQ(runs_sent_to("web-1")[0].argv,
              (std::vector<std::string>{"systemctl", "restart", "nginx"}));
    EXPECT_EQ(detail(a.job_id).job.state, JobState::running);
    auto granted = listed(ApprovalState::granted);
    ASSERT_EQ(granted.size(), 1u);
    ASSERT_EQ(granted[0].votes.size(), 2u);
    EXPECT_EQ(granted[0].votes[0].approver, "irc:bob");
    EXPECT_EQ(granted[0].votes[1].approver, "irc:carol");
    EXPECT_EQ(audit_.kinds(), (std::vector<std::string>{"approval.requested", "approval.voted",
                                                        "approval.refused", "approval.granted"}));
}

TEST_F(ApprovalServiceTest, AnApproverMustBeInTheGroupAndMayDecide) {
    hello("web-1");
    Approval a = ask();
    auto outsider = approvals_->approve(a.job_id, "irc:dave");  // may decide, but in dba
    ASSERT_FALSE(outsider.ok());
    EXPECT_NE(outsider.error().message.find("group 'ops'"), std::string::npos);
    deciders_.erase("irc:bob");
    auto no_permission = approvals_->approve(a.job_id, "irc:bob");
    ASSERT_FALSE(no_permission.ok());
    EXPECT_NE(no_permission.error().message.find("approvals.decide"), std::string::npos);
    EXPECT_EQ(detail(a.job_id).job.state, JobState::pending_approval);
}

TEST_F(ApprovalServiceTest, DenyEndsTheJobDeniedWithTheReasonAndNothingRuns) {
    hello("web-1");
    Approval a = ask();
    auto no_reason = approvals_->deny(a.job_id, "irc:bob", "  ");
    ASSERT_FALSE(no_reason.ok());
    EXPECT_NE(no_reason.error().message.find("reason is required"), std::string::npos);
    auto denied = approvals_->deny(a.job_id, "irc:bob", "not during the sale");
    ASSERT_TRUE(denied.ok()) << denied.error().message;
    EXPECT_EQ(denied->state, ApprovalState::denied);
    EXPECT_EQ(denied->reason, "denied by irc:bob: not during the sale");
    EXPECT_EQ(detail(a.job_id).job.state, JobState::denied);
    EXPECT_TRUE(runs_sent_to("web-1").empty());
    auto late = approvals_->approve(a.job_id, "irc:carol");
    ASSERT_FALSE(late.ok());
    EXPECT_NE(late.error().message.find("no pending approval"), std::string::npos);
    auto stored = listed(ApprovalState::denied);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].reason, "denied by irc:bob: not during the sale");
    EXPECT_EQ(audit_.events.back().kind, "approval.denied");
    EXPECT_EQ(audit_.events.back().detail.at("reason"), "not during the sale");
}

TEST_F(ApprovalServiceTest, AnUnansweredRequestExpiresAndTheRequesterIsTold) {
    hello("web-1");
    Approval a = ask({"ops", 1, 300ms});
    ASSERT_TRUE(run_until([&] { return detail(a.job_id).job.state == JobState::expired; }));
    ASSERT_FALSE(changes_.empty());
    EXPECT_EQ(changes_.back().state, ApprovalState::expired);
    EXPECT_EQ(changes_.back().requester, "irc:alice");
    EXPECT_NE(changes_.back().reason.find("no decision within"), std::string::npos);
    EXPECT_TRUE(runs_sent_to("web-1").empty());
    EXPECT_FALSE(approvals_->approve(a.job_id, "irc:bob").ok());
    EXPECT_EQ(audit_.events.back().kind, "approval.expired");
    EXPECT_EQ(listed(ApprovalState::expired).size(), 1u);
}

TEST_F(ApprovalServiceTest, ARestartWhilePendingKeepsTheRequestAndItsVotes) {
    hello("web-1");
    hello("web-2");
    Approval a = ask({"ops", 2, 30min});
    ASSERT_TRUE(approvals_->approve(a.job_id, "irc:bob").ok());
    flush();

    open();  // a new controller over the same database
    sent_.clear();
    hello("web-1");
    hello("web-2");
    auto pending = listed(std::nullopt);
    ASSERT_EQ(pending.size(), 1u);
    EXPECT_EQ(pending[0].hosts, (std::vector<std::string>{"web-1", "web-2"}));
    EXPECT_EQ(detail(a.job_id).job.state, JobState::pending_approval);
    auto again = approvals_->approve(a.job_id, "irc:bob");
    ASSERT_FALSE(again.ok()) << "the vote before the restart still counts";
    auto second = approvals_->approve(a.job_id, "irc:carol");
    ASSERT_TRUE(second.ok()) << second.error().message;
    ASSERT_TRUE(run_until(
        [&] { return runs_sent_to("web-1").size() == 1 && runs_sent_to("web-2").size() == 1; }));
}

TEST_F(ApprovalServiceTest, ExpiryIsReArmedAfterARestart) {
    hello("web-1");
    Approval a = ask({"ops", 1, 400ms});
    flush();
    open();
    ASSERT_TRUE(run_until([&] { return detail(a.job_id).job.state == JobState::expired; }));
    EXPECT_EQ(listed(ApprovalState::expired).size(), 1u);
}

TEST_F(ApprovalServiceTest, ApprovalAfterTheTargetsChangedRunsOnlyOnTheApprovedHosts) {
    hello("web-1");
    hello("web-2");
    Approval a = ask();
    ASSERT_EQ(a.hosts, (std::vector<std::string>{"web-1", "web-2"}));
    hello("web-3");                                               // a new matching agent
    scheduler_->on_agent_message("web-2", proto::Bye{"reboot"});  // an approved one goes away
    auto granted = approvals_->approve(a.job_id, "irc:bob");
    ASSERT_TRUE(granted.ok()) << granted.error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent_to("web-1").size() == 1; }));
    flush();
    EXPECT_TRUE(runs_sent_to("web-3").empty()) << "a host nobody approved got a run";
    EXPECT_TRUE(runs_sent_to("web-2").empty());
    JobDetail d = detail(a.job_id);
    ASSERT_EQ(d.runs.size(), 2u);
    std::map<std::string, RunState> by_host;
    for (const RunRecord& r : d.runs) by_host[r.agent] = r.state;
    EXPECT_EQ(by_host.at("web-1"), RunState::dispatched);
    EXPECT_EQ(by_host.at("web-2"), RunState::skipped);
    EXPECT_EQ(by_host.count("web-3"), 0u);
}

TEST_F(ApprovalServiceTest, TheRequesterMayWithdrawTheirOwnRequest) {
    hello("web-1");
    Approval a = ask();
    auto withdrawn = approvals_->deny(a.job_id, "irc:alice", "wrong host");
    ASSERT_TRUE(withdrawn.ok()) << withdrawn.error().message;
    EXPECT_EQ(detail(a.job_id).job.state, JobState::denied);
}

TEST_F(ApprovalServiceTest, AHeldJobWhoseRequestWasNeverSavedExpiresAtStart) {
    hello("web-1");
    SubmitRequest r;
    r.requester = "irc:alice";
    r.source = "irc:#ops";
    r.target = "web-1";
    r.argv = {"true"};
    auto held = scheduler_->hold(r);  // as if the controller died before the approval was saved
    ASSERT_TRUE(held.ok()) << held.error().message;
    flush();
    open();
    EXPECT_EQ(detail(held->job_id).job.state, JobState::expired);
    EXPECT_TRUE(listed(std::nullopt).empty());
}

}  // namespace
}  // namespace hostline::controller
