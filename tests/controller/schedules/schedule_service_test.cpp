// The schedule service with the real store, scheduler, catalog, policy and chat service; the
// chat platform is a recording adapter and the agent is played by the test. The wall clock is
// a fake that runs at real speed from a chosen instant, so a firing is due within a second and
// a controller "down for three days" is a restart with the clock moved on.
#include "controller/schedules/schedule_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <filesystem>
#include <fstream>

#include "controller/approvals/approval_service.hpp"
#include "controller/chat/chat_service.hpp"
#include "controller/core/recorded_audit.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using std::chrono::system_clock;

class RecordingAdapter : public chat::Adapter {
  public:
    std::string platform() const override { return "test"; }
    chat::PlatformLimits limits() const override { return {}; }
    Result<void> start(Listener) override { return {}; }
    void stop() override {}
    void post(const std::string& channel, const std::string&, const std::string& text,
              std::function<void(Result<chat::PostedMessage>)> done) override {
        posts.push_back(channel + " " + text);
        done(chat::PostedMessage{channel, std::to_string(posts.size())});
    }
    void edit(const chat::PostedMessage&, const std::string&) override {}
    void react(const chat::IncomingMessage&, const std::string&) override {}

    std::vector<std::string> posts;  // "CHANNEL TEXT"
};

// 2026-03-02 09:59:59.500 UTC, half a second before the 10:00 firing of "0 10 * * *".
const system_clock::time_point kBeforeTen =
    sys_days(std::chrono::year{2026} / 3 / 2) + 9h + 59min + 59s + 500ms;

// How long a run_missed schedule's firing waits after start, for the agents to say hello.
constexpr auto kCatchUpDelay = 300ms;

constexpr const char* kAdmins =
    "[groups.ops]\nmembers = [\"irc:alice\", \"irc:bob\"]\nroles = [\"admin\"]\n";

class ScheduleServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-schedules-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        std::filesystem::create_directories(dir_ + "/commands.d");
        std::ofstream(dir_ + "/commands.d/greet.toml")
            << "[[command]]\nname = \"greet\"\nsummary = \"Say hello\"\n"
               "run = [\"echo\", \"hello {name}\"]\n"
               "[[command.param]]\nname = \"name\"\ntype = \"string\"\npattern = \"^[a-z]+$\"\n"
               "required = true\nhelp = \"who to greet\"\n";
        std::ofstream(dir_ + "/commands.d/restart.toml")
            << "[[command]]\nname = \"restart\"\nsummary = \"Restart a service\"\n"
               "run = [\"systemctl\", \"restart\", \"{unit}\"]\n"
               "[[command.param]]\nname = \"unit\"\ntype = \"string\"\npattern = \"^[a-z]+$\"\n"
               "required = true\n"
               "[command.approval]\ngroup = \"ops\"\ncount = 1\nexpiry = \"30m\"\n";
        auto catalog = Catalog::load(dir_ + "/commands.d");
        ASSERT_TRUE(catalog.ok()) << catalog.error().message;
        catalog_ = std::make_unique<Catalog>(std::move(*catalog));
        auto store = Store::open(dir_ + "/hostline.db", [this](std::function<void()> f) {
            boost::asio::post(io_, std::move(f));
        });
        ASSERT_TRUE(store.ok());
        store_ = std::move(*store);
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string& agent, proto::Message m) {
                sent_.emplace_back(agent, std::move(m));
            },
            SchedulerConfig{});
        scheduler_->restore(*store_->load());
        std::set<std::string> permissions;
        for (const CommandSpec& spec : catalog_->commands()) permissions.insert(spec.permission);
        policy_ = std::make_unique<PolicyFile>(
            dir_ + "/policy.toml", target::Groups{}, permissions, audit_,
            [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); });
        use_policy(kAdmins);
        chat_ = std::make_unique<ChatService>(io_, *scheduler_, *catalog_, *policy_, audit_,
                                              ChatConfig{});
        // bob approves; only the approvals' channel matters here.
        auto is_bob = [](const std::string& who, const std::string&) { return who == "irc:bob"; };
        approvals_ = std::make_unique<ApprovalService>(io_, *store_, *scheduler_, audit_,
                                                       ApproverRules{is_bob, is_bob});
        chat_->enable_approvals(*approvals_);
        auto adapter = std::make_unique<RecordingAdapter>();
        adapter_ = adapter.get();
        ASSERT_TRUE(chat_->add_adapter(std::move(adapter)).ok());
        proto::Hello hello;
        hello.agent_id = "web-01";
        hello.capacity = 4;
        hello.labels = {{"role", "web"}};
        scheduler_->on_agent_message("web-01", hello);
        start_controller(kBeforeTen);
    }
    void TearDown() override {
        schedules_.reset();
        chat_.reset();
        approvals_.reset();
        policy_.reset();
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    // The schedule service as a controller (re)started at `wall` would make it, from the store.
    void start_controller(system_clock::time_point wall) {
        schedules_.reset();
        base_ = wall;
        started_ = std::chrono::steady_clock::now();
        auto snapshot = store_->load();
        ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
        schedules_ = std::make_unique<ScheduleService>(
            io_, *store_, *catalog_, audit_,
            [this](const Schedule& s) { return chat_->run_scheduled(s); }, kCatchUpDelay,
            [this] { return base_ + (std::chrono::steady_clock::now() - started_); });
        chat_->enable_schedules(*schedules_);
        schedules_->restore(snapshot->schedules, snapshot->max_schedule_id);
    }

    void use_policy(const std::string& text) {
        std::ofstream(dir_ + "/policy.toml") << text;
        auto loaded = policy_->load();
        ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    }

    void say(const std::string& text, const std::string& who = "irc:alice") {
        chat::IncomingMessage m;
        m.sender = {who, who.substr(4)};
        m.channel = "#ops";
        m.text = text;
        chat_->on_message(*adapter_, m);
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
    void run_for(std::chrono::milliseconds d) {
        run_until([] { return false; }, d);
    }

    std::vector<proto::Run> runs_sent() {
        std::vector<proto::Run> out;
        for (auto& [a, m] : sent_)
            if (auto* r = std::get_if<proto::Run>(&m)) out.push_back(*r);
        return out;
    }

    void agent_finishes(const proto::Run& run, const std::string& output) {
        scheduler_->on_agent_message("web-01",
                                     proto::Output{run.run_id, 1, "stdout", proto::Bytes{output}});
        proto::RunResult r;
        r.run_id = run.run_id;
        r.seq = 2;
        r.status = "exited";
        r.exit_code = 0;
        r.started_at_ms = 1000;
        r.ended_at_ms = 1250;
        scheduler_->on_agent_message("web-01", r);
    }

    bool posted(const std::string& text) const {
        for (const auto& p : adapter_->posts)
            if (p.find(text) != std::string::npos) return true;
        return false;
    }

    JobDetail job(std::int64_t id) {
        std::optional<Result<JobDetail>> got;
        scheduler_->job(id, [&](Result<JobDetail> d) { got = std::move(d); });
        EXPECT_TRUE(run_until([&] { return got.has_value(); }));
        EXPECT_TRUE(got->ok()) << got->error().message;
        return got->value();
    }

    // Adds through the chat, as alice in #ops, and waits for the answer.
    Schedule add(const std::string& line) {
        const std::size_t before = adapter_->posts.size();
        say(line);
        EXPECT_TRUE(run_until([&] { return adapter_->posts.size() > before; }))
            << "no answer to " << line;
        EXPECT_NE(adapter_->posts.back().find("added"), std::string::npos)
            << adapter_->posts.back();
        return schedules_->schedules().back();
    }

    std::int64_t ms(system_clock::time_point t) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    }

    std::string dir_;
    boost::asio::io_context io_;
    std::unique_ptr<Catalog> catalog_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    RecordedAudit audit_;
    std::unique_ptr<PolicyFile> policy_;
    std::unique_ptr<ApprovalService> approvals_;
    std::unique_ptr<ChatService> chat_;
    RecordingAdapter* adapter_ = nullptr;
    std::unique_ptr<ScheduleService> schedules_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
    system_clock::time_point base_;
    std::chrono::steady_clock::time_point started_;
};

