#include "chat/slack/request_signature.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "slack_fixtures.hpp"

namespace hostline::chat::slack {
namespace {

using testing::fixture;

struct KnownAnswer {
    std::string secret, timestamp, body, signature;
    std::chrono::system_clock::time_point now;
};

KnownAnswer known_answer() {
    const auto j = nlohmann::json::parse(fixture("http/signature-known-answer.json"));
    return KnownAnswer{j["signing_secret"], j["timestamp"], j["body"], j["x_slack_signature"],
                       std::chrono::system_clock::time_point(
                           std::chrono::seconds(j["clock_now_for_valid_check"].get<long>()))};
}

TEST(SlackRequestSignature, KnownAnswerFromTheSdkVerifies) {
    const KnownAnswer k = known_answer();
    auto ok = verify_signature(k.secret, {k.timestamp, k.signature, k.body}, k.now);
    EXPECT_TRUE(ok) << ok.error().message;
}

TEST(SlackRequestSignature, UpperCaseHexVerifiesToo) {
    KnownAnswer k = known_answer();
    for (std::size_t i = 3; i < k.signature.size(); ++i) {
        k.signature[i] =
            static_cast<char>(std::toupper(static_cast<unsigned char>(k.signature[i])));
    }
    EXPECT_TRUE(verify_signature(k.secret, {k.timestamp, k.signature, k.body}, k.now));
}

TEST(SlackRequestSignature, WithinFiveMinutesEitherWayIsAccepted) {
    const KnownAnswer k = known_answer();
    EXPECT_TRUE(verify_signature(k.secret, {k.timestamp, k.signature, k.body},
                                 k.now + std::chrono::seconds(300)));
    EXPECT_TRUE(verify_signature(k.secret, {k.timestamp, k.signature, k.body},
                                 k.now - std::chrono::seconds(300)));
}

TEST(SlackRequestSignature, StaleTimestampIsRefused) {
    const KnownAnswer k = known_answer();
    auto stale = verify_signature(k.secret, {k.timestamp, k.signature, k.body},
                                  k.now + std::chrono::seconds(301));
    ASSERT_FALSE(stale);
    EXPECT_NE(stale.error().message.find("stale"), std::string::npos);
    EXPECT_FALSE(verify_signature(k.secret, {k.timestamp, k.signature, k.body},
                                  k.now - std::chrono::seconds(301)));
}

TEST(SlackRequestSignature, ChangedBodyIsRefused) {
    const KnownAnswer k = known_answer();
    std::string body = k.body;
    body.back() = body.back() == 'c' ? 'd' : 'c';
    auto changed = verify_signature(k.secret, {k.timestamp, k.signature, body}, k.now);
    ASSERT_FALSE(changed);
    EXPECT_NE(changed.error().message.find("does not match"), std::string::npos);
    EXPECT_FALSE(verify_signature(k.secret, {k.timestamp, k.signature, k.body + " "}, k.now));
}

TEST(SlackRequestSignature, OtherSecretOrChangedTimestampIsRefused) {
    const KnownAnswer k = known_answer();
    EXPECT_FALSE(verify_signature("another-secret", {k.timestamp, k.signature, k.body}, k.now));
    const std::string next = std::to_string(std::stol(k.timestamp) + 1);
    EXPECT_FALSE(verify_signature(k.secret, {next, k.signature, k.body}, k.now));
}

TEST(SlackRequestSignature, MalformedHeadersAreRefusedWithoutTheSecretInTheMessage) {
    const KnownAnswer k = known_answer();
    const std::string sig = k.signature;
    const std::pair<std::string, std::string> cases[] = {
        {"", sig},
        {k.timestamp, ""},
        {"15314206l8", sig},
        {"-1531420618", sig},
        {"99999999999999999999", sig},
        {k.timestamp, "v1=" + sig.substr(3)},
        {k.timestamp, sig.substr(0, sig.size() - 1)},
        {k.timestamp, sig + "0"},
        {k.timestamp, "v0=" + std::string(64, 'g')},
    };
    for (const auto& [ts, signature] : cases) {
        auto result = verify_signature(k.secret, {ts, signature, k.body}, k.now);
        ASSERT_FALSE(result) << ts << " " << signature;
        EXPECT_EQ(result.error().message.find(k.secret), std::string::npos);
    }
    EXPECT_FALSE(verify_signature("", {k.timestamp, sig, k.body}, k.now));
}

TEST(SlackRequestSignature, UrlVerificationAnswersTheChallenge) {
    auto challenge = url_verification_challenge(fixture("http/url_verification.json"));
    ASSERT_TRUE(challenge) << challenge.error().message;
    EXPECT_EQ(*challenge, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
}

TEST(SlackRequestSignature, UrlVerificationRefusesOtherBodies) {
    for (const char* body :
         {R"({"type":"event_callback","challenge":"x"})", R"({"type":"url_verification"})",
          R"({"type":"url_verification","challenge":5})",
          R"({"type":"url_verification","challenge":""})",
          "{\"type\":\"url_verification\",\"challenge\":\"a\\r\\nSet-Cookie: x\"}", "[]", "{"}) {
        EXPECT_FALSE(url_verification_challenge(body)) << body;
    }
}

}  // namespace
}  // namespace hostline::chat::slack
