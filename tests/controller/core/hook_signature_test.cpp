#include "controller/hooks/hook_signature.hpp"

#include <gtest/gtest.h>

namespace hostline::controller {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;

HookSpec github_hook() {
    HookSpec hook;
    hook.name = "gh";
    hook.secret = "It's a Secret to Everybody";
    hook.signature = HookSignature::github;
    return hook;
}

HookSpec header_hook(std::string timestamp_header = "") {
    HookSpec hook;
    hook.name = "ci";
    hook.secret = "s3cret";
    hook.signature = HookSignature::header;
    hook.header = "X-Signature";
    hook.timestamp_header = std::move(timestamp_header);
    return hook;
}

TEST(HookSignature, MatchesGithubsPublishedExample) {
    // docs.github.com "Validating webhook deliveries": this secret and payload give this hex.
    EXPECT_EQ(hmac_sha256_hex("It's a Secret to Everybody", "Hello, World!"),
              "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
}

TEST(HookSignature, GithubGoodWrongMissingPrefixAndOtherBody) {
    const HookSpec hook = github_hook();
    const std::string body = R"({"zen":"Keep it logically awesome."})";
    const std::string good = "sha256=" + hmac_sha256_hex(hook.secret, body);
    auto ok = verify_hook_signature(
        hook, {{"x-hub-signature-256", good}, {"X-GitHub-Delivery", "d-1"}}, body, kNow);
    ASSERT_TRUE(ok.ok()) << ok.error().message;
    EXPECT_EQ(ok->delivery, "d-1");
    EXPECT_EQ("sha256=" + ok->signature, good);

    const auto refused = [&](const HeaderList& headers, const std::string& b) {
        auto r = verify_hook_signature(hook, headers, b, kNow);
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(refused({{"X-GitHub-Delivery", "d-1"}}, body),
              "the request has no X-Hub-Signature-256 header");
    EXPECT_EQ(refused({{"X-Hub-Signature-256", good.substr(7)}, {"X-GitHub-Delivery", "d"}}, body),
              "X-Hub-Signature-256 must be 'sha256=' and 64 hex digits");
    EXPECT_EQ(refused({{"X-Hub-Signature-256", "sha1=" + good.substr(7)}}, body),
              "X-Hub-Signature-256 must be 'sha256=' and 64 hex digits");
    EXPECT_EQ(refused({{"X-Hub-Signature-256", good + "00"}}, body),
              "X-Hub-Signature-256 must be 'sha256=' and 64 hex digits");
    EXPECT_EQ(refused({{"X-Hub-Signature-256", good}, {"X-GitHub-Delivery", "d"}}, body + " "),
              "the signature in X-Hub-Signature-256 does not match the body");
    const std::string wrong_key = "sha256=" + hmac_sha256_hex("another secret", body);
    EXPECT_EQ(refused({{"X-Hub-Signature-256", wrong_key}, {"X-GitHub-Delivery", "d"}}, body),
              "the signature in X-Hub-Signature-256 does not match the body");
    EXPECT_EQ(refused({{"X-Hub-Signature-256", good}}, body),
              "the request has no X-GitHub-Delivery header");
    // Upper-case hex is the same signature.
    std::string upper = good;
    for (std::size_t i = 7; i < upper.size(); ++i) upper[i] = char(std::toupper(upper[i]));
    EXPECT_EQ(refused({{"X-Hub-Signature-256", upper}, {"X-GitHub-Delivery", "d"}}, body),
              "accepted");
}

TEST(HookSignature, HeaderHooksWithAndWithoutATimestamp) {
    const std::string body = "{}";
    const HookSpec plain = header_hook();
    EXPECT_TRUE(
        verify_hook_signature(plain, {{"X-Signature", hmac_sha256_hex("s3cret", body)}}, body, kNow)
            .ok());
    EXPECT_FALSE(
        verify_hook_signature(plain, {{"X-Signature", hmac_sha256_hex("s3cre", body)}}, body, kNow)
            .ok());

    const HookSpec stamped = header_hook("X-Timestamp");
    const auto call = [&](std::int64_t stamp, const std::string& signed_text) {
        return verify_hook_signature(stamped,
                                     {{"X-Signature", hmac_sha256_hex("s3cret", signed_text)},
                                      {"X-Timestamp", std::to_string(stamp)}},
                                     body, kNow);
    };
    EXPECT_TRUE(call(kNow - 299, std::to_string(kNow - 299) + "." + body).ok());
    EXPECT_TRUE(call(kNow + 299, std::to_string(kNow + 299) + "." + body).ok());
    auto old = call(kNow - 301, std::to_string(kNow - 301) + "." + body);
    ASSERT_FALSE(old.ok());
    EXPECT_EQ(old.error().message, "X-Timestamp is more than 5 minutes from the server's time");
    EXPECT_FALSE(call(kNow + 301, std::to_string(kNow + 301) + "." + body).ok());
    // The body alone, without the timestamp, is not what a timestamped hook signs.
    EXPECT_FALSE(call(kNow, body).ok());
    // Nor may the timestamp be changed after signing.
    EXPECT_FALSE(verify_hook_signature(stamped,
                                       {{"X-Signature", hmac_sha256_hex("s3cret", "1.{}")},
                                        {"X-Timestamp", std::to_string(kNow)}},
                                       body, kNow)
                     .ok());
    auto missing = verify_hook_signature(
        stamped, {{"X-Signature", hmac_sha256_hex("s3cret", body)}}, body, kNow);
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().message, "the request has no X-Timestamp header");
}

TEST(ReplayMemory, RemembersTheMostRecentKeysOnly) {
    ReplayMemory memory(3);
    for (const char* key : {"a", "b", "c"}) memory.remember(key);
    EXPECT_TRUE(memory.seen("a"));
    memory.remember("d");  // forgets a, the oldest
    EXPECT_FALSE(memory.seen("a"));
    EXPECT_TRUE(memory.seen("b"));
    EXPECT_TRUE(memory.seen("d"));
    EXPECT_EQ(memory.size(), 3u);
    memory.remember("d");  // a repeat does not push anything out
    EXPECT_TRUE(memory.seen("b"));

    ReplayMemory big;
    for (int i = 0; i < 10'050; ++i) big.remember("delivery-" + std::to_string(i));
    EXPECT_EQ(big.size(), 10'000u);
    EXPECT_FALSE(big.seen("delivery-49"));
    EXPECT_TRUE(big.seen("delivery-50"));
    EXPECT_TRUE(big.seen("delivery-10049"));
}

}  // namespace
}  // namespace hostline::controller
