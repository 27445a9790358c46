// The Slack adapter against the fake Slack (tests/fakes/slack): a real TLS Web API and a real
// Socket Mode link on 127.0.0.1, the adapter on this test's io_context. No controller: what is
// asserted is what the adapter hands the chat service and what Slack receives.
#include "chat/slack/slack_adapter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "chat/approval_action.hpp"
#include "chat/net/io_loop.hpp"
#include "fakes/slack/fake_slack.hpp"

namespace hostline::chat::slack {
namespace {

using namespace std::chrono_literals;
using hostline::testing::FakeSlack;
using hostline::testing::TestCa;
using net::testing::run_for;
using net::testing::run_until;

class SlackAdapterTest : public ::testing::Test {
  protected:
    SlackConfig config() const {
        SlackConfig c;
        c.app_token = FakeSlack::kAppToken;
        c.bot_token = FakeSlack::kBotToken;
        c.api_url = slack.api_url();
        c.ca_file = ca.ca_file();
        c.job_url_base = "https://hostline.test/jobs/";
        c.reconnect_min = 100ms;
        c.reconnect_max = 400ms;
        return c;
    }

    // Starts the adapter and waits for its first link.
    void start() {
        adapter = std::make_unique<SlackAdapter>(io, config());
        Adapter::Listener listener;
        listener.on_message = [this](const IncomingMessage& m) {
            received.push_back(m);
            if (slow_handler) std::this_thread::sleep_for(1500ms);
        };
        listener.on_disconnected = [this](const std::string&) { ++disconnects; };
        listener.on_approval_action = [this](const ApprovalAction& a) { clicks.push_back(a); };
        ASSERT_TRUE(adapter->start(listener).ok());
        ASSERT_TRUE(run_until(io, [this] { return slack.links_opened() >= 1; }));
        run_for(io, 100ms);  // the hello
    }

    Result<PostedMessage> post(const std::string& text, const std::string& thread = "") {
        std::optional<Result<PostedMessage>> out;
        adapter->post("C111", thread, text, [&](Result<PostedMessage> r) { out = std::move(r); });
        if (!run_until(io, [&] { return out.has_value(); })) return fail("no answer");
        return std::move(*out);
    }

