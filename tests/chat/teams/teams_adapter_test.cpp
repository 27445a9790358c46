// The Teams adapter against the fake Bot Framework over TLS: inbound activities validated by
// their JWT, replies and cards through the connector with a client-credentials token, clicks
// answered with the decided card, 429s waited out.
#include "chat/teams/teams_adapter.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <vector>

#include "chat/approval_action.hpp"
#include "tests/chat/net/io_loop.hpp"
#include "tests/fakes/teams/fake_bot_framework.hpp"

namespace hostline::chat::teams {
namespace {

using net::testing::run_until;
using test::FakeBotFramework;

constexpr const char* kAppId = "00000000-0000-0000-0000-00000000a99";
constexpr const char* kPassword = "app-secret~with&odd=chars";
constexpr const char* kConversation = "a:1personal-chat;with:odd@chars";

class TeamsAdapterTest : public ::testing::Test {
  protected:
    TeamsAdapterTest() : fake_(ca_, kAppId, kPassword) {
        TeamsConfig config;
        config.app_id = kAppId;
        config.app_password = kPassword;
        config.openid_metadata_url = fake_.openid_metadata_url();
        config.token_url = fake_.token_url();
        config.ca_file = ca_.ca_file();
        adapter_ = std::make_unique<TeamsAdapter>(io_, config);
        Adapter::Listener listener;
        listener.on_message = [this](const IncomingMessage& m) { messages_.push_back(m); };
        listener.on_approval_action = [this](const ApprovalAction& a) {
            clicks_.push_back(a);
            if (on_click_) on_click_(a);
        };
        EXPECT_TRUE(adapter_->start(std::move(listener)));
    }

    InboxAnswer deliver(const nlohmann::json& activity, const std::string& authorization) {
        std::optional<InboxAnswer> answer;
        adapter_->receive(authorization, activity.dump(), [&](InboxAnswer a) { answer = a; });
        EXPECT_TRUE(run_until(io_, [&] { return answer.has_value(); }));
        return answer.value_or(InboxAnswer{0, "no answer"});
    }
    InboxAnswer deliver(const nlohmann::json& activity) {
        return deliver(activity, "Bearer " + fake_.token(fake_.valid_claims()));
    }

    Result<PostedMessage> post(const std::string& channel, const std::string& text) {
        std::optional<Result<PostedMessage>> posted;
        adapter_->post(channel, "", text, [&](Result<PostedMessage> p) { posted = std::move(p); });
        EXPECT_TRUE(run_until(io_, [&] { return posted.has_value(); }));
        return posted.value_or(fail("no answer"));
    }

    boost::asio::io_context io_;
    hostline::testing::TestCa ca_;
    FakeBotFramework fake_;
    std::unique_ptr<TeamsAdapter> adapter_;
    std::vector<IncomingMessage> messages_;
    std::vector<ApprovalAction> clicks_;
    std::function<void(const ApprovalAction&)> on_click_;
};

TEST_F(TeamsAdapterTest, ValidatedMessageReachesTheListenerAndTheReplyGoesToItsConversation) {
    auto answer = deliver(fake_.message(kConversation, "aad-alice", "Alice", "run uptime"));
    EXPECT_EQ(answer.status, 200u);
    ASSERT_EQ(messages_.size(), 1u);
    EXPECT_EQ(messages_[0].sender.id, "teams:aad-alice");
    EXPECT_EQ(messages_[0].sender.display_name, "Alice");
    EXPECT_EQ(messages_[0].channel, kConversation);
    EXPECT_EQ(messages_[0].text, "run uptime");

    auto posted = post(kConversation, "load <b>1.0</b> *x*");
    ASSERT_TRUE(posted) << posted.error().message;
    auto sent = fake_.activities();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].method, "POST");
    EXPECT_EQ(sent[0].conversation_id, kConversation);
    EXPECT_EQ(sent[0].authorization, "Bearer fake-connector-token-1");
    // Shown as typed: no HTML, no markdown emphasis.
    EXPECT_EQ(sent[0].body["text"], "load &lt;b&gt;1.0&lt;/b&gt; \\*x\\*");
    EXPECT_EQ(posted->channel, kConversation);
    EXPECT_EQ(posted->message_id, sent[0].activity_id);

    // The token is cached: an edit uses it again, replacing the same activity.
    adapter_->edit(*posted, "load 2.0");
    ASSERT_TRUE(run_until(io_, [&] { return fake_.activities().size() == 2; }));
    sent = fake_.activities();
    EXPECT_EQ(sent[1].method, "PUT");
    EXPECT_EQ(sent[1].activity_id, posted->message_id);
    EXPECT_EQ(sent[1].body["text"], "load 2.0");
    EXPECT_EQ(fake_.tokens_issued(), 1);
}

