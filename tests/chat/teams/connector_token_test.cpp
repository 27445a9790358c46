#include "chat/teams/connector_token.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace hostline::chat::teams {
namespace {

using namespace std::chrono_literals;

TEST(ConnectorToken, RequestIsAFormWithTheSecretEncoded) {
    ClientCredentials credentials;
    credentials.client_id = "aabdbd62-bc97-4afb-83ee-575594577de5";
    credentials.client_secret = "s3cr&t=+ /~x";
    const TokenRequest request = token_request(credentials);
    EXPECT_EQ(request.url, "https://login.microsoftonline.com/botframework.com/oauth2/v2.0/token");
    EXPECT_EQ(request.content_type, "application/x-www-form-urlencoded");
    EXPECT_EQ(request.body,
              "grant_type=client_credentials&client_id=aabdbd62-bc97-4afb-83ee-575594577de5"
              "&client_secret=s3cr%26t%3D%2B%20%2F~x"
              "&scope=https%3A%2F%2Fapi.botframework.com%2F.default");

    credentials.token_url = "https://127.0.0.1:4443/tenant/oauth2/v2.0/token";
    EXPECT_EQ(token_request(credentials).url, "https://127.0.0.1:4443/tenant/oauth2/v2.0/token");
}

TEST(ConnectorToken, ReadsTheDocumentedAnswer) {
    std::ifstream in(std::string(HOSTLINE_SOURCE_DIR) +
                     "/tests/chat/fixtures/teams/oauth-token-response.json");
    std::stringstream body;
    body << in.rdbuf();
    auto token = parse_token_response(body.str());
    ASSERT_TRUE(token.ok()) << token.error().message;
    EXPECT_EQ(token->access_token, "eyJhbGciOiJIUzI1Ni...");
    EXPECT_EQ(token->expires_in, 3600s);
}

TEST(ConnectorToken, RefusalsNameTheProblemWithoutTheToken) {
    auto refused = parse_token_response(
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1","error_codes":[7000215]})");
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().message,
              "the token endpoint refused the bot's credentials: invalid_client (AADSTS7000215: "
              "Invalid client secret provided.)");

    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"({"token_type":"mac","expires_in":3600,"access_token":"SECRET-TOKEN"})",
         "the token endpoint's answer is not a Bearer token"},
        {R"({"token_type":"Bearer","expires_in":3600})",
         "the token endpoint's answer has no access_token"},
        {R"({"token_type":"Bearer","access_token":"SECRET-TOKEN"})",
         "the token endpoint's answer has no expires_in"},
        {R"({"token_type":"Bearer","expires_in":0,"access_token":"SECRET-TOKEN"})",
         "the token endpoint's expires_in 0 is out of range"},
        {R"({"token_type":"Bearer","expires_in":"soon","access_token":"SECRET-TOKEN"})",
         "the token endpoint's expires_in is not a number of seconds"},
        {R"({"token_type":"Bearer","expires_in":1e99,"access_token":"SECRET-TOKEN"})",
         "the token endpoint's answer has no expires_in"},
        {"SECRET-TOKEN", "the token endpoint's answer is not a JSON object"},
    };
    for (const auto& [body, expected] : cases) {
        auto token = parse_token_response(body);
        ASSERT_FALSE(token.ok()) << body;
        EXPECT_EQ(token.error().message, expected);
        EXPECT_EQ(token.error().message.find("SECRET"), std::string::npos);
    }
    // An older endpoint's string form is accepted.
    auto text_form =
        parse_token_response(R"({"token_type":"Bearer","expires_in":"3599","access_token":"t"})");
    ASSERT_TRUE(text_form.ok());
    EXPECT_EQ(text_form->expires_in, 3599s);
}

TEST(ConnectorTokenCache, AsksForANewTokenFiveMinutesBeforeExpiry) {
    auto now = std::chrono::steady_clock::time_point(1000h);
    ConnectorTokenCache cache([&] { return now; });
    EXPECT_TRUE(cache.needs_refresh());
    EXPECT_EQ(cache.current(), std::nullopt);

    cache.store({"token-1", 3600s});
    EXPECT_EQ(cache.current(), "token-1");
    now += 3600s - 5min - 1s;
    EXPECT_EQ(cache.current(), "token-1");
    now += 1s;
    EXPECT_TRUE(cache.needs_refresh());

    cache.store({"token-2", 3600s});
    EXPECT_EQ(cache.current(), "token-2");
    cache.clear();  // the connector said 401
    EXPECT_TRUE(cache.needs_refresh());
}

TEST(ConnectorTokenCache, ShortLivedTokenIsUsedForHalfItsLife) {
    auto now = std::chrono::steady_clock::time_point(1000h);
    ConnectorTokenCache cache([&] { return now; });
    cache.store({"short", 60s});
    now += 29s;
    EXPECT_EQ(cache.current(), "short");
    now += 1s;
    EXPECT_TRUE(cache.needs_refresh());
}

}  // namespace
}  // namespace hostline::chat::teams