    TestCa ca;
    FakeSlack slack{ca};
    boost::asio::io_context io;
    std::unique_ptr<SlackAdapter> adapter;
    std::vector<IncomingMessage> received;
    std::vector<ApprovalAction> clicks;
    int disconnects = 0;
    bool slow_handler = false;
};

TEST_F(SlackAdapterTest, AMentionBecomesAnAddressedMessageFromTheSlackUser) {
    start();
    std::string ts;
    slack.send_message("U222", "C111", "<@UBOT> run --on web-1 -- uptime", &ts);
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    const IncomingMessage& m = received.front();
    EXPECT_EQ(m.sender.id, "slack:U222");
    EXPECT_EQ(m.sender.display_name, "Alice Example") << "from users.info";
    EXPECT_EQ(m.channel, "C111");
    EXPECT_EQ(m.thread, ts) << "replies start a thread under the message";
    EXPECT_EQ(m.message_id, ts);
    EXPECT_EQ(m.text, "run --on web-1 -- uptime");
    EXPECT_TRUE(m.addressed);
    EXPECT_FALSE(m.direct_message);

    // The bot token for the Web API, the app-level token for the link only.
    for (const auto& call : slack.calls()) EXPECT_EQ(call.error, "") << call.method;
    ASSERT_EQ(slack.calls("auth.test").size(), 1u);
    ASSERT_EQ(slack.calls("apps.connections.open").size(), 1u);

    slack.send_message("U222", "C111", "just chatting");
    slack.send_message("U222", "D777", "help");
    ASSERT_TRUE(run_until(io, [this] { return received.size() == 3; }));
    EXPECT_FALSE(received[1].addressed) << "no mention: ordinary chat";
    EXPECT_TRUE(received[2].direct_message);
    EXPECT_TRUE(received[2].addressed);
    EXPECT_EQ(slack.calls("users.info").size(), 1u) << "the name is cached";
}

TEST_F(SlackAdapterTest, EachEnvelopeIsAckedBeforeItIsHandled) {
    // The handler takes 1.5 s; Slack redelivers what is not acked within 0.5 s.
    slack.set_ack_timeout(500ms);
    start();
    // The sender's name is cached after this one, so the next is handled with no call between.
    slack.send_message("U222", "C111", "<@UBOT> hello");
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    slow_handler = true;
    const std::string envelope = slack.send_message("U222", "C111", "<@UBOT> help");
    ASSERT_TRUE(run_until(io, [this] { return received.size() == 2; }));
    run_for(io, 1000ms);
    EXPECT_TRUE(slack.wait_for_ack(envelope, 100ms));
    EXPECT_EQ(slack.deliveries(envelope), 1) << "acked late: Slack sent it again";
    EXPECT_EQ(received.size(), 2u);
}

TEST_F(SlackAdapterTest, ARedeliveredEventIsHandledOnce) {
    start();
    const std::string first = slack.send_message("U222", "C111", "<@UBOT> help");
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    const std::string again = slack.redeliver(first);
    ASSERT_TRUE(run_until(io, [&] { return slack.wait_for_ack(again, 1ms); }))
        << "a redelivery is acked too, or Slack keeps sending it";
    run_for(io, 300ms);
    EXPECT_EQ(received.size(), 1u);
}

TEST_F(SlackAdapterTest, ARefreshRequestReconnectsWithAFreshUrlBeforeDroppingTheOldLink) {
    start();
    slack.send_disconnect("refresh_requested");
    ASSERT_TRUE(run_until(io, [this] { return slack.links_opened() >= 2; }));
    const auto tickets = slack.link_tickets();
    EXPECT_NE(tickets[0], tickets[1]) << "a fresh apps.connections.open for the new link";
    EXPECT_EQ(slack.calls("apps.connections.open").size(), 2u);
    EXPECT_EQ(disconnects, 0) << "the link was replaced, never lost";
    run_for(io, 200ms);
    slack.send_message("U222", "C111", "<@UBOT> after the refresh");
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    EXPECT_EQ(received.back().text, "after the refresh");

    slack.send_disconnect("too_many_websockets");
    ASSERT_TRUE(run_until(io, [this] { return slack.links_opened() >= 3; }));
    run_for(io, 200ms);
    slack.send_message("U222", "C111", "<@UBOT> after closing first");
    ASSERT_TRUE(run_until(io, [this] { return received.size() == 2; }));
}

TEST_F(SlackAdapterTest, ADroppedSocketReconnectsAndEventsFlowAgain) {
    start();
    slack.send_message("U222", "C111", "<@UBOT> before the drop");
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    run_for(io, 300ms);
    received.clear();
    const auto dropped = std::chrono::steady_clock::now();
    slack.drop_link();
    ASSERT_TRUE(run_until(io, [this] { return slack.links_opened() >= 2; }));
    EXPECT_LT(std::chrono::steady_clock::now() - dropped, 5s)
        << "the drop was noticed only by the idle timeout";
    EXPECT_EQ(disconnects, 1);
    EXPECT_EQ(slack.calls("apps.connections.open").size(), 2u) << "a fresh URL";
    run_for(io, 200ms);
    slack.send_message("U222", "C111", "<@UBOT> still there?");
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
}

TEST_F(SlackAdapterTest, ARateLimitStormSendsNothingBeforeRetryAfterAndLosesNothing) {
    start();
    slack.rate_limit("chat.postMessage", 3, 1s);
    constexpr int kPosts = 20;
    int answered = 0;
    std::vector<std::string> failures;
    for (int i = 0; i < kPosts; ++i)
        adapter->post("C111", "", "reply " + std::to_string(i), [&](Result<PostedMessage> r) {
            ++answered;
            if (!r) failures.push_back(r.error().message);
        });
    ASSERT_TRUE(run_until(
        io, [&] { return answered == kPosts; }, 20s));
    EXPECT_TRUE(failures.empty()) << failures.front();

    const auto calls = slack.calls("chat.postMessage");
    int limited = 0;
    for (std::size_t i = 0; i < calls.size(); ++i) {
        if (calls[i].status != 429) continue;
        ++limited;
        ASSERT_LT(i + 1, calls.size());
        EXPECT_GE(calls[i + 1].at - calls[i].at, std::chrono::seconds(calls[i].retry_after))
            << "call " << i + 1 << " came before Retry-After had passed";
    }
    EXPECT_EQ(limited, 3);
    const auto posted = slack.messages();
    ASSERT_EQ(posted.size(), static_cast<std::size_t>(kPosts));
    for (int i = 0; i < kPosts; ++i) EXPECT_EQ(posted[i].text(), "reply " + std::to_string(i));
}

TEST_F(SlackAdapterTest, EditsOfOneMessageAreCoalescedToOnePerSecondAndTheLastTextWins) {
    start();
    auto message = post("job #7: 0/1 hosts done");
    ASSERT_TRUE(message.ok()) << message.error().message;
    for (int i = 1; i <= 30; ++i) {
        adapter->edit(*message, "job #7: progress " + std::to_string(i));
        run_for(io, 50ms);
    }
    run_for(io, 1500ms);
    const auto updates = slack.calls("chat.update");
    ASSERT_GE(updates.size(), 2u);
    EXPECT_LE(updates.size(), 4u) << "30 edits in 1.5 s";
    for (std::size_t i = 1; i < updates.size(); ++i)
        EXPECT_GE(updates[i].at - updates[i - 1].at, 900ms);
    EXPECT_EQ(slack.messages().at(0).text(), "job #7: progress 30");
}

TEST_F(SlackAdapterTest, TextIsEscapedAndALongReplyIsCutWithTheJobLink) {
    start();
    ASSERT_TRUE(post("a <!channel> & b").ok());
    EXPECT_EQ(slack.messages().at(0).text(), "a &lt;!channel&gt; &amp; b")
        << "nobody's output may ping the channel";

    std::string long_text = "job #42 succeeded";
    for (int i = 0; i < 400; ++i) long_text += "\nweb-1 | <line> " + std::to_string(i);
    auto posted = post(long_text, "1700000000.000001");
    ASSERT_TRUE(posted.ok());
    const auto message = slack.messages().at(1);
    EXPECT_EQ(message.thread_ts, "1700000000.000001");
    EXPECT_LE(message.text().size(), 4000u);
    EXPECT_NE(message.text().find("<https://hostline.test/jobs/42|job #42>"), std::string::npos)
        << message.text().substr(message.text().size() - 200);
}

TEST_F(SlackAdapterTest, AClickOnApproveOrDenyBecomesAnApprovalAction) {
    start();
    std::optional<Result<PostedMessage>> request;
    adapter->post_approval_request("C111", "", "approval needed for job #42", 42,
                                   [&](Result<PostedMessage> r) { request = std::move(r); });
    ASSERT_TRUE(run_until(io, [&] { return request.has_value(); }));
    ASSERT_TRUE(request->ok());
    EXPECT_NE(slack.messages().at(0).blocks.dump().find("hostline_approve"), std::string::npos);

    slack.send_click("U222", "C111", (*request)->message_id, "hostline_deny", 42);
    ASSERT_TRUE(run_until(io, [this] { return !clicks.empty(); }));
    EXPECT_EQ(clicks[0].user.id, "slack:U222");
    EXPECT_EQ(clicks[0].user.display_name, "Alice Example");
    EXPECT_EQ(clicks[0].choice, ApprovalChoice::deny);
    EXPECT_EQ(clicks[0].job_id, 42);
    EXPECT_EQ(clicks[0].request.channel, "C111");
    EXPECT_EQ(clicks[0].request.message_id, (*request)->message_id);

    adapter->show_decision(clicks[0].request, "job #42 was denied by slack:U222");
    ASSERT_TRUE(run_until(io, [this] { return slack.calls("chat.update").size() == 1; }));
    const auto decided = slack.messages().at(0);
    EXPECT_EQ(decided.text(), "job #42 was denied by slack:U222");
    EXPECT_TRUE(decided.blocks.empty()) << "the buttons are gone: " << decided.blocks.dump();
}

TEST_F(SlackAdapterTest, ReactionsAreAddedOnceAndABadConfigurationIsRefused) {
    start();
    IncomingMessage m;
    m.channel = "C111";
    m.message_id = "1700000000.000009";
    adapter->react(m, "eyes");
    adapter->react(m, "eyes");
    ASSERT_TRUE(run_until(io, [this] { return slack.calls("reactions.add").size() == 2; }));
    EXPECT_EQ(slack.reactions(), std::vector<std::string>{"C111:1700000000.000009:eyes"});

    SlackConfig bad = config();
    bad.api_url = "http://127.0.0.1:1/api/";
    SlackAdapter plain(io, bad);
    auto refused = plain.start({});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("https://"), std::string::npos);
    bad = config();
    bad.bot_token.clear();
    SlackAdapter tokenless(io, bad);
    ASSERT_FALSE(tokenless.start({}).ok());
}

// ---- Events API mode: Slack POSTs to /chat/slack/events, the adapter answers ---------------

class SlackEventsApiTest : public SlackAdapterTest {
  protected:
    void start_events_api() {
        SlackConfig c = config();
        c.mode = SlackMode::events_api;
        c.app_token.clear();  // not needed: there is no link
        c.signing_secret = FakeSlack::kSigningSecret;
        adapter = std::make_unique<SlackAdapter>(io, c);
        Adapter::Listener listener;
        listener.on_message = [this](const IncomingMessage& m) { received.push_back(m); };
        listener.on_approval_action = [this](const ApprovalAction& a) { clicks.push_back(a); };
        ASSERT_TRUE(adapter->start(listener).ok());
        ASSERT_TRUE(run_until(io, [this] { return slack.calls("auth.test").size() == 1; }));
        run_for(io, 100ms);  // the answer read
    }