TEST_F(TeamsAdapterTest, AChannelMessageThatMentionsTheBotIsAddressedToItWithoutTheMention) {
    const std::string channel = "19:ops@thread.tacv2";
    auto activity = fake_.message(channel + ";messageid=1700000000001", "aad-alice", "Alice",
                                  "<at>Hostline</at> greet --on web-1");
    activity["conversation"]["conversationType"] = "channel";
    activity["entities"] = nlohmann::json::array(
        {{{"type", "mention"},
          {"text", "<at>Hostline</at>"},
          {"mentioned", {{"id", activity["recipient"]["id"]}, {"name", "Hostline"}}}}});
    ASSERT_EQ(deliver(activity).status, 200u);
    ASSERT_EQ(messages_.size(), 1u);
    EXPECT_EQ(messages_[0].text, "greet --on web-1");
    EXPECT_EQ(messages_[0].channel, channel);
    EXPECT_EQ(messages_[0].thread, "1700000000001");
    EXPECT_TRUE(messages_[0].addressed) << "addressed to the bot, so a command";
    EXPECT_FALSE(messages_[0].direct_message) << "in a channel, not a direct message";

    // The reply goes to the thread.
    ASSERT_TRUE(post(channel + ";messageid=1700000000001", "done"));
    ASSERT_EQ(fake_.activities().size(), 1u);
    EXPECT_EQ(fake_.activities()[0].conversation_id, channel + ";messageid=1700000000001");

    // Without the mention (a channel message the bot may read anyway) it is not addressed.
    auto plain = fake_.message(channel, "aad-alice", "Alice", "lunch?");
    plain["conversation"]["conversationType"] = "channel";
    ASSERT_EQ(deliver(plain).status, 200u);
    ASSERT_EQ(messages_.size(), 2u);
    EXPECT_FALSE(messages_[1].addressed);
    EXPECT_FALSE(messages_[1].direct_message);
}

TEST_F(TeamsAdapterTest, ForgedTokensAre401AndNothingInTheActivityIsUsed) {
    auto with = [&](auto change) {
        auto claims = fake_.valid_claims();
        change(claims);
        return "Bearer " + fake_.token(claims);
    };
    const std::vector<std::pair<std::string, std::string>> forged = {
        {"wrong issuer", with([](auto& c) { c.issuer = "https://evil.example"; })},
        {"wrong audience", with([](auto& c) { c.audience = "someone-else"; })},
        {"expired", with([](auto& c) {
             c.expires_at -= 3600 + 600;
             c.not_before -= 7200;
         })},
        {"bad signature", with([](auto& c) { c.sign_with_stranger = true; })},
        {"unknown key", with([](auto& c) { c.kid = "no-such-key"; })},
        {"other serviceurl", with([](auto& c) { c.service_url = "https://evil.example/"; })},
        {"missing", ""},
    };
    for (const auto& [what, authorization] : forged) {
        auto answer = deliver(fake_.message(kConversation, "aad-mallory", "M", "run rm -rf /"),
                              authorization);
        EXPECT_EQ(answer.status, 401u) << what;
        EXPECT_EQ(answer.body.find("eyJ"), std::string::npos) << what << ": token in the error";
    }
    EXPECT_TRUE(messages_.empty());
    // Its serviceUrl was not trusted either: the bot cannot answer there.
    auto posted = post(kConversation, "hello");
    ASSERT_FALSE(posted);
    EXPECT_NE(posted.error().message.find("no serviceUrl"), std::string::npos);
    EXPECT_TRUE(fake_.activities().empty());
}

TEST_F(TeamsAdapterTest, NotAnActivityIs400AndAnIgnoredOneIs200) {
    std::optional<InboxAnswer> answer;
    adapter_->receive("Bearer " + fake_.token(fake_.valid_claims()), "not json",
                      [&](InboxAnswer a) { answer = a; });
    ASSERT_TRUE(run_until(io_, [&] { return answer.has_value(); }));
    EXPECT_EQ(answer->status, 400u);

    auto update = fake_.message(kConversation, "aad-alice", "Alice", "");
    update["type"] = "conversationUpdate";
    EXPECT_EQ(deliver(update).status, 200u);
    EXPECT_TRUE(messages_.empty());
}

