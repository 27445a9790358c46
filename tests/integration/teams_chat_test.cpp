// Microsoft Teams end to end: the real controller binary with [chat.teams] pointed at the fake
// Bot Framework (over TLS, trusted through the test CA), a real agent, and activities signed as
// the Bot Connector signs them, POSTed to /chat/teams/messages. What is asserted is what a Teams
// user would see: what the bot sent to the conversation, and the job list.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "testing/local_cluster.hpp"
#include "tests/fakes/teams/fake_bot_framework.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;
using chat::teams::test::FakeBotFramework;
using chat::teams::test::SentActivity;
using nlohmann::json;

constexpr const char* kAppId = "7f1c0a6e-0000-4000-8000-00000000b07";
constexpr const char* kPassword = "client~secret.from-azure";
constexpr const char* kConversation = "a:1Hp7personalChatWithTheBot";

constexpr const char* kCommands = R"toml(
[[command]]
name = "greet"
summary = "Say hello from the host"
run = ["sh", "-c", "echo \"hello from $HOSTLINE_AGENT\""]

[[command]]
name = "count"
summary = "Count to four, slowly"
run = ["sh", "-c", "for i in 1 2 3 4; do echo \"line $i\"; sleep 1.5; done"]
)toml";

class TeamsChat : public ::testing::Test {
  protected:
    TeamsChat() : fake(ca, kAppId, kPassword) {}

    void SetUp() override {
        cluster.set_catalog(kCommands + bounce_command_toml("ops"));
        const std::string password_file = cluster.dir() + "/teams.secret";
        std::ofstream(password_file) << kPassword << "\n";
        cluster.add_controller_config(std::string("[chat.teams]\napp_id = \"") + kAppId + "\"\n" +
                                      "app_password_file = \"" + password_file + "\"\n" +
                                      "openid_metadata_url = \"" + fake.openid_metadata_url() +
                                      "\"\n" + "token_url = \"" + fake.token_url() + "\"\n" +
                                      "ca_file = \"" + ca.ca_file() + "\"\n");
        // Alice and Bob may run things; both are approvers, so Alice's own click is refused
        // only because she asked.
        cluster.set_policy(R"toml(
[roles.operator]
permissions = ["command.greet", "command.count", "command.bounce"]
targets = "role=web"
[roles.approver]
permissions = ["approvals.decide"]
[groups.operators]
members = ["teams:aad-alice", "teams:aad-bob"]
roles = ["operator"]
[groups.ops]
members = ["teams:aad-alice", "teams:aad-bob"]
roles = ["approver"]
)toml");
        cluster.start_controller();
        cluster.add_agent("web-1", {.labels = {{"role", "web"}}});
        cluster.wait_online({"web-1"});
    }

    void TearDown() override {
        if (HasFailure()) {
            cluster.keep_dir();
            std::fprintf(stderr, "%s", cluster.logs().c_str());
            std::fprintf(stderr, "--- what the bot sent to Teams ---\n");
            for (const auto& a : fake.activities())
                std::fprintf(stderr, "%s %s %s\n", a.method.c_str(), a.activity_id.c_str(),
                             a.body.dump().c_str());
            for (const auto& r : fake.server().requests())
                std::fprintf(stderr, "REQ %s %s\n", r.method.c_str(), r.target.c_str());
        }
    }

    ApiAnswer deliver(const json& activity, const std::string& jwt) {
        HttpHeaders headers;
        if (!jwt.empty()) headers.emplace_back("Authorization", "Bearer " + jwt);
        return cluster.api("POST", "/chat/teams/messages", "", activity.dump(), headers);
    }
    ApiAnswer say(const std::string& aad, const std::string& name, const std::string& text) {
        return deliver(fake.message(kConversation, aad, name, text),
                       fake.token(fake.valid_claims()));
    }

    // The first activity sent to the conversation whose JSON contains `part`.
    std::optional<SentActivity> bot_sent(const std::string& part,
                                         std::chrono::milliseconds timeout = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        do {
            for (const auto& a : fake.activities())
                if (a.body.dump().find(part) != std::string::npos) return a;
            std::this_thread::sleep_for(50ms);
        } while (std::chrono::steady_clock::now() < deadline);
        return std::nullopt;
    }

    json jobs() {
        auto doc = cluster.cli_json({"jobs"});
        return doc.value("jobs", json::array());
    }

    TestCa ca;
    FakeBotFramework fake;
    LocalCluster cluster;
};

TEST_F(TeamsChat, ACommandRunsAndItsResultArrivesInTheConversation) {
    auto answer = say("aad-alice", "Alice", "!greet --on web-1");
    ASSERT_EQ(answer.status, 200) << answer.body;
    auto result = bot_sent("hello from web-1");
    ASSERT_TRUE(result) << "no result in the conversation";
    EXPECT_EQ(result->conversation_id, kConversation);
    EXPECT_EQ(result->authorization.rfind("Bearer fake-connector-token-", 0), 0u);
    auto list = jobs();
    ASSERT_EQ(list.size(), 1u) << list.dump();
    EXPECT_EQ(list[0]["requester"], "teams:aad-alice");
}

