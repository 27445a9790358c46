// Whatever arrives from outside (a frame, a payload, a response, a request body) gives a value
// or an error, never a crash: every prefix of every fixture, bytes flipped through them, deep
// nesting and huge strings, through every reader. ASan and UBSan watch in the test build.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "chat/slack/events.hpp"
#include "chat/slack/request_signature.hpp"
#include "chat/slack/socket_mode.hpp"
#include "chat/slack/web_api.hpp"
#include "slack_fixtures.hpp"

namespace hostline::chat::slack {
namespace {

using testing::fixture;

const BotIdentity kBot{"U111", "B111"};

// Feeds `text` to every reader; returns how many accepted it.
int read_everywhere(const std::string& text) {
    int accepted = 0;
    accepted += parse_frame(text).ok();
    (void)envelope_id_of(text);
    accepted += read_events_api(text, kBot).ok();
    accepted += read_interactive(text).ok();
    accepted += parse_api_response(text).ok();
    accepted += parse_user_name(text).ok();
    accepted += parse_channel_name(text).ok();
    accepted += parse_connections_open(text).ok();
    accepted += url_verification_challenge(text).ok();
    accepted +=
        verify_signature("secret", {"1531420618", "v0=00", text},
                         std::chrono::system_clock::time_point(std::chrono::seconds(1531420618)))
            .ok();
    return accepted;
}

std::vector<std::string> all_fixtures() {
    return {fixture("socket-mode/hello.json"),
            fixture("socket-mode/events_api-message.json"),
            fixture("socket-mode/interactive-block_actions-button.json"),
            fixture("socket-mode/ack-frame.json"),
            fixture("web-api/chat.postMessage.ok.json"),
            fixture("web-api/chat.postMessage.error.json"),
            fixture("web-api/apps.connections.open.ok.json"),
            fixture("web-api/ratelimited-429.json"),
            fixture("http/url_verification.json"),
            fixture("http/signature-known-answer.json")};
}

TEST(SlackHostileInput, EveryTruncatedFixtureIsAnErrorNotACrash) {
    for (const std::string& text : all_fixtures()) {
        ASSERT_FALSE(text.empty());
        // A prefix of a JSON object that ends before its closing brace is never valid.
        for (std::size_t n = 0; n < text.rfind('}'); ++n) {
            EXPECT_EQ(read_everywhere(text.substr(0, n)), 0) << text.substr(0, n);
        }
    }
}

TEST(SlackHostileInput, FlippedBytesNeverCrash) {
    std::mt19937 random(7);  // fixed: a failure can be replayed
    for (const std::string& text : all_fixtures()) {
        for (int round = 0; round < 300; ++round) {
            std::string mutated = text;
            const int flips = 1 + static_cast<int>(random() % 4);
            for (int f = 0; f < flips; ++f) {
                mutated[random() % mutated.size()] = static_cast<char>(random() % 256);
            }
            (void)read_everywhere(mutated);
        }
    }
}

TEST(SlackHostileInput, DeepNestingIsRefused) {
    const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
    EXPECT_EQ(read_everywhere(deep), 0);
    const std::string deep_payload = R"({"type":"events_api","envelope_id":"e","payload":{"a":)" +
                                     std::string(1000, '[') + std::string(1000, ']') + "}}";
    auto frame = parse_frame(deep_payload);
    ASSERT_FALSE(frame);
    EXPECT_NE(frame.error().message.find("nested"), std::string::npos);
}

TEST(SlackHostileInput, HugeFramesAndStringsAreRefused) {
    const std::string huge_frame = R"({"type":"events_api","envelope_id":"e","payload":{"x":")" +
                                   std::string(2 << 20, 'a') + "\"}}";
    auto frame = parse_frame(huge_frame);
    ASSERT_FALSE(frame);
    EXPECT_NE(frame.error().message.find("too large"), std::string::npos);

    const std::string long_id =
        R"({"type":"events_api","envelope_id":")" + std::string(10'000, 'e') + R"(","payload":{}})";
    EXPECT_FALSE(parse_frame(long_id));

    const std::string long_text = R"({"type":"event_callback","event_id":"Ev1","event":{)"
                                  R"("type":"message","user":"U2","channel":"C1","ts":"1.2",)"
                                  R"("text":")" +
                                  std::string(100'000, 'x') + "\"}}";
    auto event = read_events_api(long_text, kBot);
    ASSERT_FALSE(event);
    EXPECT_NE(event.error().message.find("text"), std::string::npos);
}

TEST(SlackHostileInput, NullsAndWrongShapesInsideEnvelopes) {
    const char* payloads[] = {
        R"({"type":"event_callback","event_id":null,"event":null})",
        R"({"type":"event_callback","event_id":"E","event":{"type":null}})",
        R"({"type":"event_callback","event_id":"E","event":{"type":"message","user":null}})",
        R"({"type":"block_actions","actions":[null]})",
        R"({"type":"block_actions","actions":[{"action_id":"hostline_approve"}]})",
        R"({"type":"block_actions","actions":[{"action_id":"hostline_deny","value":"1"}],"user":[]})",
        R"({"type":"block_actions","actions":[{"action_id":"hostline_deny","value":"1"}],)"
        R"("user":{"id":"U1"},"container":{"channel_id":1,"message_ts":"1"}})",
    };
    for (const char* p : payloads) {
        EXPECT_FALSE(read_events_api(p, kBot).ok() && read_interactive(p).ok()) << p;
    }
}

}  // namespace
}  // namespace hostline::chat::slack
