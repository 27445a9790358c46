// Slack end to end: the real controller binary with [chat.slack] pointed at the fake Slack
// (tests/fakes/slack: the Web API and the Socket Mode link over TLS with a test CA), two real
// agents, and people simulated by the fake's envelopes. What is asserted is what Slack
// received: the messages in the user's thread, their edits, and the approval's buttons.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "fakes/slack/fake_slack.hpp"
#include "testing/local_cluster.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kChannel = "C111";
constexpr const char* kAlice = "U222";
constexpr const char* kBob = "U333";

constexpr const char* kCommands = R"toml(
[[command]]
name = "count"
summary = "Count to three, slowly"
run = ["sh", "-c", "for i in 1 2 3; do echo \"line $i from $HOSTLINE_AGENT\"; sleep $0; done",
       "{pause}"]
targets = "role=web"

[[command.param]]
name = "pause"
type = "string"
pattern = "^[0-9]+(\\.[0-9]+)?$"
default = "0.6"
help = "seconds between lines"
)toml";

class SlackChat : public ::testing::Test {
  protected:
    void SetUp() override {
        slack.add_user(kBob, "Bob Example");
        cluster.set_catalog(kCommands + bounce_command_toml("ops", "role=web"));
        std::ofstream(cluster.dir() + "/bot.token") << FakeSlack::kBotToken << "\n";
        // Socket Mode needs the app-level token; the Events API the signing secret instead.
        const std::string secret_file =
            cluster.dir() + (events_api_ ? "/signing.secret" : "/app.token");
        std::ofstream(secret_file)
            << (events_api_ ? FakeSlack::kSigningSecret : FakeSlack::kAppToken) << "\n";
        cluster.add_controller_config(
            std::string("[chat]\njob_url_base = \"https://hl.test/jobs/\"\n") + "[chat.slack]\n" +
            (events_api_ ? "mode = \"events\"\nsigning_secret_file = \"" : "app_token_file = \"") +
            secret_file + "\"\nbot_token_file = \"" + cluster.dir() + "/bot.token\"\n" +
            "api_url = \"" + slack.api_url() + "\"\nca_file = \"" + ca.ca_file() + "\"\n");
        // Alice and Bob may run both commands on the web hosts and decide approvals; nobody
        // may approve their own request (the approval service's rule).
        cluster.set_policy(R"toml(
[roles.operator]
permissions = ["command.count", "command.bounce"]
targets = "role=web"
[roles.approver]
permissions = ["approvals.decide"]
[groups.operators]
members = ["slack:U222", "slack:U333"]
roles = ["operator"]
[groups.ops]
members = ["slack:U222", "slack:U333"]
roles = ["approver"]
)toml");
        cluster.start_controller();
        cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
        cluster.add_agent("web-2", {.labels = {{"role", "web"}}});
        cluster.wait_online({"web-1", "web-2"});
        if (events_api_) {
            ASSERT_TRUE(slack.wait_for_calls("auth.test", 1, 30s)) << "the controller never asked";
        } else {
            ASSERT_TRUE(slack.wait_for_links(1, 30s)) << "the controller never opened a link";
        }
        std::this_thread::sleep_for(200ms);  // its hello, or auth.test's answer read
    }

    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
            std::fprintf(stderr, "--- what Slack received ---\n");
            for (const auto& m : slack.messages())
                std::fprintf(stderr, "[%s %s in %s] %s (%zu versions)\n", m.channel.c_str(),
                             m.ts.c_str(), m.thread_ts.c_str(), m.text().c_str(), m.texts.size());
        }
    }

    // The first message (posted or edited to) containing part, in `thread` when given.
    std::optional<FakeSlack::Posted> seen(const std::string& part, const std::string& thread = "",
                                          std::chrono::milliseconds timeout = 30s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            for (const auto& m : slack.messages())
                if (m.text().find(part) != std::string::npos &&
                    (thread.empty() || m.thread_ts == thread))
                    return m;
            std::this_thread::sleep_for(50ms);
        }
        return std::nullopt;
    }

    static long job_id_in(const std::string& text) {
        auto at = text.find("job #");
        return at == std::string::npos ? 0 : std::stol(text.substr(at + 5));
    }

    TestCa ca;
    FakeSlack slack{ca};
    LocalCluster cluster;
    bool events_api_ = false;  // [chat.slack] mode = "events": Slack POSTs to the controller
};

