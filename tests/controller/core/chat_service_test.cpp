// The chat service with the real scheduler and store; the chat platform is a fake adapter
// and the agents are played by the test (their messages fed in as the transport would).
#include "controller/chat/chat_service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <filesystem>
#include <fstream>

#include "chat/approval_action.hpp"
#include "controller/approvals/approval_service.hpp"
#include "controller/core/recorded_audit.hpp"
#include "controller/scheduler/scheduler.hpp"

namespace hostline::controller {
namespace {

using namespace std::chrono_literals;

class FakeAdapter : public chat::Adapter {
  public:
    std::string platform() const override { return "test"; }
    chat::PlatformLimits limits() const override { return limits_; }
    Result<void> start(Listener) override { return {}; }
    void stop() override {}
    void post(const std::string& channel, const std::string&, const std::string& text,
              std::function<void(Result<chat::PostedMessage>)> done) override {
        posts.push_back(text);
        chat::PostedMessage posted{channel, std::to_string(posts.size())};
        if (hold_posts)  // answered later, as a rate-limited platform does
            held.emplace_back([done = std::move(done), posted] { done(posted); });
        else
            done(posted);
    }
    // Answers every post held so far.
    void release_posts() {
        for (auto& answer : std::exchange(held, {})) answer();
    }
    void edit(const chat::PostedMessage&, const std::string& text) override {
        edits.push_back(text);
        edit_times.push_back(std::chrono::steady_clock::now());
    }
    void react(const chat::IncomingMessage&, const std::string&) override {}
    void post_approval_request(const std::string& channel, const std::string& thread,
                               const std::string& text, std::int64_t job_id,
                               std::function<void(Result<chat::PostedMessage>)> done) override {
        button_jobs.push_back(job_id);
        post(channel, thread, text, std::move(done));
    }
    void show_decision(const chat::PostedMessage& request, const std::string& text) override {
        decisions.emplace_back(request.message_id, text);
    }