TEST_F(TeamsChat, InAChannelThreadProgressIsEditedInPlaceAndTheResultRepliesInTheThread) {
    // A channel message: its conversation id names the thread's root message.
    const std::string thread = "19:ops-channel@thread.tacv2;messageid=1700000000001";
    ASSERT_EQ(deliver(fake.message(thread, "aad-alice", "Alice", "!count --on web-1"),
                      fake.token(fake.valid_claims()))
                  .status,
              200);
    auto summary = bot_sent("succeeded", 60s);
    ASSERT_TRUE(summary) << "no result";
    EXPECT_EQ(summary->conversation_id, thread) << "the result is a reply in the thread";
    // Markdown: the '|' is escaped, so Teams shows "web-1 | line 4", not a table.
    EXPECT_NE(summary->body.value("text", "").find("web-1 \\| line 4"), std::string::npos)
        << summary->body.dump();

    // The progress: one message posted in the thread, then replaced (PUT) as lines came.
    auto progress = bot_sent("hosts done");
    ASSERT_TRUE(progress);
    EXPECT_EQ(progress->method, "POST");
    EXPECT_EQ(progress->conversation_id, thread);
    std::vector<std::string> versions;
    for (const auto& a : fake.activities())
        if (a.method == "PUT" && a.activity_id == progress->activity_id)
            versions.push_back(a.body.value("text", ""));
    ASSERT_FALSE(versions.empty()) << "the progress message was never edited";
    EXPECT_NE(versions.back().find("web-1 \\| line "), std::string::npos) << versions.back();
    int posts = 0;
    for (const auto& a : fake.activities())
        posts += a.method == "POST" && a.body.dump().find("hosts done") != std::string::npos;
    EXPECT_EQ(posts, 1) << "progress is one message, edited; not a new one per line";
}

TEST_F(TeamsChat, SomeoneWithoutRightsIsToldWhyAndNothingRuns) {
    ASSERT_EQ(say("aad-carol", "Carol", "!greet --on web-1").status, 200);
    auto answer = bot_sent("denied");
    ASSERT_TRUE(answer) << "no answer in the conversation";
    EXPECT_EQ(answer->conversation_id, kConversation);
    EXPECT_TRUE(jobs().empty()) << jobs().dump();
}

TEST_F(TeamsChat, ForgedTokensAre401AndNothingRuns) {
    auto claims_with = [&](auto change) {
        auto claims = fake.valid_claims();
        change(claims);
        return fake.token(claims);
    };
    const std::vector<std::pair<std::string, std::string>> forged = {
        {"wrong issuer", claims_with([](auto& c) { c.issuer = "https://sts.windows.net/evil/"; })},
        {"wrong audience", claims_with([](auto& c) { c.audience = "another-bots-app-id"; })},
        {"expired", claims_with([](auto& c) {
             c.not_before -= 7200;
             c.expires_at -= 3600 + 600;  // ten minutes ago: beyond the 5 minutes' skew
         })},
        {"bad signature", claims_with([](auto& c) { c.sign_with_stranger = true; })},
        {"unknown key", claims_with([](auto& c) { c.kid = "rotated-away"; })},
        {"no token", ""},
    };
    for (const auto& [what, jwt] : forged) {
        auto answer =
            deliver(fake.message(kConversation, "aad-alice", "Alice", "!greet --on web-1"), jwt);
        EXPECT_EQ(answer.status, 401) << what << ": " << answer.body;
        EXPECT_NE(answer.body.find("\"error\""), std::string::npos) << what << ": " << answer.body;
    }
    // A body that is not an activity, with a good token, is 400.
    EXPECT_EQ(cluster
                  .api("POST", "/chat/teams/messages", "", "[1,2]",
                       {{"Authorization", "Bearer " + fake.token(fake.valid_claims())}})
                  .status,
              400);
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(jobs().empty()) << jobs().dump();
    EXPECT_TRUE(fake.activities().empty()) << "the bot answered a forged activity";
}

TEST_F(TeamsChat, TheCardsButtonApprovesForASecondUserNotForTheRequester) {
    ASSERT_EQ(say("aad-alice", "Alice", "!bounce nginx --on web-1").status, 200);
    auto card = bot_sent("application/vnd.microsoft.card.adaptive");
    ASSERT_TRUE(card) << "no approval card";
    const json& actions = card->body["attachments"][0]["content"]["actions"];
    ASSERT_EQ(actions.size(), 2u) << card->body.dump();
    const std::int64_t job = actions[0]["data"]["job"].get<std::int64_t>();
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(job)})["job"]["state"], "pending_approval");

    // Alice's own click is refused, and she is told so where the card is.
    auto own = deliver(
        fake.card_click(kConversation, card->activity_id, "aad-alice", "Alice", "approve", job),
        fake.token(fake.valid_claims()));
    EXPECT_EQ(own.status, 200) << own.body;
    EXPECT_TRUE(bot_sent("the requester never counts")) << "no refusal shown";
    EXPECT_EQ(cluster.cli_json({"job", std::to_string(job)})["job"]["state"], "pending_approval");

    // Bob's click approves it: the invoke's answer and the PUT both replace the card.
    auto bobs =
        deliver(fake.card_click(kConversation, card->activity_id, "aad-bob", "Bob", "approve", job),
                fake.token(fake.valid_claims()));
    ASSERT_EQ(bobs.status, 200) << bobs.body;
    auto invoke = json::parse(bobs.body, nullptr, false);
    ASSERT_TRUE(invoke.is_object()) << bobs.body;
    EXPECT_FALSE(invoke["value"].contains("actions")) << "the buttons are gone: " << bobs.body;
    EXPECT_NE(bobs.body.find("approved by"), std::string::npos) << bobs.body;

    EXPECT_TRUE(bot_sent("bounced nginx on web-1")) << "no result";
    auto done =
        cluster.wait_job(job, [](const json& d) { return d["job"]["state"] == "succeeded"; });
    EXPECT_EQ(done["job"]["state"], "succeeded") << done.dump();
    bool replaced = false;
    for (const auto& a : fake.activities())
        replaced |= a.method == "PUT" && a.activity_id == card->activity_id &&
                    !a.body["attachments"][0]["content"].contains("actions");
    EXPECT_TRUE(replaced) << "the card was not replaced by the decision";
}

}  // namespace
}  // namespace hostline::testing
