#include "chat/slack/socket_mode.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "slack_fixtures.hpp"

namespace hostline::chat::slack {
namespace {

using testing::fixture;

TEST(SlackSocketMode, HelloFixtureGivesConnectionsAndAppId) {
    auto frame = parse_frame(fixture("socket-mode/hello.json"));
    ASSERT_TRUE(frame) << frame.error().message;
    const auto* hello = std::get_if<Hello>(&*frame);
    ASSERT_NE(hello, nullptr);
    EXPECT_EQ(hello->num_connections, 2);
    EXPECT_EQ(hello->app_id, "A111");
}

TEST(SlackSocketMode, EventsApiFixtureGivesEnvelope) {
    auto frame = parse_frame(fixture("socket-mode/events_api-message.json"));
    ASSERT_TRUE(frame) << frame.error().message;
    const auto* e = std::get_if<Envelope>(&*frame);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->envelope_id, "ac2cfd40-6f8c-4d5e-a1ad-646e532baa19");
    EXPECT_EQ(e->type, EnvelopeType::events_api);
    EXPECT_FALSE(e->accepts_response_payload);
    EXPECT_EQ(e->retry_attempt, 0);
    EXPECT_EQ(e->retry_reason, "");
    const auto payload = nlohmann::json::parse(e->payload);
    EXPECT_EQ(payload["event_id"], "Ev111");
    EXPECT_EQ(payload["event"]["text"], "<@U111> Hi here!");
}

TEST(SlackSocketMode, InteractiveFixtureGivesEnvelope) {
    auto frame = parse_frame(fixture("socket-mode/interactive-block_actions-button.json"));
    ASSERT_TRUE(frame) << frame.error().message;
    const auto* e = std::get_if<Envelope>(&*frame);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->envelope_id, "xxx-11-222-yyy-zzz");
    EXPECT_EQ(e->type, EnvelopeType::interactive);
    EXPECT_EQ(nlohmann::json::parse(e->payload)["type"], "block_actions");
}

TEST(SlackSocketMode, RedeliveryCarriesRetryAttemptAndReason) {
    auto frame = parse_frame(
        R"({"envelope_id":"e1","type":"events_api","payload":{},"accepts_response_payload":false,)"
        R"("retry_attempt":2,"retry_reason":"timeout"})");
    ASSERT_TRUE(frame) << frame.error().message;
    const auto& e = std::get<Envelope>(*frame);
    EXPECT_EQ(e.retry_attempt, 2);
    EXPECT_EQ(e.retry_reason, "timeout");
}

TEST(SlackSocketMode, SlashCommandEnvelopeAcceptsResponsePayload) {
    auto frame =
        parse_frame(R"({"envelope_id":"s1","type":"slash_commands","payload":{"command":"/hl"},)"
                    R"("accepts_response_payload":true})");
    ASSERT_TRUE(frame) << frame.error().message;
    const auto& e = std::get<Envelope>(*frame);
    EXPECT_EQ(e.type, EnvelopeType::slash_commands);
    EXPECT_TRUE(e.accepts_response_payload);
}

TEST(SlackSocketMode, DisconnectReasonsAreRecognised) {
    const std::pair<const char*, DisconnectReason> cases[] = {
        {"warning", DisconnectReason::warning},
        {"refresh_requested", DisconnectReason::refresh_requested},
        {"too_many_websockets", DisconnectReason::too_many_websockets},
        {"link_disabled", DisconnectReason::link_disabled},
        {"something_new", DisconnectReason::other},
    };
    for (const auto& [text, reason] : cases) {
        auto frame = parse_frame(std::string(R"({"type":"disconnect","reason":")") + text +
                                 R"(","debug_info":{"host":"applink-1"}})");
        ASSERT_TRUE(frame) << text << ": " << frame.error().message;
        const auto& d = std::get<Disconnect>(*frame);
        EXPECT_EQ(d.reason, reason) << text;
        EXPECT_EQ(d.reason_text, text);
    }
}

