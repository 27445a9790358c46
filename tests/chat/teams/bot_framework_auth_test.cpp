#include "chat/teams/bot_framework_auth.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <optional>

#include "chat/teams/base64url.hpp"
#include "tests/fakes/teams/token_minter.hpp"

namespace hostline::chat::teams {
namespace {

using nlohmann::json;
using test::FakeKeyServer;
using test::sign_hs256;
using test::TestClock;
using test::TestKey;

constexpr const char* kMetadataUrl = "https://login.test/v1/.well-known/openidconfiguration";
constexpr const char* kJwksUrl = "https://login.test/v1/keys";
constexpr const char* kAppId = "aabdbd62-bc97-4afb-83ee-575594577de5";
constexpr const char* kServiceUrl = "https://smba.trafficmanager.net/amer/";

// Keys are slow to make under the sanitizers: made once for the whole file.
const TestKey& publisher_key() {
    static const TestKey key;
    return key;
}
const TestKey& other_key() {
    static const TestKey key;
    return key;
}

class BotFrameworkAuthTest : public ::testing::Test {
  protected:
    BotFrameworkAuthTest() {
        publish({publisher_key().jwk("key-1", {"msteams", "skype"})});
        server_.documents[kMetadataUrl] =
            json{{"issuer", "https://api.botframework.com"}, {"jwks_uri", kJwksUrl}}.dump();
    }

    void publish(const std::vector<json>& keys) {
        server_.documents[kJwksUrl] = json{{"keys", keys}}.dump();
    }

    json claims() const {
        return {{"serviceurl", kServiceUrl},
                {"nbf", clock_.unix_now() - 60},
                {"exp", clock_.unix_now() + 3600},
                {"iss", "https://api.botframework.com"},
                {"aud", kAppId}};
    }

    std::string token(const json& payload, const std::string& kid = "key-1",
                      const TestKey& key = publisher_key(), const std::string& alg = "RS256") {
        return key.sign({{"alg", alg}, {"kid", kid}, {"typ", "JWT"}}, payload, alg);
    }

    // Validates synchronously (the fake server answers at once) and returns the outcome.
    Result<Claims> validate(const std::string& header, const std::string& channel = "msteams",
                            const std::string& service_url = kServiceUrl) {
        std::optional<Result<Claims>> outcome;
        auth_.validate(header, channel, service_url,
                       [&](Result<Claims> result) { outcome.emplace(std::move(result)); });
        if (!outcome) return fail("no callback");
        return std::move(*outcome);
    }

    // Expects a refusal whose message contains `expected` and not the token itself.
    void expect_refused(const std::string& token, const std::string& expected,
                        const std::string& channel = "msteams",
                        const std::string& service_url = kServiceUrl) {
        auto result = validate("Bearer " + token, channel, service_url);
        ASSERT_FALSE(result.ok()) << "accepted; expected: " << expected;
        EXPECT_NE(result.error().message.find(expected), std::string::npos)
            << result.error().message;
        const auto signature = token.substr(token.rfind('.') + 1);
        if (signature.size() > 8) {
            EXPECT_EQ(result.error().message.find(signature), std::string::npos);
        }
    }