TEST_F(ScheduleServiceTest, AFiringRunsTheCommandAsItsOwnerAndPostsTheResultInItsChannel) {
    Schedule s = add("!schedule add \"0 10 * * *\" --name morning -- greet bob --on web-01");
    EXPECT_EQ(s.name, "morning");
    EXPECT_EQ(s.owner, "irc:alice");
    EXPECT_EQ(s.channel, "test:#ops");
    EXPECT_EQ(s.next_firing_ms, ms(sys_days(std::chrono::year{2026} / 3 / 2) + 10h));

    ASSERT_TRUE(run_until([&] { return !runs_sent().empty(); }, 3s)) << "it did not fire";
    const proto::Run run = runs_sent().front();
    EXPECT_EQ(run.argv, (std::vector<std::string>{"echo", "hello bob"}));
    agent_finishes(run, "hello bob\n");
    ASSERT_TRUE(run_until([&] { return posted("succeeded"); }));
    EXPECT_TRUE(posted("#ops schedule morning: job #"));
    EXPECT_TRUE(posted("web-01 | hello bob"));

    std::optional<Schedule> after = schedules_->schedule("morning");
    ASSERT_TRUE(after);
    ASSERT_NE(after->last_job_id, 0);
    const JobDetail d = job(after->last_job_id);
    EXPECT_EQ(d.job.requester, "irc:alice");
    EXPECT_EQ(d.job.source, "schedule:morning");
    EXPECT_EQ(d.job.schedule_id, after->id);
    EXPECT_EQ(after->last_fired_at_ms, ms(sys_days(std::chrono::year{2026} / 3 / 2) + 10h));
    EXPECT_EQ(after->next_firing_ms, ms(sys_days(std::chrono::year{2026} / 3 / 3) + 10h));
    ASSERT_EQ(audit_.of_kind("schedule.fired").size(), 1u);
    EXPECT_EQ(audit_.of_kind("schedule.fired")[0].detail.at("job"),
              std::to_string(after->last_job_id));
    EXPECT_EQ(runs_sent().size(), 1u) << "fired more than once";
}

TEST_F(ScheduleServiceTest, AFiringAfterTheOwnersRoleIsRevokedIsRefusedAuditedAndTold) {
    add("!schedule add \"0 10 * * *\" --name morning -- greet bob --on web-01");
    use_policy("[groups.ops]\nmembers = [\"irc:bob\"]\nroles = [\"admin\"]\n");  // alice gone

    ASSERT_TRUE(run_until([&] { return !audit_.of_kind("schedule.refused").empty(); }, 3s));
    EXPECT_TRUE(runs_sent().empty());
    EXPECT_TRUE(posted("#ops schedule morning (irc:alice): denied:"));
    const AuditEvent refused = audit_.of_kind("schedule.refused")[0];
    EXPECT_EQ(refused.subject, "schedule:morning");
    EXPECT_NE(refused.detail.at("reason").find("denied"), std::string::npos);
    // It stays, for the next firing, when the role may be back.
    EXPECT_EQ(schedules_->schedule("morning")->next_firing_ms,
              ms(sys_days(std::chrono::year{2026} / 3 / 3) + 10h));
}

TEST_F(ScheduleServiceTest, AFiringThatNeedsApprovalIsHeldAndAskedForInTheSchedulesChannel) {
    add("!schedule add \"0 10 * * *\" --name nightly -- restart nginx --on web-01");
    ASSERT_TRUE(
        run_until([&] { return posted("#ops approval needed for job #1: irc:alice"); }, 3s));
    EXPECT_TRUE(runs_sent().empty());
    const Schedule s = *schedules_->schedule("nightly");
    EXPECT_EQ(s.last_job_id, 1);
    const JobDetail held = job(1);
    EXPECT_EQ(held.job.state, JobState::pending_approval);
    EXPECT_EQ(held.job.source, "schedule:nightly");
    EXPECT_EQ(held.job.schedule_id, s.id);

    say("!approve 1", "irc:bob");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_TRUE(posted("#ops job #1 approved by irc:bob"));
}

TEST_F(ScheduleServiceTest, FiringsMissedWhileDownAreSkippedByDefault) {
    start_controller(kBeforeTen - 1h);
    add("!schedule add \"0 10 * * *\" --name morning -- greet bob --on web-01");
    // Down from 09:00 on the 2nd until 09:59:59 on the 5th: the 2nd, 3rd and 4th were missed.
    start_controller(kBeforeTen + 3 * 24h - 400ms);

    ASSERT_EQ(audit_.of_kind("schedule.missed").size(), 1u);
    const AuditEvent missed = audit_.of_kind("schedule.missed")[0];
    EXPECT_EQ(missed.detail.at("count"), "3");
    EXPECT_EQ(missed.detail.at("action"), "skipped");
    EXPECT_EQ(schedules_->schedule("morning")->next_firing_ms,
              ms(sys_days(std::chrono::year{2026} / 3 / 5) + 10h));
    run_for(200ms);
    EXPECT_TRUE(runs_sent().empty()) << "a missed firing ran";
    // The next one comes as planned.
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }, 3s));
}