TEST_F(TeamsAdapterTest, ACardClickIsHandedOnAndAnsweredWithTheDecidedCard) {
    ASSERT_EQ(deliver(fake_.message(kConversation, "aad-alice", "Alice", "run deploy")).status,
              200u);
    std::optional<Result<PostedMessage>> posted;
    adapter_->post_approval_request(kConversation, "", "job #7 needs approval\nrequested by Alice",
                                    7, [&](Result<PostedMessage> p) { posted = std::move(p); });
    ASSERT_TRUE(run_until(io_, [&] { return posted.has_value(); }));
    ASSERT_TRUE(*posted) << posted->error().message;
    auto sent = fake_.activities();
    ASSERT_EQ(sent.size(), 1u);
    const auto& card = sent[0].body["attachments"][0]["content"];
    // Card text is escaped for markdown, so "#" shows as typed.
    EXPECT_EQ(card["body"][0]["text"], "job \\#7 needs approval");
    EXPECT_EQ(card["actions"][0]["data"]["hostline"], "approve");
    EXPECT_EQ(card["actions"][0]["data"]["job"], 7);

    // The chat service decides at once and replaces the card.
    on_click_ = [&](const ApprovalAction& action) {
        adapter_->show_decision(action.request, "job #7 approved by Bob: running deploy");
    };
    auto answer = deliver(
        fake_.card_click(kConversation, (*posted)->message_id, "aad-bob", "Bob", "approve", 7));
    ASSERT_EQ(answer.status, 200u);
    ASSERT_EQ(clicks_.size(), 1u);
    EXPECT_EQ(clicks_[0].user.id, "teams:aad-bob");
    EXPECT_EQ(clicks_[0].choice, ApprovalChoice::approve);
    EXPECT_EQ(clicks_[0].job_id, 7);
    EXPECT_EQ(clicks_[0].request.message_id, (*posted)->message_id);
    auto invoke = nlohmann::json::parse(answer.body);
    EXPECT_EQ(invoke["statusCode"], 200);
    EXPECT_FALSE(invoke["value"].contains("actions"));
    EXPECT_EQ(invoke["value"]["body"].back()["text"], "job \\#7 approved by Bob: running deploy");

    ASSERT_TRUE(run_until(io_, [&] { return fake_.activities().size() == 2; }));
    sent = fake_.activities();
    EXPECT_EQ(sent[1].method, "PUT");
    EXPECT_EQ(sent[1].activity_id, (*posted)->message_id);
    EXPECT_FALSE(sent[1].body["attachments"][0]["content"].contains("actions"));
}

TEST_F(TeamsAdapterTest, A429IsWaitedOutForItsRetryAfterAndNothingIsLost) {
    ASSERT_EQ(deliver(fake_.message(kConversation, "aad-alice", "Alice", "hi")).status, 200u);
    fake_.throttle(1, 1);
    const auto start = std::chrono::steady_clock::now();
    std::vector<Result<PostedMessage>> posted;
    for (int i = 0; i < 3; ++i)
        adapter_->post(kConversation, "", "line " + std::to_string(i),
                       [&](Result<PostedMessage> p) { posted.push_back(std::move(p)); });
    ASSERT_TRUE(run_until(io_, [&] { return posted.size() == 3; }));
    EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(950));
    for (const auto& p : posted) EXPECT_TRUE(p) << p.error().message;
    EXPECT_EQ(fake_.activities().size(), 3u);
}

TEST(TeamsAdapterSecrets, AWrongSecretFailsTheSendWithTheOAuthErrorAndNeverShowsTheSecret) {
    boost::asio::io_context io;
    hostline::testing::TestCa ca;
    FakeBotFramework fake(ca, kAppId, kPassword);
    TeamsConfig config;
    config.app_id = kAppId;
    config.app_password = "not-the-secret-42";
    config.openid_metadata_url = fake.openid_metadata_url();
    config.token_url = fake.token_url();
    config.ca_file = ca.ca_file();
    TeamsAdapter adapter(io, config);
    int messages = 0;
    Adapter::Listener listener;
    listener.on_message = [&](const IncomingMessage&) { ++messages; };
    ASSERT_TRUE(adapter.start(std::move(listener)));

    std::optional<InboxAnswer> answer;
    adapter.receive("Bearer " + fake.token(fake.valid_claims()),
                    fake.message(kConversation, "aad-alice", "Alice", "hi").dump(),
                    [&](InboxAnswer a) { answer = a; });
    ASSERT_TRUE(run_until(io, [&] { return answer.has_value(); }));
    ASSERT_EQ(answer->status, 200u);
    EXPECT_EQ(messages, 1);

    std::optional<Result<PostedMessage>> posted;
    adapter.post(kConversation, "", "hello", [&](Result<PostedMessage> p) { posted = p; });
    ASSERT_TRUE(run_until(io, [&] { return posted.has_value(); }));
    ASSERT_FALSE(*posted);
    EXPECT_NE(posted->error().message.find("invalid_client"), std::string::npos)
        << posted->error().message;
    EXPECT_EQ(posted->error().message.find("not-the-secret-42"), std::string::npos);
    EXPECT_TRUE(fake.activities().empty());
}

TEST(TeamsAdapterSecrets, StartRefusesAMissingSecretOrAPlainUrl) {
    boost::asio::io_context io;
    TeamsConfig config;
    config.app_id = kAppId;
    EXPECT_FALSE(TeamsAdapter(io, config).start({}));
    config.app_password = kPassword;
    config.token_url = "http://login.example/token";
    auto started = TeamsAdapter(io, config).start({});
    ASSERT_FALSE(started);
    EXPECT_NE(started.error().message.find("token_url"), std::string::npos)
        << started.error().message;
}

}  // namespace
}  // namespace hostline::chat::teams
