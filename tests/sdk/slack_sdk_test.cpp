// Slack's official Node SDKs against FakeSlack: what the SDK saw (the script's JSON lines) and
// what the fake recorded must both be what the real Slack and a real app would see.
#include <gtest/gtest.h>

#include <chrono>

#include "fakes/slack/fake_slack.hpp"
#include "sdk/sdk_fixture.hpp"

namespace hostline::testing {
namespace {

using namespace std::chrono_literals;

class SlackSdk : public SdkCheck {};

// @slack/socket-mode: apps.connections.open, the WSS link, hello, an envelope acked by its id and
// its event emitted, then a disconnect (refresh_requested) answered with a fresh link through
// apps.connections.open, which works as the first did.
TEST_F(SlackSdk, SocketModeClientConnectsAcksAndReconnects) {
    FakeSlack slack(ca);
    auto check = start_check("socket-mode.mjs", {{"SLACK_API_URL", slack.api_url()},
                                                 {"SLACK_APP_TOKEN", FakeSlack::kAppToken}});
    ASSERT_TRUE(slack.wait_for_links(1, 15s)) << "the SDK opened no link";
    const std::string first = slack.send_message("U222", "C111", "deploy --on web-1");
    EXPECT_TRUE(slack.wait_for_ack(first, 10s)) << "the SDK did not ack " << first;
    slack.send_disconnect("refresh_requested");
    ASSERT_TRUE(slack.wait_for_links(2, 15s)) << "the SDK opened no fresh link after disconnect";
    const std::string second = slack.send_message("U222", "D222", "status");
    EXPECT_TRUE(slack.wait_for_ack(second, 10s)) << "the SDK did not ack " << second;
    const CheckRun run = check.get();
    EXPECT_EQ(run.exit_code, 0);

    // The SDK's side: two links, each opened through apps.connections.open and greeted, and
    // both events as the fake sent them.
    auto opened = run.saw("apps.connections.open");
    const auto tickets = slack.link_tickets();
    ASSERT_EQ(opened.size(), 2u);
    ASSERT_EQ(tickets.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        const std::string url = opened[i].value("url", "");
        EXPECT_EQ(url.rfind("wss://127.0.0.1:", 0), 0u) << url;
        EXPECT_NE(url.find("ticket=" + tickets[i] + "&"), std::string::npos) << url;
    }
    EXPECT_EQ(run.saw("connected").size(), 2u) << "hello was not taken as connected each time";
    EXPECT_FALSE(run.saw("reconnecting").empty());
    EXPECT_TRUE(run.saw("error").empty()) << run.saw("error")[0].dump();
    auto events = run.saw("event");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0]["envelope_id"], first);
    EXPECT_EQ(events[0]["type"], "message");
    EXPECT_EQ(events[0]["user"], "U222");
    EXPECT_EQ(events[0]["channel"], "C111");
    EXPECT_EQ(events[0]["text"], "deploy --on web-1");
    EXPECT_EQ(events[0]["on_link"], 1);
    EXPECT_EQ(events[1]["envelope_id"], second);
    EXPECT_EQ(events[1]["channel"], "D222");
    EXPECT_EQ(events[1]["text"], "status");
    EXPECT_EQ(events[1]["on_link"], 2);

    // The fake's side: both opens authorised with the app token, each ack once with the right
    // envelope id, in time (nothing was sent again).
    for (const auto& call : slack.calls("apps.connections.open")) {
        EXPECT_EQ(call.status, 200);
        EXPECT_EQ(call.error, "") << "apps.connections.open was refused";
    }
    EXPECT_EQ(slack.calls("apps.connections.open").size(), 2u);
    EXPECT_EQ(slack.acks(), (std::vector<std::string>{first, second}));
    EXPECT_EQ(slack.deliveries(first), 1);
    EXPECT_EQ(slack.deliveries(second), 1);
}

// @slack/web-api: the Web API methods Hostline calls answer ok through the SDK; a documented
// error rejects with its code; a 429 is waited out for Retry-After and retried by the SDK.
TEST_F(SlackSdk, WebClientReadsTheFakesAnswers) {
    FakeSlack slack(ca);
    slack.fail_next("chat.postMessage", "channel_not_found");
    slack.rate_limit("users.info", 1, 1s);
    const CheckRun run = run_check("web-api.mjs", {{"SLACK_API_URL", slack.api_url()},
                                                   {"SLACK_BOT_TOKEN", FakeSlack::kBotToken}});
    EXPECT_EQ(run.exit_code, 0);
    ASSERT_EQ(run.saw("done").size(), 1u) << "the script stopped early";

    // The SDK's side.
    auto rejected = run.saw("rejected");
    ASSERT_EQ(rejected.size(), 1u);
    EXPECT_EQ(rejected[0]["method"], "chat.postMessage");
    EXPECT_EQ(rejected[0]["code"], "slack_webapi_platform_error");
    EXPECT_EQ(rejected[0]["data_error"], "channel_not_found");
    auto answers = run.saw("answer");
    ASSERT_EQ(answers.size(), 4u);
    EXPECT_EQ(answers[0]["method"], "chat.postMessage");
    EXPECT_EQ(answers[0]["ok"], true);
    EXPECT_EQ(answers[0]["channel"], "C111");
    const std::string ts = answers[0].value("ts", "");
    EXPECT_FALSE(ts.empty());
    EXPECT_EQ(answers[1]["method"], "chat.update");
    EXPECT_EQ(answers[1]["ok"], true);
    EXPECT_EQ(answers[1]["ts"], ts);
    EXPECT_EQ(answers[2]["method"], "reactions.add");
    EXPECT_EQ(answers[2]["ok"], true);
    EXPECT_EQ(answers[3]["method"], "users.info");
    EXPECT_EQ(answers[3]["ok"], true);
    EXPECT_EQ(answers[3]["real_name"], "Alice Example");
    EXPECT_GE(answers[3].value("took_ms", 0), 1000) << "users.info came back before Retry-After";
    auto limited = run.saw("rate_limited");
    ASSERT_EQ(limited.size(), 1u);
    EXPECT_EQ(limited[0]["seconds"], 1);

    // The fake's side: the refused post is not in the channel, the other is, edited once; the
    // reaction is on it; users.info came again only after the wait.
    EXPECT_EQ(slack.calls("chat.postMessage").at(0).error, "channel_not_found");
    const auto posted = slack.messages();
    ASSERT_EQ(posted.size(), 1u);
    EXPECT_EQ(posted[0].channel, "C111");
    EXPECT_EQ(posted[0].ts, ts);
    EXPECT_EQ(posted[0].texts, (std::vector<std::string>{"Job #7: uptime on web-1 is running",
                                                         "Job #7: uptime on web-1 succeeded"}));
    EXPECT_FALSE(posted[0].blocks.is_null()) << "the blocks did not arrive";
    EXPECT_EQ(slack.reactions(), (std::vector<std::string>{"C111:" + ts + ":white_check_mark"}));
    const auto lookups = slack.calls("users.info");
    ASSERT_EQ(lookups.size(), 2u);
    EXPECT_EQ(lookups[0].status, 429);
    EXPECT_EQ(lookups[0].retry_after, 1);
    EXPECT_EQ(lookups[1].status, 200);
    EXPECT_GE(lookups[1].at - lookups[0].at, 1s) << "the SDK called again before Retry-After";
}

}  // namespace
}  // namespace hostline::testing
