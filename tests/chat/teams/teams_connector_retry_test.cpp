// The Teams adapter against a fake Bot Framework whose connector fails for a while: what is
// tried again and when, what is delivered (once), in which order, and what is reported.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <ctime>
#include <optional>
#include <vector>

#include "chat/teams/connector_retry.hpp"
#include "chat/teams/teams_adapter.hpp"
#include "tests/chat/net/io_loop.hpp"
#include "tests/fakes/teams/fake_bot_framework.hpp"

namespace hostline::chat::teams {
namespace {

using namespace std::chrono_literals;
using net::testing::run_for;
using net::testing::run_until;
using test::FakeBotFramework;
using test::ScriptedAnswer;
using test::SinkCall;
using SystemClock = std::chrono::system_clock;

constexpr const char* kAppId = "00000000-0000-0000-0000-00000000b17";
constexpr const char* kPassword = "retry-secret";
constexpr const char* kConversation = "a:1retry-chat";
constexpr const char* kOtherConversation = "a:1other-chat";

// An IMF-fixdate, as a server writes Retry-After.
std::string http_date(SystemClock::time_point at) {
    const std::time_t t = SystemClock::to_time_t(at);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return text;
}

std::vector<SinkCall> calls_to(const std::vector<SinkCall>& calls,
                               const std::string& conversation) {
    std::vector<SinkCall> out;
    for (const auto& call : calls)
        if (call.conversation_id == conversation) out.push_back(call);
    return out;
}

class TeamsConnectorRetryTest : public ::testing::Test {
  protected:
    TeamsConnectorRetryTest() : fake_(ca_, kAppId, kPassword) { start_adapter(30s); }

    // A new adapter that has heard from both conversations (so it knows where to answer).
    void start_adapter(std::chrono::milliseconds request_timeout) {
        TeamsConfig config;
        config.app_id = kAppId;
        config.app_password = kPassword;
        config.openid_metadata_url = fake_.openid_metadata_url();
        config.token_url = fake_.token_url();
        config.ca_file = ca_.ca_file();
        config.request_timeout = request_timeout;
        adapter_ = std::make_unique<TeamsAdapter>(io_, config);
        ASSERT_TRUE(adapter_->start({}));
        for (const char* conversation : {kConversation, kOtherConversation}) {
            std::optional<InboxAnswer> answer;
            adapter_->receive("Bearer " + fake_.token(fake_.valid_claims()),
                              fake_.message(conversation, "aad-alice", "Alice", "hi").dump(),
                              [&](InboxAnswer a) { answer = a; });
            ASSERT_TRUE(run_until(io_, [&] { return answer.has_value(); }));
            ASSERT_EQ(answer->status, 200u) << answer->body;
        }
    }

    // Posts and collects what `done` gets, in the order it gets it.
    void post(const std::string& conversation, const std::string& text) {
        adapter_->post(conversation, "", text, [this, text](Result<PostedMessage> p) {
            outcomes_.emplace_back(text, std::move(p));
        });
    }
    bool wait_for_outcomes(std::size_t count, std::chrono::milliseconds limit = 15s) {
        return run_until(
            io_, [&] { return outcomes_.size() >= count; }, limit);
    }

    boost::asio::io_context io_;
    hostline::testing::TestCa ca_;
    FakeBotFramework fake_;
    std::unique_ptr<TeamsAdapter> adapter_;
    std::vector<std::pair<std::string, Result<PostedMessage>>> outcomes_;
};

TEST_F(TeamsConnectorRetryTest, A502ThenSuccessDeliversTheReplyOnce) {
    fake_.answer_next(1, {502, {}, "Bad Gateway"});
    post(kConversation, "uptime: 12 days");
    ASSERT_TRUE(wait_for_outcomes(1));
    const auto& [text, posted] = outcomes_[0];
    ASSERT_TRUE(posted) << posted.error().message;
    run_for(io_, 300ms);  // nothing more goes out afterwards

    const auto delivered = fake_.activities();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].body["text"], "uptime: 12 days");
    EXPECT_EQ(posted->message_id, delivered[0].activity_id);
    const auto calls = fake_.calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].status, 502);
    EXPECT_EQ(calls[1].status, 201);
    EXPECT_GE(calls[1].received - calls[0].received, kFirstRetryWait / 2) << "waited first";
}