    chat::PlatformLimits limits_;
    bool hold_posts = false;
    std::vector<std::function<void()>> held;
    std::vector<std::int64_t> button_jobs;  // approval requests posted with buttons
    std::vector<std::pair<std::string, std::string>> decisions;  // request's message id, text
    std::vector<std::string> posts;
    std::vector<std::string> edits;
    std::vector<std::chrono::steady_clock::time_point> edit_times;
};

class ChatServiceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/hostline-chat-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        std::filesystem::create_directories(dir_ + "/commands.d");
        std::ofstream(dir_ + "/commands.d/greet.toml")
            << "[[command]]\nname = \"greet\"\nsummary = \"Say hello\"\nrun = [\"echo\", \"hello "
               "{name}\"]\n"
               "[[command.param]]\nname = \"name\"\ntype = \"string\"\npattern = \"^[a-z]+$\"\n"
               "required = true\nhelp = \"who to greet\"\n"
               "[[command]]\nname = \"tidy\"\nsummary = \"Tidy up\"\nscript = "
               "\"scripts/tidy.sh\"\n"
               "[[command]]\nname = \"flush\"\nsummary = \"Flush the web caches\"\n"
               "run = [\"true\"]\nallowed_targets = \"role=web\"\n";
        std::filesystem::create_directories(dir_ + "/commands.d/scripts");
        std::ofstream(dir_ + "/commands.d/scripts/tidy.sh") << "#!/bin/sh\necho tidy\n";
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
        ChatConfig config;
        config.job_url_base = "http://hostline.example/jobs/";
        std::set<std::string> permissions;
        for (const CommandSpec& spec : catalog_->commands()) permissions.insert(spec.permission);
        policy_ = std::make_unique<PolicyFile>(
            dir_ + "/policy.toml", target::Groups{}, permissions, audit_,
            [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); });
        // Most tests are about the chat, not the policy: everyone is an admin there.
        use_policy("[groups.everyone]\nmembers = [\"irc:*\", \"local:*\"]\nroles = [\"admin\"]\n");
        chat_ =
            std::make_unique<ChatService>(io_, *scheduler_, *catalog_, *policy_, audit_, config);
        proto::Hello hello;
        hello.agent_id = "a1";
        hello.capacity = 4;
        hello.labels = {{"role", "web"}};
        scheduler_->on_agent_message("a1", hello);
    }
    void TearDown() override {
        chat_.reset();
        policy_.reset();
        scheduler_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    void say(const std::string& text, chat::Identity sender = {"irc:alice!al@example.org", "alice"},
             const std::string& channel = "#ops") {
        chat::IncomingMessage m;
        m.sender = std::move(sender);
        m.channel = channel;
        m.text = text;
        chat_->on_message(adapter_, m);
    }

    void use_policy(const std::string& text) {
        std::ofstream(dir_ + "/policy.toml") << text;
        auto loaded = policy_->load();
        ASSERT_TRUE(loaded.ok()) << loaded.error().message;
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

    std::vector<proto::Run> runs_sent() {
        std::vector<proto::Run> out;
        for (auto& [a, m] : sent_)
            if (auto* r = std::get_if<proto::Run>(&m)) out.push_back(*r);
        return out;
    }

    // Plays the agent: the run's output, then its result.
    void agent_finishes(const proto::Run& run, const std::string& output, int exit_code) {
        std::uint64_t seq = 0;
        for (std::size_t at = 0; at < output.size(); at += 60000)
            scheduler_->on_agent_message(
                "a1",
                proto::Output{run.run_id, ++seq, "stdout", proto::Bytes{output.substr(at, 60000)}});
        agent_exits(run, seq + 1, exit_code);
    }
    // Plays the agent's result message, numbered seq.
    void agent_exits(const proto::Run& run, std::uint64_t seq, int exit_code) {
        proto::RunResult r;
        r.run_id = run.run_id;
        r.seq = seq;
        r.status = "exited";
        r.exit_code = exit_code;
        r.started_at_ms = 1000;
        r.ended_at_ms = 1250;
        scheduler_->on_agent_message("a1", r);
    }

    bool posted(const std::string& text) {
        for (const auto& p : adapter_.posts)
            if (p.find(text) != std::string::npos) return true;
        return false;
    }

    std::string dir_;
    boost::asio::io_context io_;
    std::unique_ptr<Catalog> catalog_;
    std::unique_ptr<Store> store_;
    std::unique_ptr<Scheduler> scheduler_;
    RecordedAudit audit_;
    std::unique_ptr<PolicyFile> policy_;
    std::unique_ptr<ChatService> chat_;
    FakeAdapter adapter_;
    std::vector<std::pair<std::string, proto::Message>> sent_;
};

TEST_F(ChatServiceTest, OrdinaryChatIsIgnored) {
    say("good morning everyone");
    say("hostline is great");
    EXPECT_TRUE(adapter_.posts.empty());
}

TEST_F(ChatServiceTest, AMessageThePlatformMarksAsAddressedNeedsNoPrefix) {
    // Slack: "<@UBOT> hosts" arrives as "hosts", marked addressed by the adapter.
    chat::IncomingMessage m;
    m.sender = {"slack:U222", "Alice"};
    m.channel = "C111";
    m.text = "hosts";
    chat_->on_message(adapter_, m);
    EXPECT_TRUE(adapter_.posts.empty()) << "not addressed: ordinary chat";
    m.addressed = true;
    chat_->on_message(adapter_, m);
    ASSERT_EQ(adapter_.posts.size(), 1u);
    EXPECT_NE(adapter_.posts[0].find("a1  online  role=web"), std::string::npos)
        << adapter_.posts[0];
    m.text = "!hosts";  // a prefix after the mention is fine too
    chat_->on_message(adapter_, m);
    EXPECT_EQ(adapter_.posts.size(), 2u);
}

TEST_F(ChatServiceTest, HelpListsCatalogCommandsAndBuiltins) {
    say("!help");
    ASSERT_EQ(adapter_.posts.size(), 1u);
    EXPECT_NE(adapter_.posts[0].find("!greet — Say hello"), std::string::npos) << adapter_.posts[0];
    EXPECT_NE(adapter_.posts[0].find("!run — "), std::string::npos);
    say("!help greet");
    EXPECT_NE(adapter_.posts[1].find("!greet NAME"), std::string::npos) << adapter_.posts[1];
    EXPECT_NE(adapter_.posts[1].find("name: who to greet"), std::string::npos) << adapter_.posts[1];
    EXPECT_NE(adapter_.posts[1].find("\nexample: !greet NAME --on a1"), std::string::npos)
        << "an example made from the params, on a real host: " << adapter_.posts[1];
    say("!help tidy");
    EXPECT_NE(adapter_.posts[2].find("\nexample: !tidy --on a1"), std::string::npos)
        << adapter_.posts[2];
}

TEST_F(ChatServiceTest, HostsListsAgentsWithLabels) {
    say("hostline: hosts");
    ASSERT_EQ(adapter_.posts.size(), 1u);
    EXPECT_NE(adapter_.posts[0].find("a1  online  role=web"), std::string::npos)
        << adapter_.posts[0];
}

TEST_F(ChatServiceTest, ParseErrorsAndUnknownCommandsAreAnswered) {
    say("!greet 'unclosed");
    say("!deploy everything");
    say("!greet --on a1");
    ASSERT_EQ(adapter_.posts.size(), 3u);
    EXPECT_NE(adapter_.posts[0].find("error: unclosed ' quote"), std::string::npos)
        << adapter_.posts[0];
    EXPECT_NE(adapter_.posts[0].find("\nusage: !greet NAME"), std::string::npos)
        << "even a command that does not parse shows its usage: " << adapter_.posts[0];
    EXPECT_EQ(adapter_.posts[1], "unknown command 'deploy': try !help");
    EXPECT_NE(adapter_.posts[2].find("usage: !greet NAME"), std::string::npos) << adapter_.posts[2];
    EXPECT_TRUE(runs_sent().empty());
}

TEST_F(ChatServiceTest, TheSummaryNamesTheAgentsThatWereLost) {
    say("!greet world --on a1");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    // The agent restarted mid-run: it reports the run interrupted, which ends it lost.
    proto::RunResult r;
    r.run_id = runs_sent()[0].run_id;
    r.seq = 1;
    r.status = "interrupted";
    r.error = "interrupted: the agent stopped while the run was in progress";
    scheduler_->on_agent_message("a1", r);
    ASSERT_TRUE(run_until([&] { return posted("job #1 "); }));
    ASSERT_TRUE(run_until([&] { return posted("lost: a1 (the agent went away"); }));
    EXPECT_TRUE(posted("a1  lost")) << adapter_.posts.back();
}

TEST_F(ChatServiceTest, CatalogCommandRunsAsTheChatUserAndEndsWithASummary) {
    say("!greet world --on a1");
    // Acknowledged once the job is committed, not before.
    ASSERT_TRUE(run_until([&] { return posted("job #1 on 1 host(s): a1"); }));
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].argv, (std::vector<std::string>{"echo", "hello world"}));
    agent_finishes(runs_sent()[0], "hello world\n", 0);
    ASSERT_TRUE(run_until([&] { return posted("job #1 succeeded"); }));
    EXPECT_TRUE(posted("a1  succeeded  exit 0  250ms"));
    EXPECT_TRUE(posted("a1 | hello world"));
    EXPECT_TRUE(posted("http://hostline.example/jobs/1"));
    std::optional<Result<JobDetail>> d;
    scheduler_->job(1, [&](Result<JobDetail> r) { d = std::move(r); });
    ASSERT_TRUE(run_until([&] { return d.has_value(); }));
    EXPECT_EQ(d->value().job.requester, "irc:alice!al@example.org");
    EXPECT_EQ(d->value().job.source, "test:#ops");
}