TEST_F(SlackChat, ACommandRunsOnRealAgentsAndItsProgressAndResultGoInTheUsersThread) {
    std::string ts;
    slack.send_message(kAlice, kChannel, "<@UBOT> count", &ts);
    auto ack = seen("on 2 host(s): web-1, web-2", ts);
    ASSERT_TRUE(ack) << "no acknowledgement in the thread of the user's message";
    const long id = job_id_in(ack->text());
    ASSERT_GT(id, 0);
    EXPECT_EQ(ack->channel, kChannel);

    auto summary = seen("job #" + std::to_string(id) + " succeeded", ts, 60s);
    ASSERT_TRUE(summary) << "no result in the thread";
    EXPECT_NE(summary->text().find("2 succeeded https://hl.test/jobs/" + std::to_string(id)),
              std::string::npos)
        << summary->text();
    EXPECT_NE(summary->text().find("web-1  succeeded  exit 0"), std::string::npos);
    EXPECT_NE(summary->text().find("web-2 | line "), std::string::npos);

    // Progress: one message in the thread, edited in place (chat.update), no faster than 1/s.
    auto progress = seen("hosts done", ts, 5s);
    ASSERT_TRUE(progress);
    EXPECT_GE(progress->texts.size(), 2u) << "the progress was never edited";
    const auto updates = slack.calls("chat.update");
    for (std::size_t i = 1; i < updates.size(); ++i)
        EXPECT_GE(updates[i].at - updates[i - 1].at, 900ms) << "edits closer than 1 s";

    auto doc = cluster.cli_json({"job", std::to_string(id)});
    EXPECT_EQ(doc["job"]["requester"], "slack:U222");
    EXPECT_EQ(doc["job"]["source"], "slack:C111");
}

TEST_F(SlackChat, AnApprovalByAnotherUsersButtonRunsTheJobAndASelfApprovalIsRefused) {
    std::string ts;
    slack.send_message(kAlice, kChannel, "<@UBOT> bounce nginx", &ts);
    auto request = seen("approval needed for job #");
    ASSERT_TRUE(request);
    const long id = job_id_in(request->text());
    EXPECT_NE(request->blocks.dump().find("hostline_approve"), std::string::npos)
        << "the request has the buttons";

    // Alice clicks Approve on her own request: refused, where the button was, nothing runs.
    slack.send_click(kAlice, kChannel, request->ts, "hostline_approve", id);
    auto refused = seen("Alice Example: error: you asked for job");
    ASSERT_TRUE(refused) << "the self-approval was not refused in the channel";
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(id)})["job"]["state"], "pending_approval");

    // Bob's click runs it; the request loses its buttons and says who decided.
    slack.send_click(kBob, kChannel, request->ts, "hostline_approve", id);
    auto granted = seen("approved by slack:U333: running");
    ASSERT_TRUE(granted);
    auto summary = seen("job #" + std::to_string(id) + " succeeded", "", 60s);
    ASSERT_TRUE(summary);
    EXPECT_NE(summary->text().find("web-1 | bounced nginx on web-1"), std::string::npos)
        << summary->text();
    std::optional<FakeSlack::Posted> replaced;
    for (const auto& m : slack.messages())
        if (m.ts == request->ts) replaced = m;
    ASSERT_TRUE(replaced);
    EXPECT_NE(replaced->text().find("approved by slack:U333"), std::string::npos)
        << replaced->text();
    EXPECT_TRUE(replaced->blocks.empty()) << "the buttons are still there";
}

TEST_F(SlackChat, ASocketDroppedMidJobStillGetsTheResultAndReconnects) {
    std::string ts;
    slack.send_message(kAlice, kChannel, "<@UBOT> count 1", &ts);
    auto ack = seen("on 2 host(s)", ts);
    ASSERT_TRUE(ack);
    const long id = job_id_in(ack->text());
    slack.drop_link();
    auto summary = seen("job #" + std::to_string(id) + " succeeded", ts, 60s);
    ASSERT_TRUE(summary) << "the result was lost with the socket";
    ASSERT_TRUE(slack.wait_for_links(2, 10s))
        << "no reconnect within 10 s: was the drop noticed only by the 30 s idle timeout?";
    EXPECT_GE(slack.calls("apps.connections.open").size(), 2u) << "a fresh URL";
    std::this_thread::sleep_for(200ms);

    std::string again;
    slack.send_message(kAlice, kChannel, "<@UBOT> count 0", &again);
    EXPECT_TRUE(seen("on 2 host(s)", again)) << "commands after the reconnect are answered";
}

TEST_F(SlackChat, ARateLimitStormDelaysRepliesButSendsNothingEarlyAndLosesNothing) {
    slack.rate_limit("chat.postMessage", 4, 1s);
    std::string ts;
    slack.send_message(kAlice, kChannel, "<@UBOT> count 0.3", &ts);
    auto ack = seen("on 2 host(s)", ts);
    ASSERT_TRUE(ack) << "the acknowledgement was lost";
    const long id = job_id_in(ack->text());
    ASSERT_TRUE(seen("job #" + std::to_string(id) + " succeeded", ts, 60s))
        << "the result was lost";
    EXPECT_TRUE(seen("hosts done", ts, 5s)) << "the progress message was lost";

    for (const char* method : {"chat.postMessage"}) {
        const auto calls = slack.calls(method);
        int limited = 0;
        for (std::size_t i = 0; i < calls.size(); ++i) {
            if (calls[i].status != 429) continue;
            ++limited;
            for (std::size_t j = i + 1; j < calls.size(); ++j)
                EXPECT_GE(calls[j].at - calls[i].at, std::chrono::seconds(calls[i].retry_after))
                    << method << " call " << j << " came before Retry-After had passed";
        }
        EXPECT_GT(limited, 0) << method << " was never limited: the storm did not happen";
    }
}