TEST_F(TeamsConnectorRetryTest, EachPassingFailureIsTriedAgainAfterALongerWait) {
    // The connector still creating the conversation, then its front ends restarting.
    fake_.answer_next(1, {412, {}, R"({"error":{"code":"PreconditionFailed"}})"});
    fake_.answer_next(1, {503});
    fake_.answer_next(1, {504});
    post(kConversation, "deploy started");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_TRUE(outcomes_[0].second) << outcomes_[0].second.error().message;
    ASSERT_EQ(fake_.activities().size(), 1u);
    const auto calls = fake_.calls();
    ASSERT_EQ(calls.size(), 4u);
    // Waits in [250, 500], [500, 1000] and [1000, 2000] ms.
    EXPECT_GE(calls[1].received - calls[0].received, 250ms);
    EXPECT_GE(calls[2].received - calls[1].received, 500ms);
    EXPECT_GE(calls[3].received - calls[2].received, 1000ms);
}

TEST_F(TeamsConnectorRetryTest, ACallThatNeverGetsAnAnswerIsTriedAgain) {
    start_adapter(1s);
    // The first try's answer comes long after the bot's timeout: to the bot, no answer at all.
    fake_.answer_next(1, {200, {}, R"({"id":"never-seen"})", 4s});
    post(kConversation, "backup done");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_TRUE(outcomes_[0].second) << outcomes_[0].second.error().message;
    const auto delivered = fake_.activities();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].body["text"], "backup done");
    EXPECT_EQ(outcomes_[0].second->message_id, delivered[0].activity_id);
    EXPECT_EQ(fake_.calls().size(), 2u);
}

TEST_F(TeamsConnectorRetryTest, A429WithAnHttpDateHoldsEverySendUntilThatDate) {
    // Two whole seconds past the next whole second: a reading that fell back to 1 s would send
    // before it.
    const auto until = std::chrono::ceil<std::chrono::seconds>(SystemClock::now()) + 2s;
    fake_.answer_next(1, {429, {{"Retry-After", http_date(until)}}, ""});
    post(kConversation, "first");
    ASSERT_TRUE(run_until(io_, [&] { return fake_.calls().size() == 1; }));
    // The fake has answered; let the adapter read the 429 (posts given before that are free to
    // go, as the connector had said nothing yet).
    run_for(io_, 500ms);
    // Given while the 429 is being waited out: the other conversation waits too.
    post(kConversation, "second");
    post(kOtherConversation, "elsewhere");
    ASSERT_TRUE(wait_for_outcomes(3));
    for (const auto& [text, posted] : outcomes_)
        EXPECT_TRUE(posted) << text << ": " << posted.error().message;

    const auto calls = fake_.calls();
    ASSERT_EQ(calls.size(), 4u);
    EXPECT_EQ(calls[0].status, 429);
    for (std::size_t i = 1; i < calls.size(); ++i)
        EXPECT_GE(calls[i].received, until)
            << calls[i].text << " was sent "
            << std::chrono::duration_cast<std::chrono::milliseconds>(until - calls[i].received)
                   .count()
            << " ms before Retry-After";
    const auto delivered = fake_.activities();
    ASSERT_EQ(delivered.size(), 3u);
    EXPECT_EQ(calls_to(calls, kConversation)[1].text, "first");  // the held one goes first
}

TEST_F(TeamsConnectorRetryTest, RepliesInAConversationKeepTheirOrderWhileOneIsRetried) {
    // The first try of "one" is refused for two seconds.
    fake_.answer_next(1, {503, {{"Retry-After", "2"}}, ""});
    post(kConversation, "one");
    post(kConversation, "two");
    post(kConversation, "three");
    ASSERT_TRUE(run_until(io_, [&] { return !fake_.calls().empty(); }));
    // Another conversation is not held up by it.
    post(kOtherConversation, "elsewhere");
    ASSERT_TRUE(wait_for_outcomes(4));

    std::vector<std::string> reported;
    for (const auto& [text, posted] : outcomes_) {
        EXPECT_TRUE(posted) << text << ": " << posted.error().message;
        reported.push_back(text);
    }
    EXPECT_EQ(reported, (std::vector<std::string>{"elsewhere", "one", "two", "three"}));
    std::vector<std::string> tried;
    for (const auto& call : calls_to(fake_.calls(), kConversation)) tried.push_back(call.text);
    EXPECT_EQ(tried, (std::vector<std::string>{"one", "one", "two", "three"}))
        << "nothing overtook the retried reply";
    std::vector<std::string> shown;
    for (const auto& sent : fake_.activities())
        if (sent.conversation_id == kConversation) shown.push_back(sent.body["text"]);
    EXPECT_EQ(shown, (std::vector<std::string>{"one", "two", "three"}));
}