TEST_F(ChatServiceTest, WhatAUserTypesReachesArgvUnchangedAndNeverAShell) {
    say("!run --on a1 -- echo '$(id); rm -rf / `reboot` | tee x' \"&&\"");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].argv,
              (std::vector<std::string>{"echo", "$(id); rm -rf / `reboot` | tee x", "&&"}));
    say("!greet 'x; rm -rf /' --on a1");  // refused by the parameter's pattern
    EXPECT_EQ(runs_sent().size(), 1u);
    EXPECT_TRUE(posted("usage: !greet"));
}

TEST_F(ChatServiceTest, TenThousandLinesAreCutInTheChannelAndKeptInTheJob) {
    say("!run --on a1 -- seq 10000");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    std::string output;
    for (int i = 1; i <= 10000; ++i) output += std::to_string(i) + "\n";
    agent_finishes(runs_sent()[0], output, 0);
    ASSERT_TRUE(run_until([&] { return posted("job #1 succeeded"); }));
    EXPECT_TRUE(posted("a1 | 10\n(+9990 more lines: !output 1 or http://hostline.example/jobs/1)"));
    for (const auto& p : adapter_.posts) EXPECT_LE(p.size(), adapter_.limits().max_message_bytes);
    std::optional<Result<std::vector<OutputChunk>>> stored;
    scheduler_->output(1, [&](auto r) { stored = std::move(r); });
    ASSERT_TRUE(run_until([&] { return stored.has_value(); }));
    std::string all;
    for (const auto& c : stored->value()) all += c.data;
    EXPECT_EQ(all, output) << "the job keeps every line";
}

TEST_F(ChatServiceTest, AScriptCommandSendsTheScriptWithItsHash) {
    say("!tidy --on a1");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    proto::Run run = runs_sent()[0];
    EXPECT_EQ(run.script.data, "#!/bin/sh\necho tidy\n");
    EXPECT_EQ(run.script_sha256, catalog_->find("tidy")->script_sha256);
    ASSERT_EQ(run.argv.size(), 2u);
    EXPECT_EQ(run.argv[0], "/bin/sh");
}

TEST_F(ChatServiceTest, ARunNamesItsCatalogCommandAndARefusalReachesTheSummary) {
    say("!greet world --on a1");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].command, "greet");
    scheduler_->on_agent_message("a1",
                                 proto::RunAck{runs_sent()[0].run_id, false,
                                               "command 'greet' is not accepted on this host"});
    ASSERT_TRUE(run_until([&] { return posted("job #1 failed"); }));
    EXPECT_TRUE(
        posted("a1  failed  (rejected by agent a1: command 'greet' is not accepted on "
               "this host)"));
    say("!run --on a1 -- uptime");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    EXPECT_EQ(runs_sent()[1].command, "") << "an ad-hoc run names no command";
}

TEST_F(ChatServiceTest, DryRunShowsHostsAndArgvAndRunsNothing) {
    say("!greet world --on 'role=web' --dry-run");
    ASSERT_EQ(adapter_.posts.size(), 1u);
    EXPECT_EQ(adapter_.posts[0], "dry run: would run echo 'hello world' on a1; nothing ran");
    io_.restart();
    io_.run_for(20ms);
    EXPECT_TRUE(runs_sent().empty());
}

TEST_F(ChatServiceTest, ProgressIsOneMessageEditedNoMoreOftenThanTheAdapterAllows) {
    adapter_.limits_.can_edit = true;
    adapter_.limits_.min_edit_interval = 200ms;
    say("!run --on a1 -- sh -c 'for i in $(seq 40); do echo $i; sleep 0.02; done'");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    const proto::Run run = runs_sent()[0];
    // Forty lines over about a second, as the agent would stream them.
    for (std::uint64_t seq = 1; seq <= 40; ++seq) {
        scheduler_->on_agent_message("a1", proto::Output{run.run_id, seq, "stdout",
                                                         proto::Bytes{std::to_string(seq) + "\n"}});
        run_until([] { return false; }, 25ms);
    }
    agent_exits(run, 41, 0);
    ASSERT_TRUE(run_until([&] { return posted("job #1 succeeded"); }));

    int progress_posts = 0;
    for (const auto& p : adapter_.posts) progress_posts += p.rfind("job #1: ", 0) == 0;
    EXPECT_EQ(progress_posts, 1) << "one progress message, then edits";
    ASSERT_FALSE(adapter_.edits.empty()) << "the progress message follows the output";
    EXPECT_LT(adapter_.edits.size(), 40u / 2) << "not one edit per line";
    for (std::size_t i = 1; i < adapter_.edit_times.size(); ++i)
        EXPECT_GE(adapter_.edit_times[i] - adapter_.edit_times[i - 1], 200ms) << "edit " << i;
    EXPECT_NE(adapter_.edits.back().find(" lines\na1 | "), std::string::npos)
        << adapter_.edits.back();
}