    InboundAnswer deliver(const FakeSlack::SignedRequest& request, HeaderList extra_headers = {}) {
        InboundCall call{request.headers, request.body};
        for (auto& header : extra_headers) call.headers.push_back(std::move(header));
        std::optional<InboundAnswer> answer;
        adapter->receive(std::move(call), [&](InboundAnswer a) { answer = std::move(a); });
        EXPECT_TRUE(answer.has_value()) << "answered before anything is handled";
        return answer.value_or(InboundAnswer{0, "", "no answer"});
    }
};

TEST_F(SlackEventsApiTest, ASignedMessageIsAnsweredAtOnceAndHandledLikeAnEnvelope) {
    start_events_api();
    EXPECT_EQ(slack.links_opened(), 0u) << "no Socket Mode link in Events API mode";
    EXPECT_TRUE(slack.calls("apps.connections.open").empty());

    std::string ts;
    const auto request = slack.message_request("U222", "C111", "<@UBOT> run -- uptime", &ts);
    const InboundAnswer answer = deliver(request);
    EXPECT_EQ(answer.status, 200u) << answer.body;
    ASSERT_TRUE(run_until(io, [this] { return !received.empty(); }));
    const IncomingMessage& m = received.front();
    EXPECT_EQ(m.sender.id, "slack:U222");
    EXPECT_EQ(m.sender.display_name, "Alice Example") << "from users.info";
    EXPECT_EQ(m.channel, "C111");
    EXPECT_EQ(m.channel_name, "#ops-C111") << "from conversations.info";
    EXPECT_EQ(m.thread, ts);
    EXPECT_EQ(m.text, "run -- uptime");
    EXPECT_TRUE(m.addressed);

    // Slack retries a delivery it thinks failed, with X-Slack-Retry-Num: handled once.
    EXPECT_EQ(
        deliver(request, {{"X-Slack-Retry-Num", "1"}, {"X-Slack-Retry-Reason", "timeout"}}).status,
        200u);
    run_for(io, 200ms);
    EXPECT_EQ(received.size(), 1u);

    // A second message in the channel: both names come from the cache.
    ASSERT_EQ(deliver(slack.message_request("U222", "C111", "<@UBOT> hosts")).status, 200u);
    ASSERT_TRUE(run_until(io, [this] { return received.size() == 2; }));
    EXPECT_EQ(slack.calls("users.info").size(), 1u);
    EXPECT_EQ(slack.calls("conversations.info").size(), 1u);
}

TEST_F(SlackEventsApiTest, UrlVerificationIsAnsweredWithTheChallengeAsPlainText) {
    start_events_api();
    const InboundAnswer answer = deliver(FakeSlack::url_verification_request());
    EXPECT_EQ(answer.status, 200u);
    EXPECT_EQ(answer.content_type, "text/plain");
    EXPECT_EQ(answer.body, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

TEST_F(SlackEventsApiTest, AForgedStaleOrUnsignedRequestIs401AndNothingIsHandled) {
    start_events_api();
    const std::string body = slack.message_request("U222", "C111", "<@UBOT> run -- id").body;
    struct Case {
        const char* name;
        FakeSlack::SignedRequest request;
        const char* says;
    };
    std::vector<Case> cases{
        {"another secret", FakeSlack::sign("application/json", body, 0s, "not-the-secret"),
         "does not match"},
        {"six minutes old", FakeSlack::sign("application/json", body, 360s), "more than 300 s"},
        {"from the future", FakeSlack::sign("application/json", body, -360s), "more than 300 s"},
        {"no signature", {{{"Content-Type", "application/json"}}, body}, "X-Slack"},
    };
    // A body changed after signing: the signature covers the raw bytes.
    auto tampered = slack.message_request("U222", "C111", "<@UBOT> run -- id");
    tampered.body.replace(tampered.body.find("run -- id"), 9, "run -- rm");
    cases.push_back({"changed body", tampered, "does not match"});
    for (const Case& c : cases) {
        const InboundAnswer answer = deliver(c.request);
        EXPECT_EQ(answer.status, 401u) << c.name;
        EXPECT_NE(answer.body.find(c.says), std::string::npos) << c.name << ": " << answer.body;
        EXPECT_EQ(answer.body.find(FakeSlack::kSigningSecret), std::string::npos) << c.name;
    }
    run_for(io, 200ms);
    EXPECT_TRUE(received.empty());

    // Signed but unreadable: 400, saying why.
    const InboundAnswer junk = deliver(FakeSlack::sign("application/json", "{not json"));
    EXPECT_EQ(junk.status, 400u);
    const InboundAnswer no_payload =
        deliver(FakeSlack::sign("application/x-www-form-urlencoded", "token=x&team=T1"));
    EXPECT_EQ(no_payload.status, 400u);
    EXPECT_NE(no_payload.body.find("payload"), std::string::npos) << no_payload.body;
}

TEST_F(SlackEventsApiTest, AButtonClickArrivesAsAFormAndBecomesAnApprovalAction) {
    start_events_api();
    const InboundAnswer answer =
        deliver(slack.click_request("U333", "C111", "1700000000.000100", "hostline_approve", 42));
    EXPECT_EQ(answer.status, 200u) << answer.body;
    ASSERT_TRUE(run_until(io, [this] { return !clicks.empty(); }));
    EXPECT_EQ(clicks[0].job_id, 42);
    EXPECT_EQ(clicks[0].choice, ApprovalChoice::approve);
    EXPECT_EQ(clicks[0].user.id, "slack:U333");
    EXPECT_EQ(clicks[0].request.message_id, "1700000000.000100");
}

TEST_F(SlackEventsApiTest, SocketModeNeedsTheAppTokenAndTheEventsApiTheSigningSecret) {
    SlackConfig socket = config();
    socket.app_token.clear();
    auto refused = SlackAdapter(io, socket).start({});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("app-level token"), std::string::npos);

    SlackConfig events = config();
    events.mode = SlackMode::events_api;
    refused = SlackAdapter(io, events).start({});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("signing secret"), std::string::npos);

    // A Socket Mode adapter does not take HTTP deliveries.
    start();
    std::optional<InboundAnswer> answer;
    adapter->receive(
        {FakeSlack::url_verification_request().headers, FakeSlack::url_verification_request().body},
        [&](InboundAnswer a) { answer = std::move(a); });
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ(answer->status, 404u);
}

}  // namespace
}  // namespace hostline::chat::slack