TEST_F(ScheduleServiceTest, FiringsMissedWhileDownRunOnceAtStartWhenTheScheduleSaysSo) {
    start_controller(kBeforeTen - 1h);
    add("!schedule add \"0 10 * * *\" --name morning --run-missed -- greet bob --on web-01");
    start_controller(kBeforeTen + 3 * 24h - 2h);  // 08:00 on the 5th: three missed

    run_for(100ms);
    EXPECT_TRUE(runs_sent().empty()) << "run before the agents could say hello";
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }, 2s)) << "not run at start";
    const AuditEvent missed = audit_.of_kind("schedule.missed").at(0);
    EXPECT_EQ(missed.detail.at("count"), "3");
    EXPECT_EQ(missed.detail.at("action"), "run once at start");
    run_for(300ms);
    EXPECT_EQ(runs_sent().size(), 1u) << "run more than once";
    const Schedule s = *schedules_->schedule("morning");
    EXPECT_EQ(job(s.last_job_id).job.schedule_id, s.id);
    EXPECT_EQ(s.next_firing_ms, ms(sys_days(std::chrono::year{2026} / 3 / 5) + 10h));
}

TEST_F(ScheduleServiceTest, PausedSchedulesDoNotFireAndResumeFromNow) {
    add("!schedule add \"0 10 * * *\" --name morning -- greet bob --on web-01");
    say("!schedule pause morning");
    ASSERT_TRUE(run_until([&] { return posted("schedule morning paused"); }));
    run_for(900ms);  // past 10:00
    EXPECT_TRUE(runs_sent().empty());
    say("!schedule resume morning");
    ASSERT_TRUE(run_until([&] { return posted("schedule morning resumed"); }));
    EXPECT_TRUE(runs_sent().empty()) << "the firing missed while paused was made up for";
    EXPECT_EQ(schedules_->schedule("morning")->next_firing_ms,
              ms(sys_days(std::chrono::year{2026} / 3 / 3) + 10h));
}

TEST_F(ScheduleServiceTest, SchedulesSurviveARestartAndARemovedOnesIdIsNotReused) {
    start_controller(kBeforeTen - 1h);
    const Schedule first = add("!schedule add \"0 10 * * *\" -- greet bob --on web-01");
    EXPECT_EQ(first.name, "greet");
    const Schedule second = add("!schedule add @hourly --run-missed -- greet ann --on web-01");
    EXPECT_EQ(second.name, "greet-2");
    start_controller(kBeforeTen - 1h);
    ASSERT_EQ(schedules_->schedules().size(), 2u);
    const Schedule back = *schedules_->schedule("greet-2");
    EXPECT_EQ(back.cron, "@hourly");
    EXPECT_TRUE(back.run_missed);
    EXPECT_EQ(back.command, (std::vector<std::string>{"greet", "ann", "--on", "web-01"}));

    say("!schedule remove greet-2");
    ASSERT_TRUE(run_until([&] { return posted("schedule greet-2 removed"); }));
    start_controller(kBeforeTen - 1h);
    EXPECT_FALSE(schedules_->schedule("greet-2"));
    const Schedule third = add("!schedule add \"0 10 * * *\" --name later -- greet bob");
    EXPECT_GT(third.id, second.id);
}

TEST_F(ScheduleServiceTest, ChangingAScheduleNeedsSchedulesManageUnlessItIsYourOwn) {
    use_policy(
        "[roles.scheduler]\npermissions = [\"schedules.manage\", \"command.greet\"]\n"
        "targets = \"*\"\n"
        "[groups.ops]\nmembers = [\"irc:alice\"]\nroles = [\"scheduler\"]\n");
    add("!schedule add \"0 10 * * *\" --name morning -- greet bob");
    say("!schedule add \"0 11 * * *\" -- greet ann", "irc:bob");
    ASSERT_TRUE(run_until([&] { return posted("denied"); }));
    EXPECT_EQ(schedules_->schedules().size(), 1u);
    say("!schedule pause morning", "irc:bob");
    ASSERT_TRUE(run_until([&] { return posted("schedule morning is irc:alice's"); }));
    EXPECT_FALSE(schedules_->schedule("morning")->paused);
    use_policy("[groups.ops]\nmembers = [\"irc:bob\"]\nroles = [\"admin\"]\n");
    say("!schedule pause morning");  // her own: no permission needed
    ASSERT_TRUE(run_until([&] { return posted("schedule morning paused"); }));
    EXPECT_TRUE(schedules_->schedule("morning")->paused);
}