// Progress that comes while the first progress post is on its way (a 429) is not lost: the
// message is edited to it once posted.
TEST_F(ChatServiceTest, ProgressWhileTheFirstPostIsOnItsWayIsEditedInOnceItIsPosted) {
    adapter_.limits_.can_edit = true;
    adapter_.limits_.min_edit_interval = 0ms;
    // Every post waits from the start: the first progress post may come from the run being
    // sent, before any output, and it must be the held one.
    adapter_.hold_posts = true;
    say("!run --on a1 -- sh -c 'echo one; echo two'");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    const proto::Run run = runs_sent()[0];
    scheduler_->on_agent_message("a1",
                                 proto::Output{run.run_id, 1, "stdout", proto::Bytes{"one\n"}});
    ASSERT_TRUE(run_until([&] { return posted("job #1: "); })) << "the progress post is sent";
    scheduler_->on_agent_message("a1",
                                 proto::Output{run.run_id, 2, "stdout", proto::Bytes{"two\n"}});
    run_until([] { return false; }, 100ms);
    EXPECT_TRUE(adapter_.edits.empty()) << "nothing to edit before the message exists";
    adapter_.hold_posts = false;
    adapter_.release_posts();
    ASSERT_FALSE(adapter_.edits.empty()) << "the held progress is edited in";
    EXPECT_NE(adapter_.edits.back().find("2 lines\na1 | two"), std::string::npos)
        << adapter_.edits.back();
}

TEST_F(ChatServiceTest, ATerminalConversationEndsAfterItsLastReply) {
    std::vector<std::string> replies;
    bool done = false;
    auto collect = [&](const std::string& r) { replies.push_back(r); };
    chat_->converse("local:alice", "hosts", collect, [&] { done = true; });  // a DM needs no prefix
    EXPECT_TRUE(done);
    ASSERT_EQ(replies.size(), 1u);
    EXPECT_NE(replies[0].find("a1  online"), std::string::npos);

    replies.clear();
    done = false;
    chat_->converse("local:alice", "!run --on a1 -- echo hi", collect, [&] { done = true; });
    EXPECT_FALSE(done) << "a job's conversation lasts until its summary";
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    agent_finishes(runs_sent()[0], "hi\n", 0);
    ASSERT_TRUE(run_until([&] { return done; }));
    ASSERT_EQ(replies.size(), 2u);
    EXPECT_EQ(replies[0], "job #1 on 1 host(s): a1");
    EXPECT_NE(replies[1].find("job #1 succeeded"), std::string::npos);
    EXPECT_NE(replies[1].find("a1 | hi"), std::string::npos);

    std::optional<Result<JobDetail>> d;
    scheduler_->job(1, [&](Result<JobDetail> r) { d = std::move(r); });
    ASSERT_TRUE(run_until([&] { return d.has_value(); }));
    EXPECT_EQ(d->value().job.requester, "local:alice");
}

TEST_F(ChatServiceTest, CancelAndJobAndJobsAnswer) {
    say("!run --on a1 -- sleep 60");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    say("!cancel #1");  // answered once the job is read: is it the caller's?
    ASSERT_TRUE(run_until([&] { return posted("cancelling job #1"); }));
    say("!jobs");
    ASSERT_TRUE(run_until([&] {
        return posted("latest jobs:\n#1  running  a1  sleep 60  (irc:alice!al@example.org)");
    }));
    say("!job 1");
    ASSERT_TRUE(run_until([&] { return posted("job #1 running http://hostline.example/jobs/1"); }));
    say("!job x");
    EXPECT_TRUE(posted("usage: !job ID"));
}

TEST_F(ChatServiceTest, OutputShowsEveryHostOrOne) {
    say("!run --on a1 -- printf 'one\\ntwo\\n'");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    agent_finishes(runs_sent()[0], "one\ntwo\n", 0);
    ASSERT_TRUE(run_until([&] { return posted("job #1 succeeded"); }));

    say("!output 1");
    ASSERT_TRUE(run_until([&] { return posted("a1 | one\na1 | two"); }));
    say("!output #1 a1");
    ASSERT_TRUE(run_until([&] { return adapter_.posts.back() == "a1 | one\na1 | two\n"; }))
        << adapter_.posts.back();
    say("!output 1 web-9");
    ASSERT_TRUE(run_until([&] { return posted("job #1 has no output from web-9"); }));
    say("!output 1 a1 extra");
    EXPECT_TRUE(posted("usage: !output ID [HOST]"));
}

