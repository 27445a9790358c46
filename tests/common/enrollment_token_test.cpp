// The enrollment token format: what `hostline agents token create` prints and
// `hostline-agent enroll` reads.
#include "common/enrollment/enrollment_token.hpp"

#include <gtest/gtest.h>

#include "common/transport/curve_keys.hpp"

namespace hostline::enrollment {
namespace {

EnrollmentToken sample() {
    return {"tcp://ctl.example:7420", transport::generate_key_pair()->public_key,
            std::string(64, 'a')};
}

TEST(EnrollmentToken, RoundTripsAndIsOneLine) {
    EnrollmentToken token = sample();
    std::string text = encode_token(token);
    EXPECT_EQ(text.rfind("hle1.", 0), 0u);
    EXPECT_EQ(text.find_first_of("\n =+/"), std::string::npos) << text;
    auto decoded = decode_token(text + "\n");
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, token);
}

TEST(EnrollmentToken, GarbageIsNotAToken) {
    auto r = decode_token("hello world");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message,
              "this is not a Hostline enrollment token (it should start with 'hle1.')");
    auto bad = decode_token("hle1.!!!!");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message, "the token holds a character that is not base64url");
}

TEST(EnrollmentToken, ATruncatedTokenSaysSo) {
    std::string text = encode_token(sample());
    for (std::size_t cut : {6ul, 30ul, text.size() - 10, text.size() - 1}) {
        auto r = decode_token(text.substr(0, cut));
        ASSERT_FALSE(r.ok()) << cut;
        EXPECT_NE(r.error().message.find("truncated"), std::string::npos)
            << cut << ": " << r.error().message;
    }
}

TEST(EnrollmentToken, AnotherVersionIsNamed) {
    std::string text = encode_token(sample());
    text.replace(0, 4, "hle2");
    auto r = decode_token(text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message,
              "the token is of version '2'; this agent understands version 1 (hle1.)");
}

TEST(EnrollmentToken, ABadEndpointOrKeyIsRefused) {
    EnrollmentToken token = sample();
    token.endpoint = "http://ctl:80";
    EXPECT_EQ(decode_token(encode_token(token)).error().message,
              "the token's controller endpoint is not a tcp://HOST:PORT address");
    token = sample();
    token.controller_key = "short";
    EXPECT_EQ(decode_token(encode_token(token)).error().message,
              "the token's controller key is not a CURVE public key");
}

}  // namespace
}  // namespace hostline::enrollment