TEST_F(ScheduleServiceTest, BadSchedulesAreRefusedWithTheReason) {
    say("!schedule add \"61 * * * *\" -- greet bob");
    ASSERT_TRUE(run_until([&] { return posted("error"); }));
    say("!schedule add \"0 10 * * *\" -- reboot-everything");
    ASSERT_TRUE(run_until([&] { return posted("unknown command 'reboot-everything'"); }));
    say("!schedule add \"0 10 * * *\" --name Bad_Name -- greet bob");
    ASSERT_TRUE(run_until([&] { return posted("'Bad_Name' is not a schedule name"); }));
    say("!schedule add \"0 10 * * *\" --on web-01 -- greet bob");
    ASSERT_TRUE(run_until([&] { return posted("put them after --"); }));
    say("!schedule add \"0 10 * * *\" -- greet bob --dry-run");
    ASSERT_TRUE(run_until([&] { return posted("a schedule cannot --dry-run"); }));
    say("!schedule add \"0 10 * * *\"");
    ASSERT_TRUE(run_until([&] { return posted("put the command after --"); }));
    EXPECT_TRUE(schedules_->schedules().empty());
    add("!schedule add \"0 10 * * *\" --name twice -- greet bob");
    say("!schedule add \"0 11 * * *\" --name twice -- greet bob");
    ASSERT_TRUE(run_until([&] { return posted("the schedule name 'twice' is taken"); }));
}

TEST_F(ScheduleServiceTest, ListShowAndNextAnswerInTheChannel) {
    start_controller(kBeforeTen - 1h);
    add("!schedule add \"0 10 * * *\" --name morning -- greet bob --on web-01");
    say("!schedules");
    ASSERT_TRUE(run_until([&] { return posted("1 schedule(s):"); }));
    EXPECT_TRUE(posted("morning  \"0 10 * * *\" UTC  next 2026-03-02 10:00"));
    say("!schedule show morning");
    ASSERT_TRUE(run_until([&] { return posted("runs: greet bob --on web-01"); }));
    say("!schedule next morning");
    ASSERT_TRUE(run_until([&] { return posted("the next 5 firings of morning (UTC):"); }));
    EXPECT_TRUE(posted("2026-03-06 10:00"));
    EXPECT_FALSE(posted("2026-03-07 10:00"));
    say("!schedule show nothing-here");
    ASSERT_TRUE(run_until([&] { return posted("no schedule named 'nothing-here'"); }));
}

TEST_F(ScheduleServiceTest, NextShowsFiringsInTheSchedulesZoneAcrossADstChange) {
    start_controller(sys_days(std::chrono::year{2026} / 3 / 27));
    add("!schedule add \"30 2 * * *\" --tz Europe/Paris --name paris -- greet bob");
    EXPECT_EQ(schedules_->schedule("paris")->zone, "Europe/Paris");
    say("!schedule next paris");
    ASSERT_TRUE(run_until([&] { return posted("the next 5 firings of paris (Europe/Paris):"); }));
    EXPECT_TRUE(posted("2026-03-28 02:30 CET"));
    EXPECT_TRUE(posted("2026-03-29 03:00 CEST")) << "02:30 does not exist that day";
    EXPECT_TRUE(posted("2026-03-31 02:30 CEST"));
    say("!schedule add \"0 3 * * *\" --tz Mars/Olympus -- greet bob");
    ASSERT_TRUE(run_until([&] { return posted("Mars/Olympus"); }));
    EXPECT_FALSE(schedules_->schedule("greet"));
}

TEST_F(ScheduleServiceTest, AScheduleWithoutAChannelStillFires) {
    // As the API may make one: its jobs are in history only.
    std::optional<Result<Schedule>> added;
    schedules_->add_schedule({.name = "api-made",
                              .cron = "0 10 * * *",
                              .owner = "irc:alice",
                              .command = {"greet", "bob", "--on", "web-01"}},
                             [&](Result<Schedule> s) { added = std::move(s); });
    ASSERT_TRUE(run_until([&] { return added.has_value(); }));
    ASSERT_TRUE(added->ok()) << added->error().message;
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }, 3s)) << "it did not fire";
    const Schedule s = *schedules_->schedule("api-made");
    EXPECT_EQ(job(s.last_job_id).job.source, "schedule:api-made");
    EXPECT_TRUE(audit_.of_kind("schedule.refused").empty());
}

}  // namespace
}  // namespace hostline::controller