TEST_F(ChatServiceTest, HistoryListsOnlyTheCallersOwnJobs) {
    say("!history");
    EXPECT_TRUE(run_until([&] { return posted("you have no jobs yet"); }));
    say("!run --on a1 -- echo from alice");
    say("!run --on a1 -- echo from bob", {"irc:bob!b@example.org", "bob"});
    say("!run --on a1 -- echo alice again");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    say("!history");
    ASSERT_TRUE(run_until([&] { return posted("your latest jobs:"); }));
    const std::string& answer = adapter_.posts.back();
    EXPECT_NE(answer.find("#3  running  a1  echo alice again"), std::string::npos) << answer;
    EXPECT_NE(answer.find("#1  running  a1  echo from alice"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("bob"), std::string::npos) << answer;
    EXPECT_LT(answer.find("#3"), answer.find("#1")) << "newest first: " << answer;
}

TEST_F(ChatServiceTest, AllowedTargetsRefuseHostsOutsideThemBeforeAnythingRuns) {
    proto::Hello hello;
    hello.agent_id = "db1";
    hello.capacity = 4;
    hello.labels = {{"role", "db"}};
    scheduler_->on_agent_message("db1", hello);

    say("!flush --on *");
    EXPECT_TRUE(posted("error: flush may only run on role=web; outside it: db1"))
        << adapter_.posts.back();
    say("!flush --on db1 --dry-run");
    EXPECT_TRUE(posted("outside it: db1")) << adapter_.posts.back();
    run_until([] { return false; }, 50ms);
    EXPECT_TRUE(runs_sent().empty()) << "nothing runs when any host is outside";

    say("!flush --on role=web");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(sent_.back().first, "a1");
}

// ---- approvals -------------------------------------------------------------------------

// The same controller with approvals: `restart` needs one approval from group ops, whose
// members (who may also decide) are bob and carol. The adapter is added to the service, so
// approval news can find its way back to the channel.
class ChatApprovalTest : public ChatServiceTest {
  protected:
    void SetUp() override {
        ChatServiceTest::SetUp();
        std::ofstream(dir_ + "/commands.d/restart.toml")
            << "[[command]]\nname = \"restart\"\nsummary = \"Restart a service\"\n"
               "run = [\"systemctl\", \"restart\", \"{unit}\"]\n"
               "[[command.param]]\nname = \"unit\"\ntype = \"string\"\npattern = \"^[a-z]+$\"\n"
               "required = true\n"
               "[command.approval]\ngroup = \"ops\"\ncount = 1\nexpiry = \"30m\"\n";
        auto catalog = Catalog::load(dir_ + "/commands.d");
        ASSERT_TRUE(catalog.ok()) << catalog.error().message;
        approval_catalog_ = std::make_unique<Catalog>(std::move(*catalog));
        auto is_approver = [](const std::string& who, const std::string&) {
            return who == "irc:bob" || who == "irc:carol";
        };
        approvals_ = std::make_unique<ApprovalService>(io_, *store_, *scheduler_, audit_,
                                                       ApproverRules{is_approver, is_approver});
        chat_.reset();
        chat_ = std::make_unique<ChatService>(io_, *scheduler_, *approval_catalog_, *policy_,
                                              audit_, ChatConfig{});
        chat_->enable_approvals(*approvals_);
        auto adapter = std::make_unique<FakeAdapter>();
        channel_ = adapter.get();
        ASSERT_TRUE(chat_->add_adapter(std::move(adapter)).ok());
    }
    void TearDown() override {
        chat_.reset();
        approvals_.reset();
        ChatServiceTest::TearDown();
    }

    void say_as(const std::string& who, const std::string& text) {
        chat::IncomingMessage m;
        m.sender = {who, who.substr(4)};
        m.channel = "#ops";
        m.text = text;
        chat_->on_message(*channel_, m);
    }
    bool said(const std::string& text) {
        for (const auto& p : channel_->posts)
            if (p.find(text) != std::string::npos) return true;
        return false;
    }
    // Waits until everything queued is committed: a run would have been sent by then.
    void flush_ok() {
        bool done = false;
        store_->flush([&] { done = true; });
        ASSERT_TRUE(run_until([&] { return done; }));
    }
    std::string all_posts() {
        std::string out;
        for (const auto& p : channel_->posts) out += p + "\n---\n";
        return out;
    }

    NoAuditTrail audit_;
    std::unique_ptr<Catalog> approval_catalog_;
    std::unique_ptr<ApprovalService> approvals_;
    FakeAdapter* channel_ = nullptr;
};

TEST_F(ChatApprovalTest, TheRequestShowsArgvHostsRequesterAndHowToDecide) {
    say_as("irc:alice", "!restart nginx --on a1");
    ASSERT_EQ(channel_->posts.size(), 1u) << all_posts();
    const std::string& text = channel_->posts[0];
    EXPECT_NE(text.find("approval needed for job #1: irc:alice asks to run"), std::string::npos)
        << text;
    EXPECT_NE(text.find("systemctl restart nginx"), std::string::npos) << text;
    EXPECT_NE(text.find("on exactly 1 host(s): a1"), std::string::npos) << text;
    EXPECT_NE(text.find("needs 1 approval(s) from group 'ops'"), std::string::npos) << text;
    EXPECT_NE(text.find("expires in 30m"), std::string::npos) << text;
    EXPECT_NE(text.find("!approve 1"), std::string::npos) << text;
    EXPECT_NE(text.find("!deny 1 REASON"), std::string::npos) << text;
    EXPECT_TRUE(runs_sent().empty());

    say_as("irc:alice", "!help restart");
    EXPECT_TRUE(said("Needs 1 approval(s) from group 'ops' before it runs.")) << all_posts();
}

TEST_F(ChatApprovalTest, TheRequestSaysWhichApprovedHostsAreOfflineNow) {
    proto::Hello hello;
    hello.agent_id = "a2";
    hello.capacity = 4;
    hello.labels = {{"role", "web"}};
    scheduler_->on_agent_message("a2", hello);
    scheduler_->on_agent_message("a2", proto::Bye{"maintenance"});
    say_as("irc:alice", "!restart nginx --on role=web");
    EXPECT_TRUE(said("on exactly 2 host(s): a1, a2 (offline now, skipped unless back: a2)"))
        << all_posts();
}

TEST_F(ChatApprovalTest, SelfApprovalIsRefusedAndAnotherApproverStartsTheJob) {
    say_as("irc:alice", "!restart nginx --on a1");
    say_as("irc:alice", "!approve 1");
    EXPECT_TRUE(said("error: you asked for job #1: the requester never counts")) << all_posts();
    say_as("irc:mallory", "!approve 1");
    EXPECT_TRUE(said("error: you may not decide approvals")) << all_posts();
    flush_ok();
    EXPECT_TRUE(runs_sent().empty());

    say_as("irc:bob", "!approve 1");
    EXPECT_TRUE(said("job #1 approved by irc:bob: running systemctl restart nginx on a1"))
        << all_posts();
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].argv, (std::vector<std::string>{"systemctl", "restart", "nginx"}));
    agent_finishes(runs_sent()[0], "restarted\n", 0);
    ASSERT_TRUE(run_until([&] { return said("job #1 succeeded"); })) << all_posts();
}

