// botframework-connector (the Bot Framework SDK for JavaScript) against the fake Bot Framework:
// the SDK's own token validation and its connector client, so the fake's keys, tokens and sink
// are the ones the real service's clients understand.
#include <gtest/gtest.h>

#include <algorithm>

#include "sdk/sdk_fixture.hpp"
#include "tests/fakes/teams/fake_bot_framework.hpp"

namespace hostline::testing {
namespace {

using chat::teams::test::FakeBotFramework;
using chat::teams::test::InboundClaims;
using nlohmann::json;

constexpr const char* kAppId = "7f1c0a6e-0000-4000-8000-00000000b07";
constexpr const char* kPassword = "client~secret.from-azure";
constexpr const char* kConversation = "a:1Hp7personalChatWithTheBot";

class BotFrameworkSdk : public SdkCheck {
  protected:
    BotFrameworkSdk() : bf(ca, kAppId, kPassword) {}

    bool fetched(const std::string& path) const {
        const auto requests = bf.server().requests();
        return std::any_of(requests.begin(), requests.end(),
                           [&](const RecordedRequest& r) { return r.path == path; });
    }

    FakeBotFramework bf;
};

// JwtTokenValidation.authenticateRequest with the fake's OpenID metadata: the token the fake
// mints as the Bot Connector would is accepted, and every forgery TeamsChat.* refuses is refused
// by the SDK too, as is a token for a channel its key is not endorsed for.
TEST_F(BotFrameworkSdk, TokensFromTheFakeAreAcceptedOnlyWithTheRightClaims) {
    auto token_with = [&](auto change) {
        InboundClaims claims = bf.valid_claims();
        change(claims);
        return bf.token(claims);
    };
    const json cases = json::array({
        {{"name", "valid"}, {"token", bf.token(bf.valid_claims())}},
        {{"name", "wrong issuer"},
         {"reason", "Is not authenticated"},
         {"token", token_with([](auto& c) { c.issuer = "https://sts.windows.net/evil/"; })}},
        {{"name", "wrong audience"},
         {"reason", "Invalid AppId"},
         {"token", token_with([](auto& c) { c.audience = "another-bots-app-id"; })}},
        {{"name", "wrong service url"},
         {"reason", "ServiceUrl claim do not match"},
         {"token", token_with([](auto& c) { c.service_url = "https://evil.example/"; })}},
        {{"name", "expired"},
         {"reason", "expired"},
         {"token", token_with([](auto& c) {
              c.not_before -= 7200;
              c.expires_at -= 3600 + 600;  // ten minutes ago: beyond the 5 minutes' skew
          })}},
        {{"name", "bad signature"},
         {"reason", "invalid signature"},
         {"token", token_with([](auto& c) { c.sign_with_stranger = true; })}},
        {{"name", "unknown key"},
         {"reason", "Signing Key could not be retrieved"},
         {"token", token_with([](auto& c) { c.kid = "rotated-away"; })}},
        {{"name", "key not endorsed for the channel"},
         {"reason", "Could not validate endorsement"},
         {"token", bf.token(bf.valid_claims())},
         {"channel_id", "webchat"}},
        {{"name", "no token"}, {"reason", "not authorized"}, {"token", ""}},
    });
    const json activity = bf.message(kConversation, "aad-alice", "Alice", "!greet --on web-1");
    const CheckRun run =
        run_check("bot-framework-tokens.mjs", {{"BF_OPENID_METADATA_URL", bf.openid_metadata_url()},
                                               {"BF_APP_ID", kAppId},
                                               {"BF_ACTIVITY", activity.dump()},
                                               {"BF_CASES", cases.dump()}});
    EXPECT_EQ(run.exit_code, 0);
    ASSERT_EQ(run.saw("done").size(), 1u) << "the script stopped early";

    auto accepted = run.saw("accepted");
    ASSERT_EQ(accepted.size(), 1u) << "accepted: " << json(accepted).dump();
    EXPECT_EQ(accepted[0]["case"], "valid");
    EXPECT_EQ(accepted[0]["authenticated"], true);
    EXPECT_EQ(accepted[0]["claims"]["iss"], FakeBotFramework::kIssuer);
    EXPECT_EQ(accepted[0]["claims"]["aud"], kAppId);
    EXPECT_EQ(accepted[0]["claims"]["serviceurl"], bf.service_url());
    // Each forgery refused for its own reason (the SDK's words), not for a failure to fetch.
    auto rejected = run.saw("rejected");
    ASSERT_EQ(rejected.size(), cases.size() - 1);
    for (std::size_t i = 0; i < rejected.size(); ++i) {
        const json& forged = cases[i + 1];
        EXPECT_EQ(rejected[i]["case"], forged["name"]);
        EXPECT_NE(rejected[i].value("message", "").find(forged.value("reason", "?")),
                  std::string::npos)
            << forged["name"] << " was refused for another reason: " << rejected[i].dump();
    }
    // The keys came from the fake, as the metadata it published said.
    EXPECT_TRUE(fetched("/v1/.well-known/openidconfiguration"));
    EXPECT_TRUE(fetched("/v1/.well-known/keys"));
}

// ConnectorClient with MSAL credentials whose authority is the fake's: a token from the fake's
// token endpoint, then a reply and its update in the conversation, both carrying that token.
TEST_F(BotFrameworkSdk, ConnectorClientRepliesReachTheSink) {
    const json activity = bf.message(kConversation, "aad-alice", "Alice", "!uptime --on web-1");
    const CheckRun run =
        run_check("bot-framework-connector.mjs", {{"BF_APP_ID", kAppId},
                                                  {"BF_APP_PASSWORD", kPassword},
                                                  {"BF_AUTHORITY", bf.authority()},
                                                  {"BF_ACTIVITY", activity.dump()}});
    EXPECT_EQ(run.exit_code, 0);
    ASSERT_EQ(run.saw("done").size(), 1u) << "the script stopped early";

    // The SDK's side.
    auto token = run.saw("token");
    ASSERT_EQ(token.size(), 1u);
    EXPECT_EQ(token[0]["token"], "fake-connector-token-1");
    auto sent = run.saw("sent");
    auto updated = run.saw("updated");
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_EQ(updated.size(), 1u);
    EXPECT_EQ(updated[0]["id"], sent[0]["id"]);

    // The fake's side: MSAL read the tenant's OpenID configuration, got one token, and both
    // requests reached the conversation with it.
    EXPECT_TRUE(fetched("/botframework.com/v2.0/.well-known/openid-configuration"));
    EXPECT_EQ(bf.tokens_issued(), 1);
    auto activities = bf.activities();
    ASSERT_EQ(activities.size(), 2u);
    EXPECT_EQ(activities[0].method, "POST");
    EXPECT_EQ(activities[0].conversation_id, kConversation);
    EXPECT_EQ(activities[0].activity_id, sent[0]["id"]);
    EXPECT_EQ(activities[0].authorization, "Bearer fake-connector-token-1");
    EXPECT_EQ(activities[0].body["text"], "Job #7: uptime on web-1 is running");
    EXPECT_EQ(activities[0].body["replyToId"], activity["id"]);
    EXPECT_EQ(activities[1].method, "PUT");
    EXPECT_EQ(activities[1].conversation_id, kConversation);
    EXPECT_EQ(activities[1].activity_id, sent[0]["id"]);
    EXPECT_EQ(activities[1].authorization, "Bearer fake-connector-token-1");
    EXPECT_EQ(activities[1].body["text"], "Job #7: uptime on web-1 succeeded");
}

}  // namespace
}  // namespace hostline::testing