TEST_F(TeamsConnectorRetryTest, A401FetchesANewTokenOnceAndTheReplyGoesWithIt) {
    fake_.answer_next(1, {401, {}, R"({"message":"Authorization has been denied"})"});
    post(kConversation, "hello");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_TRUE(outcomes_[0].second) << outcomes_[0].second.error().message;
    EXPECT_EQ(fake_.tokens_issued(), 2);
    const auto delivered = fake_.activities();
    ASSERT_EQ(delivered.size(), 1u);
    EXPECT_EQ(delivered[0].authorization, "Bearer fake-connector-token-2");
    const auto calls = fake_.calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_EQ(calls[0].authorization, "Bearer fake-connector-token-1");

    // The new token is kept: the next reply uses it without fetching another.
    post(kConversation, "again");
    ASSERT_TRUE(wait_for_outcomes(2));
    ASSERT_TRUE(outcomes_[1].second) << outcomes_[1].second.error().message;
    EXPECT_EQ(fake_.tokens_issued(), 2);
}

TEST_F(TeamsConnectorRetryTest, A401ToTheNewTokenTooFailsTheReply) {
    fake_.answer_next(2, {401, {}, R"({"message":"Authorization has been denied"})"});
    post(kConversation, "hello");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_FALSE(outcomes_[0].second);
    const std::string why = outcomes_[0].second.error().message;
    EXPECT_NE(why.find("HTTP 401"), std::string::npos) << why;
    EXPECT_EQ(why.find("fake-connector-token"), std::string::npos) << "the token in: " << why;
    EXPECT_EQ(fake_.tokens_issued(), 2);
    EXPECT_EQ(fake_.calls().size(), 2u);
    EXPECT_TRUE(fake_.activities().empty());
}

TEST_F(TeamsConnectorRetryTest, APermanent403FailsAfterOneTry) {
    fake_.answer_next(1, {403,
                          {},
                          R"({"error":{"code":"BotNotInConversationRoster",)"
                          R"("message":"The bot is not part of the conversation roster."}})"});
    post(kConversation, "hello");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_FALSE(outcomes_[0].second);
    const std::string why = outcomes_[0].second.error().message;
    EXPECT_NE(why.find("HTTP 403 (BotNotInConversationRoster)"), std::string::npos) << why;
    EXPECT_NE(why.find(kConversation), std::string::npos) << why;
    EXPECT_EQ(why.find("fake-connector-token"), std::string::npos) << "the token in: " << why;
    run_for(io_, 1s);  // longer than the first retry's wait: no second try comes
    EXPECT_EQ(fake_.calls().size(), 1u);
    EXPECT_TRUE(fake_.activities().empty());

    // What follows in the conversation is not held back by it.
    post(kConversation, "next");
    ASSERT_TRUE(wait_for_outcomes(2));
    EXPECT_TRUE(outcomes_[1].second) << outcomes_[1].second.error().message;
}

TEST_F(TeamsConnectorRetryTest, AFailureThatLastsGivesUpAfterTheLastTryAndReportsIt) {
    fake_.answer_next(kMaxConnectorAttempts + 2, {502});
    post(kConversation, "lost");
    ASSERT_TRUE(wait_for_outcomes(1, 20s));
    ASSERT_FALSE(outcomes_[0].second);
    const std::string why = outcomes_[0].second.error().message;
    EXPECT_NE(why.find("after " + std::to_string(kMaxConnectorAttempts) + " tries: HTTP 502"),
              std::string::npos)
        << why;
    EXPECT_EQ(fake_.calls().size(), static_cast<std::size_t>(kMaxConnectorAttempts));
    EXPECT_TRUE(fake_.activities().empty());
}

TEST_F(TeamsConnectorRetryTest, ATokenEndpointThatFailsForAWhileIsAskedAgainAndTheReplyGoes) {
    fake_.fail_token_requests(2, 503);
    post(kConversation, "uptime: 12 days");
    ASSERT_TRUE(wait_for_outcomes(1));
    ASSERT_TRUE(outcomes_[0].second) << outcomes_[0].second.error().message;
    EXPECT_EQ(fake_.token_requests(), 3) << "two 503s, then a token";
    ASSERT_EQ(fake_.activities().size(), 1u);
    EXPECT_EQ(fake_.activities()[0].body["text"], "uptime: 12 days");
}

TEST_F(TeamsConnectorRetryTest, ATokenEndpointThatKeepsFailingFailsTheRepliesAtLast) {
    fake_.fail_token_requests(kMaxConnectorAttempts, 503);
    post(kConversation, "uptime: 12 days");
    ASSERT_TRUE(wait_for_outcomes(1, 30s));
    ASSERT_FALSE(outcomes_[0].second);
    EXPECT_NE(outcomes_[0].second.error().message.find("no connector token"), std::string::npos)
        << outcomes_[0].second.error().message;
    EXPECT_EQ(fake_.token_requests(), kMaxConnectorAttempts);
    EXPECT_TRUE(fake_.activities().empty());
}

}  // namespace
}  // namespace hostline::chat::teams