// A click on Approve or Deny is decided as the one who clicked, exactly as typed commands are,
// and the request's buttons are replaced by the decision.
class ChatButtonTest : public ChatApprovalTest {
  protected:
    void click(const std::string& who, chat::ApprovalChoice choice, std::int64_t job = 1) {
        chat::ApprovalAction action;
        action.user = {who, who.substr(4)};
        action.choice = choice;
        action.job_id = job;
        action.request = {"#ops", "1"};
        chat_->on_approval_action(*channel_, action);
    }
};

TEST_F(ChatButtonTest, TheRequestHasButtonsAndAnApproversClickRunsTheJob) {
    say_as("irc:alice", "!restart nginx --on a1");
    ASSERT_EQ(channel_->button_jobs, std::vector<std::int64_t>{1});
    ASSERT_EQ(channel_->posts.size(), 1u);
    EXPECT_NE(channel_->posts[0].find("approval needed for job #1"), std::string::npos);

    click("irc:bob", chat::ApprovalChoice::approve);
    EXPECT_TRUE(said("job #1 approved by irc:bob: running systemctl restart nginx on a1"))
        << all_posts();
    ASSERT_EQ(channel_->decisions.size(), 1u);
    EXPECT_EQ(channel_->decisions[0].first, "1") << "the request message itself is replaced";
    EXPECT_NE(channel_->decisions[0].second.find("approved by irc:bob"), std::string::npos);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
}

TEST_F(ChatButtonTest, ASelfApprovalOrAStrangersClickIsRefusedAndNothingRuns) {
    say_as("irc:alice", "!restart nginx --on a1");
    click("irc:alice", chat::ApprovalChoice::approve);
    EXPECT_TRUE(said("alice: error: you asked for job #1: the requester never counts"))
        << all_posts();
    click("irc:mallory", chat::ApprovalChoice::approve);
    EXPECT_TRUE(said("mallory: error: you may not decide approvals")) << all_posts();
    click("irc:bob", chat::ApprovalChoice::approve, 99);
    EXPECT_TRUE(said("bob: error: no pending approval for job #99")) << all_posts();
    flush_ok();
    EXPECT_TRUE(runs_sent().empty());
    EXPECT_TRUE(channel_->decisions.empty()) << "the buttons stay until someone may decide";
}

TEST_F(ChatButtonTest, DenyByButtonEndsTheJobAndSaysItWasTheButton) {
    say_as("irc:alice", "!restart nginx --on a1");
    click("irc:carol", chat::ApprovalChoice::deny);
    EXPECT_TRUE(
        said("irc:alice: job #1 was denied by irc:carol: denied with the button in test; "
             "nothing ran"))
        << all_posts();
    ASSERT_EQ(channel_->decisions.size(), 1u);
    flush_ok();
    EXPECT_TRUE(runs_sent().empty());
}

TEST_F(ChatApprovalTest, DenyTellsTheChannelWhyAndNothingRuns) {
    say_as("irc:alice", "!restart nginx --on a1");
    say_as("irc:bob", "!deny 1");
    EXPECT_TRUE(said("error: say why you deny job #1")) << all_posts();
    say_as("irc:bob", "!deny 1 not during the sale");
    EXPECT_TRUE(said("irc:alice: job #1 was denied by irc:bob: not during the sale; nothing ran"))
        << all_posts();
    say_as("irc:carol", "!approve 1");
    EXPECT_TRUE(said("error: no pending approval for job #1")) << all_posts();
    flush_ok();
    EXPECT_TRUE(runs_sent().empty());
}

TEST_F(ChatApprovalTest, APolicyRoleCanRequireApprovalForACommandThatNeedsNoneItself) {
    use_policy(
        "[roles.greeter]\npermissions = [\"command.greet\"]\ntargets = \"*\"\n"
        "approval = { group = \"ops\", count = 1, expiry = \"30m\" }\n"
        "[groups.greeters]\nmembers = [\"irc:alice\"]\nroles = [\"greeter\"]\n");
    say_as("irc:alice", "!greet bob --on a1");
    ASSERT_TRUE(run_until([&] { return said("approval needed for job #1"); })) << all_posts();
    flush_ok();
    EXPECT_TRUE(runs_sent().empty()) << "nothing runs before the approval";
    say_as("irc:bob", "!approve 1");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; })) << all_posts();
    EXPECT_EQ(runs_sent()[0].argv, (std::vector<std::string>{"echo", "hello bob"}));
}

TEST_F(ChatApprovalTest, PendingListsWhatTheCallerCouldDecide) {
    say_as("irc:alice", "!restart nginx --on a1");
    say_as("irc:alice", "!pending");
    EXPECT_TRUE(said("nothing awaits your approval")) << all_posts();
    say_as("irc:bob", "!pending");
    EXPECT_TRUE(said("1 approval(s) await you:\n#1  systemctl restart nginx on a1  by irc:alice"))
        << all_posts();
}

TEST_F(ChatApprovalTest, AnExpiredRequestIsReportedToTheRequester) {
    ApprovalSpec quick{"ops", 1, std::chrono::milliseconds(200)};
    SubmitRequest r;
    r.requester = "irc:alice";
    r.source = "test:#ops";
    r.target = "a1";
    r.argv = {"systemctl", "restart", "nginx"};
    ASSERT_TRUE(approvals_->request(r, quick).ok());
    ASSERT_TRUE(run_until([&] { return said("irc:alice: job #1 expired, nothing ran"); }))
        << all_posts();
}