// ---- The Events API: the same people, with Slack POSTing to /chat/slack/events ---------------

class SlackEventsApiChat : public SlackChat {
  protected:
    SlackEventsApiChat() { events_api_ = true; }

    // What Slack's POST gets back from the controller.
    ApiAnswer deliver(const FakeSlack::SignedRequest& request) {
        return cluster.api("POST", "/chat/slack/events", "", request.body, request.headers);
    }
};

TEST_F(SlackEventsApiChat, UrlVerificationACommandAndAButtonApprovalOverHttp) {
    EXPECT_EQ(slack.links_opened(), 0u) << "no Socket Mode link in Events API mode";
    // Slack checks the Request URL before it sends anything else.
    const ApiAnswer verified = deliver(FakeSlack::url_verification_request());
    EXPECT_EQ(verified.status, 200) << verified.body;
    EXPECT_EQ(verified.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");

    std::string ts;
    const ApiAnswer sent = deliver(slack.message_request(kAlice, kChannel, "<@UBOT> count", &ts));
    ASSERT_EQ(sent.status, 200) << sent.body;
    auto ack = seen("on 2 host(s): web-1, web-2", ts);
    ASSERT_TRUE(ack) << "no acknowledgement in the thread of the user's message";
    const long id = job_id_in(ack->text());
    auto summary = seen("job #" + std::to_string(id) + " succeeded", ts, 60s);
    ASSERT_TRUE(summary) << "no result in the thread";
    EXPECT_NE(summary->text().find("web-2 | line "), std::string::npos) << summary->text();
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(id)})["job"]["requester"], "slack:U222");

    // An approval by Bob's button, which arrives as a form POST; Alice's own click is refused.
    ASSERT_EQ(deliver(slack.message_request(kAlice, kChannel, "<@UBOT> bounce nginx")).status, 200);
    auto request = seen("approval needed for job #");
    ASSERT_TRUE(request);
    const long held = job_id_in(request->text());
    ASSERT_EQ(deliver(slack.click_request(kAlice, kChannel, request->ts, "hostline_approve", held))
                  .status,
              200);
    ASSERT_TRUE(seen("Alice Example: error: you asked for job"))
        << "the self-approval was not refused in the channel";
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(held)})["job"]["state"], "pending_approval");
    ASSERT_EQ(
        deliver(slack.click_request(kBob, kChannel, request->ts, "hostline_approve", held)).status,
        200);
    ASSERT_TRUE(seen("approved by slack:U333: running"));
    ASSERT_TRUE(seen("job #" + std::to_string(held) + " succeeded", "", 60s));
}

TEST_F(SlackEventsApiChat, AForgedOrReplayedRequestIs401AndRunsNothing) {
    const std::string body =
        slack.message_request(kAlice, kChannel, "<@UBOT> bounce nginx --on web-1").body;
    const ApiAnswer forged =
        deliver(FakeSlack::sign("application/json", body, 0s, "guessed-signing-secret"));
    EXPECT_EQ(forged.status, 401) << forged.body;
    EXPECT_NE(forged.body.find("\"unauthorized\""), std::string::npos) << forged.body;
    // A request captured and sent again six minutes later: its signature is still right.
    const ApiAnswer replayed = deliver(FakeSlack::sign("application/json", body, 360s));
    EXPECT_EQ(replayed.status, 401) << replayed.body;
    EXPECT_NE(replayed.body.find("more than 300 s"), std::string::npos) << replayed.body;
    // Without the signature headers at all.
    const ApiAnswer bare =
        cluster.api("POST", "/chat/slack/events", "", body, {{"Content-Type", "application/json"}});
    EXPECT_EQ(bare.status, 401) << bare.body;

    // A good request after them is the first thing that happens.
    ASSERT_EQ(deliver(slack.message_request(kAlice, kChannel, "<@UBOT> count")).status, 200);
    ASSERT_TRUE(seen("on 2 host(s)"));
    const auto jobs = cluster.cli_json({"jobs"});
    ASSERT_TRUE(jobs["jobs"].is_array()) << jobs.dump();
    EXPECT_EQ(jobs["jobs"].size(), 1u) << jobs.dump();
    EXPECT_FALSE(seen("approval needed", "", 1s)) << "a forged request was acted on";
}

}  // namespace
}  // namespace hostline::testing