    TestClock clock_;
    FakeKeyServer server_;
    BotFrameworkAuth auth_{
        {kAppId, "https://api.botframework.com", kMetadataUrl}, server_.fetch(), clock_.clock()};
};

TEST_F(BotFrameworkAuthTest, ValidTokenPasses) {
    auto result = validate("Bearer " + token(claims()));
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->audience, kAppId);
    EXPECT_EQ(result->issuer, "https://api.botframework.com");
    EXPECT_EQ(result->service_url, kServiceUrl);
    EXPECT_EQ(result->key_id, "key-1");
    EXPECT_EQ(server_.requests[kMetadataUrl], 1);
    EXPECT_EQ(server_.requests[kJwksUrl], 1);
}

TEST_F(BotFrameworkAuthTest, Rs384AndRs512AndAnAudienceArrayPass) {
    auto payload = claims();
    payload["aud"] = json::array({"someone-else", kAppId});
    EXPECT_TRUE(validate("Bearer " + token(payload, "key-1", publisher_key(), "RS384")).ok());
    EXPECT_TRUE(validate("bearer " + token(payload, "key-1", publisher_key(), "RS512")).ok());
}

TEST_F(BotFrameworkAuthTest, KeysAreFetchedOnceForManyRequests) {
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(validate("Bearer " + token(claims())).ok());
    EXPECT_EQ(server_.total_requests(), 2);
}

TEST_F(BotFrameworkAuthTest, WrongIssuerIsRefused) {
    auto payload = claims();
    payload["iss"] = "https://sts.windows.net/evil/";
    expect_refused(token(payload),
                   "the token's issuer is \"https://sts.windows.net/evil/\", not "
                   "\"https://api.botframework.com\"");
}

TEST_F(BotFrameworkAuthTest, WrongAudienceIsRefused) {
    auto payload = claims();
    payload["aud"] = "another-bot";
    expect_refused(token(payload),
                   "the token's audience is \"another-bot\", not this bot's app id");
}

TEST_F(BotFrameworkAuthTest, ExpiredTokenIsRefusedButFiveMinutesOfSkewAreAllowed) {
    auto payload = claims();
    payload["exp"] = clock_.unix_now() - 4 * 60;
    EXPECT_TRUE(validate("Bearer " + token(payload)).ok());
    payload["exp"] = clock_.unix_now() - 5 * 60;
    EXPECT_TRUE(validate("Bearer " + token(payload)).ok());
    payload["exp"] = clock_.unix_now() - 5 * 60 - 1;
    expect_refused(token(payload), "the token expired at ");
    payload.erase("exp");
    expect_refused(token(payload), "the token has no expiry (exp)");

    // Extreme dates do not overflow the skew arithmetic (UBSan watches this test).
    payload["exp"] = std::numeric_limits<std::int64_t>::max();
    payload["nbf"] = std::numeric_limits<std::int64_t>::min();
    EXPECT_TRUE(validate("Bearer " + token(payload)).ok());
    payload["exp"] = std::numeric_limits<std::int64_t>::min();
    expect_refused(token(payload), "the token expired at ");
}

TEST_F(BotFrameworkAuthTest, NotYetValidTokenIsRefusedButFiveMinutesOfSkewAreAllowed) {
    auto payload = claims();
    payload["nbf"] = clock_.unix_now() + 4 * 60;
    EXPECT_TRUE(validate("Bearer " + token(payload)).ok());
    payload["nbf"] = clock_.unix_now() + 6 * 60;
    expect_refused(token(payload), "the token is not valid before ");
}

TEST_F(BotFrameworkAuthTest, FlippedSignatureByteIsRefused) {
    const std::string good = token(claims());
    const auto dot = good.rfind('.');
    auto signature = base64url_decode(good.substr(dot + 1), "signature");
    ASSERT_TRUE(signature.ok());
    (*signature)[signature->size() / 2] ^= 0x01;
    expect_refused(good.substr(0, dot + 1) + base64url_encode(*signature),
                   "the token's signature does not match its signing key");

    // A changed claim under the original signature: the same refusal.
    auto payload = claims();
    payload["aud"] = "another-bot";
    const std::string forged = token(payload);
    const std::string swapped = forged.substr(0, forged.rfind('.')) + good.substr(dot);
    expect_refused(swapped, "the token's signature does not match its signing key");
}

TEST_F(BotFrameworkAuthTest, UnknownKeyIsRefusedAndRefreshesTheKeysAtMostOncePerFiveMinutes) {
    ASSERT_TRUE(validate("Bearer " + token(claims())).ok());
    ASSERT_EQ(server_.total_requests(), 2);

    // Right after a fetch an unknown kid is refused from the cache…
    expect_refused(token(claims(), "key-2", other_key()), "unknown key");
    EXPECT_EQ(server_.total_requests(), 2);
    // …five minutes on it makes one refetch (the keys may have rotated)…
    clock_.now += std::chrono::minutes(5);
    expect_refused(token(claims(), "key-2", other_key()),
                   "the token is signed by an unknown key \"key-2\"");
    EXPECT_EQ(server_.total_requests(), 4);
    // …later ones within five minutes do not, whatever kid they make up.
    for (int i = 0; i < 10; ++i) {
        clock_.now += std::chrono::seconds(20);
        expect_refused(token(claims(), "made-up-" + std::to_string(i), other_key()), "unknown key");
    }
    EXPECT_EQ(server_.total_requests(), 4);

    // After five minutes a key published meanwhile is found by one refresh.
    publish({publisher_key().jwk("key-1", {"msteams"}), other_key().jwk("key-2", {"msteams"})});
    clock_.now += std::chrono::minutes(5);
    auto rotated = validate("Bearer " + token(claims(), "key-2", other_key()));
    EXPECT_TRUE(rotated.ok()) << rotated.error().message;
    EXPECT_EQ(server_.total_requests(), 6);
}

TEST_F(BotFrameworkAuthTest, TokenSignedByAnotherKeyUnderAKnownKidIsRefused) {
    expect_refused(token(claims(), "key-1", other_key()),
                   "the token's signature does not match its signing key");
}

TEST_F(BotFrameworkAuthTest, KeyWithoutTheMsteamsEndorsementIsRefused) {
    publish({publisher_key().jwk("key-1", {"skype", "webchat"})});
    expect_refused(token(claims()),
                   "the token's signing key is not endorsed for the channel \"msteams\"");
    // An activity claiming another channel is checked against that channel.
    EXPECT_TRUE(validate("Bearer " + token(claims()), "webchat").ok());
}

TEST_F(BotFrameworkAuthTest, ServiceUrlMismatchIsRefused) {
    expect_refused(token(claims()),
                   "the token's serviceurl is \"https://smba.trafficmanager.net/amer/\", not the "
                   "activity's serviceUrl \"https://evil.example/\"",
                   "msteams", "https://evil.example/");
    // Compared exactly: a missing trailing slash is a mismatch too.
    expect_refused(token(claims()), "serviceurl", "msteams",
                   "https://smba.trafficmanager.net/amer");
    auto payload = claims();
    payload.erase("serviceurl");
    expect_refused(token(payload), "the token's serviceurl is \"\"");
}

TEST_F(BotFrameworkAuthTest, AlgNoneAndHs256AreRefusedWithoutFetchingKeys) {
    const json header_none = {{"alg", "none"}, {"kid", "key-1"}};
    const std::string unsigned_token =
        base64url_encode(header_none.dump()) + "." + base64url_encode(claims().dump()) + ".AAAA";
    expect_refused(unsigned_token, "the token's algorithm \"none\" is not accepted");

    // HS256 keyed with the public key's modulus: the classic key-confusion forgery.
    const std::string modulus = publisher_key().jwk("key-1", {}).at("n");
    expect_refused(sign_hs256({{"alg", "HS256"}, {"kid", "key-1"}}, claims(), modulus),
                   "the token's algorithm \"HS256\" is not accepted");
    EXPECT_EQ(server_.total_requests(), 0);
}

TEST_F(BotFrameworkAuthTest, HeaderWithoutKidIsRefused) {
    const std::string no_kid = publisher_key().sign({{"alg", "RS256"}}, claims());
    expect_refused(no_kid, "the token's header names no signing key (kid)");
}

TEST_F(BotFrameworkAuthTest, AuthorizationHeaderMustBeBearer) {
    auto missing = validate("");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "the request has no Authorization header");
    auto basic = validate("Basic " + token(claims()));
    ASSERT_FALSE(basic.ok());
    EXPECT_EQ(basic.error().message, "the Authorization header is not a Bearer token");
    auto empty = validate("Bearer    ");
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().message, "the Authorization header's Bearer token is empty");
    EXPECT_EQ(server_.total_requests(), 0);
}