TEST_F(ChatServiceTest, ACommandAddressedToTheBotIsAuditedAsReceivedAndOrdinaryChatIsNot) {
    RecordedAudit audit;
    ChatService audited(io_, *scheduler_, *catalog_, *policy_, audit, ChatConfig{});
    chat::IncomingMessage m;
    m.sender = {"irc:alice!al@example.org", "alice"};
    m.channel = "#ops";
    m.text = "lunch anyone?";
    audited.on_message(adapter_, m);
    m.text = "!greet bob --on a1";
    audited.on_message(adapter_, m);

    ASSERT_GE(audit.events.size(), 1u);
    const AuditEvent& received = audit.events[0];
    EXPECT_EQ(received.kind, "command.received");
    EXPECT_EQ(received.actor, "irc:alice!al@example.org");
    EXPECT_EQ(received.subject, "test:#ops");
    EXPECT_EQ(received.detail.at("channel"), "#ops");
    EXPECT_EQ(received.detail.at("text"), "greet bob --on a1");
    audited.stop();
}

const char* kTeamPolicy = R"(
[roles.greeter]
permissions = ["command.greet", "jobs.read"]
targets = "role=web"
channels = ["test:#ops"]

[roles.adhoc]
permissions = ["run.adhoc"]
targets = "a1"

[groups.greeters]
members = ["irc:alice!*"]
roles = ["greeter"]

[groups.bobs]
members = ["irc:bob"]
roles = ["adhoc"]
)";

class ChatPolicyTest : public ChatServiceTest {
  protected:
    void SetUp() override {
        ChatServiceTest::SetUp();
        use_policy(kTeamPolicy);
        proto::Hello hello;
        hello.agent_id = "db1";
        hello.capacity = 4;
        hello.labels = {{"role", "db"}};
        scheduler_->on_agent_message("db1", hello);
    }
    const chat::Identity alice_{"irc:alice!al@example.org", "alice"};
    const chat::Identity bob_{"irc:bob", "bob"};
    const chat::Identity mallory_{"irc:mallory", "mallory"};
};

TEST_F(ChatPolicyTest, EveryCommandIsDecidedForTheRealUserBeforeAnythingRuns) {
    say("!greet bob --on db1", alice_);
    EXPECT_EQ(adapter_.posts.back(),
              "denied: db1 is outside the hosts your roles may touch (role=web)");
    say("!greet bob --on *", alice_);
    EXPECT_EQ(adapter_.posts.back(),
              "denied: db1 is outside the hosts your roles may touch (role=web)");
    say("!greet bob --on a1", alice_, "#random");
    EXPECT_EQ(adapter_.posts.back(), "denied: command.greet is not allowed in test:#random");
    say("!tidy --on a1", alice_);
    EXPECT_EQ(adapter_.posts.back(), "denied: you (irc:alice!al@example.org) lack command.tidy");
    say("!run --on a1 -- uptime", alice_);
    EXPECT_EQ(adapter_.posts.back(), "denied: you (irc:alice!al@example.org) lack run.adhoc");
    say("!agents accept web-9", alice_);
    EXPECT_EQ(adapter_.posts.back(), "denied: you (irc:alice!al@example.org) lack agents.manage");
    say("!greet x --on a1 --dry-run", mallory_);
    EXPECT_EQ(adapter_.posts.back(), "denied: you (irc:mallory) lack command.greet");
    say("!run --on db1 -- uptime", bob_);
    EXPECT_EQ(adapter_.posts.back(), "denied: db1 is outside the hosts your roles may touch (a1)");
    run_until([] { return false; }, 50ms);
    EXPECT_TRUE(runs_sent().empty()) << "nothing denied runs";

    say("!greet bob --on a1 --dry-run", alice_);
    EXPECT_EQ(adapter_.posts.back(), "dry run: would run echo 'hello bob' on a1; nothing ran");
    say("!greet bob --on role=web", alice_);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    EXPECT_EQ(runs_sent()[0].argv, (std::vector<std::string>{"echo", "hello bob"}));
    say("!run --on a1 -- uptime", bob_);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));

    // Each decision went to the audit trail with what it was about.
    std::vector<AuditEvent> denied;
    for (const AuditEvent& e : audit_.events)
        if (e.kind == "policy.denied") denied.push_back(e);
    ASSERT_EQ(denied.size(), 8u);
    EXPECT_EQ(denied[0].actor, "irc:alice!al@example.org");
    EXPECT_EQ(denied[0].subject, "command:greet");
    EXPECT_EQ(denied[0].detail.at("permission"), "command.greet");
    EXPECT_EQ(denied[0].detail.at("hosts"), "db1");
    EXPECT_EQ(denied[0].detail.at("channel"), "test:#ops");
    EXPECT_EQ(denied[0].detail.at("reason"),
              "db1 is outside the hosts your roles may touch (role=web)");
    const AuditEvent& last = audit_.events.back();
    EXPECT_EQ(last.kind, "policy.allowed");
    EXPECT_EQ(last.actor, "irc:bob");
    EXPECT_EQ(last.detail.at("role"), "adhoc");
    EXPECT_EQ(last.detail.at("permission"), "run.adhoc");
}

TEST_F(ChatPolicyTest, HelpListsOnlyWhatTheCallerMayRun) {
    say("!help", alice_);
    std::string help = adapter_.posts.back();
    EXPECT_NE(help.find("!greet — Say hello"), std::string::npos) << help;
    EXPECT_EQ(help.find("!tidy"), std::string::npos) << help;
    EXPECT_EQ(help.find("!flush"), std::string::npos) << help;
    EXPECT_EQ(help.find("!run —"), std::string::npos) << help;
    EXPECT_EQ(help.find("!agents —"), std::string::npos) << help;
    EXPECT_NE(help.find("!whoami —"), std::string::npos) << help;

    say("!help", alice_, "#random");  // greet is not allowed there
    EXPECT_EQ(adapter_.posts.back().find("!greet"), std::string::npos) << adapter_.posts.back();

    say("!help tidy", alice_);
    EXPECT_NE(adapter_.posts.back().find(
                  "You may not run it here: you (irc:alice!al@example.org) lack command.tidy."),
              std::string::npos)
        << adapter_.posts.back();
    say("!help greet", alice_);
    EXPECT_EQ(adapter_.posts.back().find("You may not"), std::string::npos);

    say("!help", bob_);
    help = adapter_.posts.back();
    EXPECT_NE(help.find("You may run no catalog command here"), std::string::npos) << help;
    EXPECT_NE(help.find("!run — run a command as argv"), std::string::npos) << help;
}