TEST(SlackSocketMode, DisconnectPolicyKeepsASocketOpenUnlessSlackSaysOtherwise) {
    EXPECT_EQ(plan_for(DisconnectReason::warning), ReconnectPlan::open_new_then_close_old);
    EXPECT_EQ(plan_for(DisconnectReason::refresh_requested),
              ReconnectPlan::open_new_then_close_old);
    EXPECT_EQ(plan_for(DisconnectReason::too_many_websockets), ReconnectPlan::close_then_reconnect);
    EXPECT_EQ(plan_for(DisconnectReason::link_disabled), ReconnectPlan::stop_and_report);
    EXPECT_EQ(plan_for(DisconnectReason::other), ReconnectPlan::open_new_then_close_old);
}

TEST(SlackSocketMode, AckIsExactlyTheFixtureFrame) {
    const auto expected = nlohmann::json::parse(fixture("socket-mode/ack-frame.json"));
    auto ack = ack_frame("1e38618a-40d9-4780-93a7-a3c4fe142713");
    ASSERT_TRUE(ack) << ack.error().message;
    EXPECT_EQ(nlohmann::json::parse(*ack), expected);
    EXPECT_EQ(*ack, expected.dump());  // same keys, same order, compact
}

TEST(SlackSocketMode, AckCanCarryAResponsePayload) {
    auto ack = ack_frame("e1", R"({"text":"queued"})");
    ASSERT_TRUE(ack) << ack.error().message;
    EXPECT_EQ(*ack, R"({"envelope_id":"e1","payload":{"text":"queued"}})");
    EXPECT_FALSE(ack_frame("e1", "[1]"));
    EXPECT_FALSE(ack_frame("e1", "{"));
}

TEST(SlackSocketMode, UnknownTypeIsAnErrorNamingIt) {
    auto frame = parse_frame(R"({"type":"surprise"})");
    ASSERT_FALSE(frame);
    EXPECT_NE(frame.error().message.find("surprise"), std::string::npos);
}

TEST(SlackSocketMode, EnvelopeWithoutIdOrPayloadIsAnError) {
    auto no_id = parse_frame(R"({"type":"events_api","payload":{}})");
    ASSERT_FALSE(no_id);
    EXPECT_NE(no_id.error().message.find("envelope_id"), std::string::npos);
    auto no_payload = parse_frame(R"({"type":"events_api","envelope_id":"e9"})");
    ASSERT_FALSE(no_payload);
    EXPECT_NE(no_payload.error().message.find("payload"), std::string::npos);
    EXPECT_FALSE(parse_frame(R"({"type":"events_api","envelope_id":"","payload":{}})"));
}

TEST(SlackSocketMode, FieldsOfTheWrongTypeAreErrors) {
    const char* frames[] = {
        R"({"type":1})",
        R"({"type":"hello","num_connections":"2"})",
        R"({"type":"hello","num_connections":-1})",
        R"({"type":"hello","num_connections":1.5})",
        R"({"type":"hello","connection_info":"A1"})",
        R"({"type":"hello","connection_info":{"app_id":7}})",
        R"({"type":"disconnect","reason":["warning"]})",
        R"({"type":"events_api","envelope_id":7,"payload":{}})",
        R"({"type":"events_api","envelope_id":"e","payload":"{}"})",
        R"({"type":"events_api","envelope_id":"e","payload":{},"retry_attempt":"1"})",
        R"({"type":"events_api","envelope_id":"e","payload":{},"accepts_response_payload":1})",
        R"({"type":"events_api","envelope_id":"e","payload":{},"retry_reason":false})",
    };
    for (const char* text : frames) EXPECT_FALSE(parse_frame(text)) << text;
}

TEST(SlackSocketMode, NonObjectsAndBrokenJsonAreErrors) {
    for (const char* text : {"", "null", "[]", "\"hello\"", "42", "{", "{\"type\":\"hello\"",
                             "{\"type\":\"hello\"}}", "\xff\xfe"}) {
        EXPECT_FALSE(parse_frame(text)) << text;
    }
}

TEST(SlackSocketMode, EnvelopeIdOfARefusedFrameCanStillBeAcked) {
    EXPECT_EQ(envelope_id_of(R"({"type":"new_kind","envelope_id":"e42","payload":{}})"), "e42");
    EXPECT_EQ(envelope_id_of(R"({"type":"events_api","envelope_id":5})"), "");
    EXPECT_EQ(envelope_id_of("{"), "");
}

}  // namespace
}  // namespace hostline::chat::slack
