#include "chat/teams/base64url.hpp"

#include <gtest/gtest.h>

namespace hostline::chat::teams {
namespace {

TEST(Base64url, RoundTripsRfc4648Vectors) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
    for (const std::string bytes : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto decoded = base64url_decode(base64url_encode(bytes), "x");
        ASSERT_TRUE(decoded.ok()) << bytes;
        EXPECT_EQ(*decoded, bytes);
    }
}

TEST(Base64url, RefusesWhatNoEncoderProduces) {
    for (const char* text : {"Zg==", "Zm9v+", "Zm9v/", "Zm 9v", "Z", "Zh", "Zm9vYh", "\xc3\xa9"}) {
        auto decoded = base64url_decode(text, "the token's header");
        ASSERT_FALSE(decoded.ok()) << text;
        EXPECT_NE(decoded.error().message.find("the token's header"), std::string::npos);
    }
}

}  // namespace
}  // namespace hostline::chat::teams