TEST_F(ChatPolicyTest, WhoamiExplainsRolesScopesAndChannels) {
    say("!whoami", alice_);
    EXPECT_EQ(adapter_.posts.back(),
              "you are irc:alice!al@example.org (alice), here in test:#ops.\nYour roles:\n"
              "  greeter: command.greet, jobs.read; hosts: role=web; channels: test:#ops");
    say("!whoami", mallory_);
    EXPECT_EQ(adapter_.posts.back(),
              "you are irc:mallory (mallory), here in test:#ops.\nYou hold no role, so you may "
              "run nothing but !help, !hosts and your own jobs. Ask an admin to add irc:mallory "
              "to a group in the policy.");
}

TEST_F(ChatPolicyTest, OthersJobsNeedJobsReadAndCancellingThemJobsCancelAny) {
    say("!run --on a1 -- sleep 60", bob_);
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));

    say("!job 1", mallory_);
    ASSERT_TRUE(run_until([&] { return posted("denied: you (irc:mallory) lack jobs.read"); }));
    EXPECT_EQ(adapter_.posts.back(),
              "denied: you (irc:mallory) lack jobs.read (job #1 is irc:bob's)");
    say("!output 1", mallory_);
    ASSERT_TRUE(run_until([&] {
        return adapter_.posts.back().starts_with("denied: you (irc:mallory) lack jobs.read");
    }));
    say("!jobs", mallory_);
    ASSERT_TRUE(run_until([&] { return posted("you have no jobs yet"); }));
    say("!cancel 1", mallory_);
    ASSERT_TRUE(run_until([&] { return posted("lack jobs.cancel.any"); }));
    EXPECT_EQ(adapter_.posts.back(),
              "denied: you (irc:mallory) lack jobs.cancel.any (job #1 is irc:bob's)");

    say("!job 1", alice_);  // alice holds jobs.read
    ASSERT_TRUE(run_until([&] { return posted("job #1 running"); }));
    say("!jobs", alice_);
    ASSERT_TRUE(run_until([&] { return posted("latest jobs:\n#1"); }));
    say("!cancel 1", alice_);
    ASSERT_TRUE(run_until(
        [&] { return posted("denied: you (irc:alice!al@example.org) lack jobs.cancel.any"); }));

    say("!cancel 1", bob_);  // everyone may cancel their own
    ASSERT_TRUE(run_until([&] { return posted("cancelling job #1"); }));
}

// A rollout through chat: the window holds back the other hosts, and the progress shows it.
TEST_F(ChatServiceTest, ARolloutsProgressShowsItsWindow) {
    adapter_.limits_.can_edit = true;
    adapter_.limits_.min_edit_interval = 0ms;
    for (const char* name : {"a2", "a3"}) {
        proto::Hello hello;
        hello.agent_id = name;
        hello.capacity = 4;
        scheduler_->on_agent_message(name, hello);
    }
    auto finish = [&](const proto::Run& run, const std::string& agent) {
        proto::RunResult r;
        r.run_id = run.run_id;
        r.seq = 1;
        r.status = "exited";
        r.exit_code = 0;
        scheduler_->on_agent_message(agent, r);
    };
    auto shown = [&](const std::string& text) {
        for (const auto* list : {&adapter_.posts, &adapter_.edits})
            for (const auto& p : *list)
                if (p.find(text) != std::string::npos) return true;
        return false;
    };
    say("!run --on 'a*' --batch 1 -- true");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 1; }));
    for (const auto& [agent, m] : sent_) {
        if (std::holds_alternative<proto::Run>(m)) {
            EXPECT_EQ(agent, "a1") << "hosts in name order";
        }
    }
    ASSERT_TRUE(run_until([&] { return shown("batch 1/3: 1 running, 0 done, 2 waiting"); }))
        << (adapter_.edits.empty() ? "" : adapter_.edits.back());
    EXPECT_EQ(runs_sent().size(), 1u) << "one host at a time";
    finish(runs_sent()[0], "a1");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 2; }));
    ASSERT_TRUE(run_until([&] { return shown("batch 2/3: 1 running, 1 done, 1 waiting"); }))
        << (adapter_.edits.empty() ? "" : adapter_.edits.back());
    finish(runs_sent()[1], "a2");
    ASSERT_TRUE(run_until([&] { return runs_sent().size() == 3; }));
    finish(runs_sent()[2], "a3");
    ASSERT_TRUE(run_until([&] { return posted("job #1 succeeded: 3 succeeded"); }));
}

// A run that waits for a slot on its agent says where it stands in the progress message
// (docs/scheduling.md, "Queue positions").
TEST_F(ChatServiceTest, ProgressNamesAQueuedRunsPositionInLine) {
    adapter_.limits_.can_edit = true;
    adapter_.limits_.min_edit_interval = 0ms;
    for (int i = 0; i < 6; ++i) say("!run --on a1 -- sleep 60");  // a1 runs 4 at a time
    ASSERT_TRUE(run_until([&] { return posted("job #6 on 1 host(s)"); }));
    ASSERT_TRUE(run_until(
        [&] { return posted("job #6: 0/1 hosts done, 0 lines; a1 queued, position 2"); }));
    EXPECT_TRUE(posted("job #5: 0/1 hosts done, 0 lines; a1 queued, position 1"));
}

}  // namespace
}  // namespace hostline::controller
