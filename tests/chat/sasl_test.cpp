#include "chat/irc/sasl.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hostline::chat::irc {
namespace {

TEST(Sasl, EncodesRfc4648Base64Vectors) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
    EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode(std::string("\x00\xff\xfe\x80", 4)), "AP/+gA==");
}

TEST(Sasl, PlainPayloadJoinsCredentialsWithNul) {
    // The example from the IRCv3 sasl-3.1 specification.
    EXPECT_EQ(sasl_plain_payload("jilles", "jilles", "sesame"), "amlsbGVzAGppbGxlcwBzZXNhbWU=");
    EXPECT_EQ(sasl_plain_payload("", "botA", "pw"), base64_encode(std::string("\0botA\0pw", 8)));
}

TEST(Sasl, SplitsIntoAuthenticateChunks) {
    EXPECT_EQ(authenticate_chunks("abcd"), (std::vector<std::string>{"abcd"}));
    EXPECT_EQ(authenticate_chunks(""), (std::vector<std::string>{"+"}));

    const std::string exactly_400(400, 'A');
    EXPECT_EQ(authenticate_chunks(exactly_400), (std::vector<std::string>{exactly_400, "+"}));

    const std::string long_payload = std::string(800, 'B') + "CC";
    EXPECT_EQ(authenticate_chunks(long_payload),
              (std::vector<std::string>{std::string(400, 'B'), std::string(400, 'B'), "CC"}));

    const auto chunks = authenticate_chunks(sasl_plain_payload("", "user", std::string(500, 'p')));
    std::string joined;
    for (const auto& chunk : chunks) {
        EXPECT_LE(chunk.size(), 400u);
        if (chunk != "+") joined += chunk;
    }
    EXPECT_EQ(joined, sasl_plain_payload("", "user", std::string(500, 'p')));
}

}  // namespace
}  // namespace hostline::chat::irc