TEST_F(BotFrameworkAuthTest, MalformedTokensAreRefusedWithoutCrashing) {
    const std::string good = token(claims());
    // Every truncation of a valid token, and the token with one character changed to each of
    // a few troublemakers at every position.
    int refused = 0;
    for (std::size_t length = 0; length < good.size(); ++length) {
        if (!validate("Bearer " + good.substr(0, length)).ok()) ++refused;
    }
    EXPECT_EQ(refused, static_cast<int>(good.size()));
    for (std::size_t at = 0; at < good.size(); at += 7) {
        for (const char c : {'.', '=', '+', '\0', '\xff'}) {
            std::string changed = good;
            changed[at] = c;
            EXPECT_FALSE(validate("Bearer " + changed).ok()) << at;
        }
    }
    const json header = {{"alg", "RS256"}, {"kid", "key-1"}};
    const std::vector<std::string> corpus = {
        ".",
        "..",
        "...",
        "a.b.c",
        "e30.e30.e30",  // {} . {} . {}
        base64url_encode("[1]") + "." + base64url_encode("{}") + ".AAAA",
        base64url_encode(header.dump()) + "." + base64url_encode("\"claims\"") + ".AAAA",
        base64url_encode(header.dump()) + "." + base64url_encode("{\"exp\":\"soon\"}") + ".AAAA",
        base64url_encode(header.dump()) + "." + base64url_encode("{\"aud\":[1]}") + ".AAAA",
        base64url_encode(header.dump()) + "." + base64url_encode("{\"exp\":1e300}") + ".AAAA",
        base64url_encode(header.dump()) + "." + base64url_encode("{\"iss\":{}}") + ".AAAA",
        base64url_encode(R"({"alg":5})") + "." + base64url_encode("{}") + ".AAAA",
        base64url_encode(std::string(200, '[')) + ".e30.AAAA",
        good + "." + good,
        std::string(kMaxTokenBytes + 1, 'a'),
    };
    for (const auto& bad : corpus) {
        EXPECT_FALSE(validate("Bearer " + bad).ok()) << bad.substr(0, 80);
    }
    EXPECT_TRUE(validate("Bearer " + good).ok());  // and the daemon would still be serving
}

