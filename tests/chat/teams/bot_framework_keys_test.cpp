#include "chat/teams/bot_framework_keys.hpp"

#include <gtest/gtest.h>

#include "tests/fakes/teams/token_minter.hpp"

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

const test::TestKey& key() {
    static const test::TestKey made;
    return made;
}

TEST(OpenIdMetadata, NamesTheJwksUri) {
    // The shape of login.botframework.com's document.
    const json metadata = {{"issuer", "https://api.botframework.com"},
                           {"authorization_endpoint", "https://invalid.botframework.com"},
                           {"jwks_uri", "https://login.botframework.com/v1/.well-known/keys"},
                           {"id_token_signing_alg_values_supported", {"RS256"}},
                           {"token_endpoint_auth_methods_supported", {"private_key_jwt"}}};
    auto uri = parse_openid_jwks_uri(metadata.dump());
    ASSERT_TRUE(uri.ok()) << uri.error().message;
    EXPECT_EQ(*uri, "https://login.botframework.com/v1/.well-known/keys");
}

TEST(OpenIdMetadata, RefusesDocumentsWithoutAnHttpsJwksUri) {
    EXPECT_EQ(parse_openid_jwks_uri("{}").error().message,
              "the OpenID metadata has no \"jwks_uri\"");
    EXPECT_EQ(parse_openid_jwks_uri(R"({"jwks_uri":"http://login.test/keys"})").error().message,
              "the OpenID metadata's \"jwks_uri\" is not an https:// URL");
    EXPECT_EQ(parse_openid_jwks_uri("<html>").error().message,
              "the OpenID metadata is not valid JSON");
    EXPECT_EQ(parse_openid_jwks_uri("[]").error().message,
              "the OpenID metadata is not a JSON object");
    EXPECT_FALSE(parse_openid_jwks_uri(R"({"jwks_uri":5})").ok());
}

TEST(Jwks, ReadsRsaKeysWithTheirEndorsements) {
    json ec_key = {{"kty", "EC"}, {"kid", "ec"}, {"crv", "P-256"}, {"x", "AA"}, {"y", "AA"}};
    json encryption_key = key().jwk("enc", {});
    encryption_key["use"] = "enc";
    json no_endorsements = key().jwk("plain", {});
    no_endorsements.erase("endorsements");
    const json jwks = {
        {"keys", {key().jwk("a", {"msteams", "skype"}), ec_key, encryption_key, no_endorsements}}};
    auto keys = parse_jwks(jwks.dump());
    ASSERT_TRUE(keys.ok()) << keys.error().message;
    ASSERT_EQ(keys->size(), 2u);
    EXPECT_EQ((*keys)[0].kid, "a");
    EXPECT_EQ((*keys)[0].endorsements, (std::vector<std::string>{"msteams", "skype"}));
    EXPECT_EQ((*keys)[1].kid, "plain");
    EXPECT_TRUE((*keys)[1].endorsements.empty());
}

TEST(Jwks, RefusesBrokenDocuments) {
    json bad_modulus = key().jwk("a", {"msteams"});
    bad_modulus["n"] = "not base64url!";
    json bad_endorsements = key().jwk("a", {});
    bad_endorsements["endorsements"] = {"msteams", 7};
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{}", "the JWKS has no \"keys\" array"},
        {R"({"keys":{}})", "the JWKS has no \"keys\" array"},
        {R"({"keys":[]})", "the JWKS has no RSA signing key"},
        {R"({"keys":[1]})", "the JWKS holds a key that is not an object"},
        {json{{"keys", {bad_modulus}}}.dump(),
         "the JWKS key \"a\": the key's modulus (n) is not valid base64url"},
        {json{{"keys", {bad_endorsements}}}.dump(),
         "the JWKS key \"a\" has a non-string endorsement"},
        {R"({"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}]})",
         "the JWKS key \"x\": the key's modulus has 17 bits (2048 to 8192 accepted)"},
        {"null", "the JWKS is not a JSON object"},
        {std::string(kMaxKeyDocumentBytes + 1, ' '), "the JWKS is larger than"},
    };
    for (const auto& [document, expected] : cases) {
        auto keys = parse_jwks(document);
        ASSERT_FALSE(keys.ok()) << document.substr(0, 80);
        EXPECT_NE(keys.error().message.find(expected), std::string::npos) << keys.error().message;
    }
}

TEST(RsaPublicKey, RefusesWeakOrOddKeys) {
    const test::TestKey small(1024);
    const json jwk = small.jwk("small", {});
    auto weak = RsaPublicKey::from_jwk(jwk.at("n").get<std::string>(), "AQAB");
    ASSERT_FALSE(weak.ok());
    EXPECT_EQ(weak.error().message, "the key's modulus has 1024 bits (2048 to 8192 accepted)");

    const std::string n = key().jwk("k", {}).at("n");
    EXPECT_EQ(RsaPublicKey::from_jwk(n, "AQ").error().message,  // e = 1
              "the key's exponent (e) is not a valid RSA exponent");
    EXPECT_EQ(RsaPublicKey::from_jwk(n, "AQAA").error().message,  // e = 65536, even
              "the key's exponent (e) is not a valid RSA exponent");
    EXPECT_EQ(RsaPublicKey::from_jwk(n, "").error().message,
              "the key's exponent (e) has an unusable length");
    EXPECT_TRUE(RsaPublicKey::from_jwk(n, "AQAB").ok());
}

}  // namespace
}  // namespace hostline::chat::teams
