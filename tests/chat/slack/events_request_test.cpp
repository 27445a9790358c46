// What an Events API request carries once its signature is checked: the handshake, an event,
// a click in a form body, or something to ignore; and a clear error for what cannot be read.
#include "chat/slack/events_request.hpp"

#include <gtest/gtest.h>

namespace hostline::chat::slack {
namespace {

using Kind = EventsRequest::Kind;

TEST(SlackEventsRequest, UrlVerificationGivesTheChallenge) {
    auto r = read_events_request("application/json",
                                 R"({"token":"t","challenge":"abc123","type":"url_verification"})");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->kind, Kind::url_verification);
    EXPECT_EQ(r->challenge, "abc123");
}

TEST(SlackEventsRequest, AnEventCallbackIsPassedOnWhole) {
    const std::string body =
        R"({"type":"event_callback","event_id":"Ev1","event":{"type":"message"}})";
    auto r = read_events_request("application/json; charset=utf-8", body);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->kind, Kind::event_callback);
    EXPECT_EQ(r->payload, body);
}

TEST(SlackEventsRequest, AClickIsTheFormsPayloadFieldDecoded) {
    auto r = read_events_request(
        "application/x-www-form-urlencoded",
        "token=x&payload=%7B%22type%22%3A%22block_actions%22%2C%22a%22%3A%22b+c%22%7D&z=1");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->kind, Kind::interaction);
    EXPECT_EQ(r->payload, R"({"type":"block_actions","a":"b c"})");
    // The media type is compared without regard to case.
    EXPECT_TRUE(read_events_request("Application/X-WWW-Form-Urlencoded", "payload=%7B%7D").ok());
}

TEST(SlackEventsRequest, OtherTypesAreToBeIgnored) {
    auto r = read_events_request("application/json",
                                 R"({"type":"app_rate_limited","minute_rate_limited":1})");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->kind, Kind::other);
    EXPECT_EQ(r->type, "app_rate_limited");
}

TEST(SlackEventsRequest, WhatCannotBeReadSaysWhy) {
    struct Case {
        const char* content_type;
        const char* body;
        const char* says;
    };
    for (const Case& c : std::initializer_list<Case>{
             {"application/json", "{not json", "JSON"},
             {"application/json", "[1,2]", "not a JSON object"},
             {"application/json", R"({"event_id":"Ev1"})", "type"},
             {"application/json", R"({"type":"url_verification"})", "challenge"},
             {"application/json", R"({"type":"url_verification","challenge":"a\u0007b"})",
              "control characters"},
             {"application/x-www-form-urlencoded", "token=x", "no payload field"},
             {"application/x-www-form-urlencoded", "payload=%7", "malformed"},
         }) {
        auto r = read_events_request(c.content_type, c.body);
        ASSERT_FALSE(r.ok()) << c.body;
        EXPECT_NE(r.error().message.find(c.says), std::string::npos)
            << c.body << ": " << r.error().message;
    }
}

}  // namespace
}  // namespace hostline::chat::slack