TEST_F(BotFrameworkAuthTest, RequestsDuringAFetchWaitForIt) {
    server_.hold = true;
    std::vector<Result<Claims>> outcomes;
    for (int i = 0; i < 3; ++i) {
        auth_.validate("Bearer " + token(claims()), "msteams", kServiceUrl,
                       [&](Result<Claims> result) { outcomes.push_back(std::move(result)); });
    }
    EXPECT_TRUE(outcomes.empty());
    server_.release();
    ASSERT_EQ(outcomes.size(), 3u);
    for (const auto& outcome : outcomes) EXPECT_TRUE(outcome.ok());
    EXPECT_EQ(server_.total_requests(), 2);
}

TEST_F(BotFrameworkAuthTest, AHangingFetchHoldsOnlyABoundedQueue) {
    server_.hold = true;
    int accepted = 0;
    std::vector<std::string> refusals;
    for (int i = 0; i < 300; ++i) {
        auth_.validate("Bearer " + token(claims()), "msteams", kServiceUrl,
                       [&](Result<Claims> result) {
                           if (result.ok()) {
                               ++accepted;
                           } else {
                               refusals.push_back(result.error().message);
                           }
                       });
    }
    ASSERT_EQ(refusals.size(), 300u - 256u);
    EXPECT_EQ(refusals.front(), "too many requests are waiting for the Bot Framework keys");
    server_.release();
    EXPECT_EQ(accepted, 256);
}

TEST_F(BotFrameworkAuthTest, KeysAreRefreshedAfterADayAndKeptWhenTheRefreshFails) {
    ASSERT_TRUE(validate("Bearer " + token(claims())).ok());
    clock_.now += std::chrono::hours(24);
    ASSERT_TRUE(validate("Bearer " + token(claims())).ok());
    EXPECT_EQ(server_.total_requests(), 4);

    clock_.now += std::chrono::hours(24);
    server_.documents.erase(kJwksUrl);
    auto stale = validate("Bearer " + token(claims()));
    EXPECT_TRUE(stale.ok()) << stale.error().message;
    EXPECT_EQ(server_.total_requests(), 6);
}

TEST_F(BotFrameworkAuthTest, UnreachableMetadataIsReportedAndRetriedLater) {
    server_.documents.erase(kMetadataUrl);
    auto first = validate("Bearer " + token(claims()));
    ASSERT_FALSE(first.ok());
    EXPECT_NE(first.error().message.find("fetching the Bot Framework OpenID metadata failed"),
              std::string::npos)
        << first.error().message;
    auto again = validate("Bearer " + token(claims()));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(server_.requests[kMetadataUrl], 1);  // not hammered

    server_.documents[kMetadataUrl] = json{{"jwks_uri", kJwksUrl}}.dump();
    clock_.now += std::chrono::seconds(10);
    EXPECT_TRUE(validate("Bearer " + token(claims())).ok());
}

TEST_F(BotFrameworkAuthTest, NoCallbackAfterTheValidatorIsGone) {
    server_.hold = true;
    bool called = false;
    {
        BotFrameworkAuth short_lived({kAppId, "https://api.botframework.com", kMetadataUrl},
                                     server_.fetch(), clock_.clock());
        short_lived.validate("Bearer " + token(claims()), "msteams", kServiceUrl,
                             [&](Result<Claims>) { called = true; });
    }
    server_.release();
    EXPECT_FALSE(called);
}

}  // namespace
}  // namespace hostline::chat::teams
