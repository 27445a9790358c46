#include "chat/slack/events.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "slack_fixtures.hpp"

namespace hostline::chat::slack {
namespace {

using nlohmann::json;
using testing::fixture;

const BotIdentity kBot{"U111", "B111"};

// The events_api payload of the fixture envelope, with `change` applied to its event.
template <typename Change>
std::string fixture_payload(Change change) {
    json envelope = json::parse(fixture("socket-mode/events_api-message.json"));
    change(envelope["payload"]["event"]);
    return envelope["payload"].dump();
}

std::string fixture_payload() {
    return fixture_payload([](json&) {});
}

TEST(SlackEvents, FixtureMessageBecomesAnIncomingMessageAddressedToTheBot) {
    auto event = read_events_api(fixture_payload(), kBot);
    ASSERT_TRUE(event) << event.error().message;
    EXPECT_EQ(event->event_id, "Ev111");
    EXPECT_EQ(event->message_key, "C111:1610241741.000200");
    ASSERT_TRUE(event->message) << event->ignored_because;
    const IncomingMessage& m = *event->message;
    EXPECT_EQ(m.sender.id, "slack:U222");
    EXPECT_EQ(m.channel, "C111");
    EXPECT_EQ(m.thread, "1610241741.000200");  // its own ts: replies start its thread
    EXPECT_EQ(m.message_id, "1610241741.000200");
    EXPECT_EQ(m.text, "Hi here!");
    EXPECT_FALSE(m.direct_message);
    EXPECT_TRUE(event->mentions_bot);
}

TEST(SlackEvents, AReplyInAThreadStaysInThatThread) {
    auto event = read_events_api(
        fixture_payload([](json& e) { e["thread_ts"] = "1610241700.000100"; }), kBot);
    ASSERT_TRUE(event && event->message);
    EXPECT_EQ(event->message->thread, "1610241700.000100");
    EXPECT_EQ(event->message->message_id, "1610241741.000200");
}

TEST(SlackEvents, DirectMessageIsMarkedAndNeedsNoMention) {
    auto event = read_events_api(fixture_payload([](json& e) {
                                     e["channel_type"] = "im";
                                     e["channel"] = "D123";
                                     e["text"] = "jobs";
                                 }),
                                 kBot);
    ASSERT_TRUE(event && event->message);
    EXPECT_TRUE(event->message->direct_message);
    EXPECT_EQ(event->message->channel, "D123");
    EXPECT_EQ(event->message->text, "jobs");
    EXPECT_FALSE(event->mentions_bot);
}

TEST(SlackEvents, AppMentionIsAddressedToTheBot) {
    auto event = read_events_api(fixture_payload([](json& e) {
                                     e["type"] = "app_mention";
                                     e.erase("channel_type");
                                     e["text"] = "<@U111|hostline>   run uptime --on web-1";
                                 }),
                                 kBot);
    ASSERT_TRUE(event && event->message);
    EXPECT_EQ(event->message->text, "run uptime --on web-1");
    EXPECT_TRUE(event->mentions_bot);
}

TEST(SlackEvents, OnlyALeadingMentionOfTheBotIsStripped) {
    auto other = read_events_api(fixture_payload([](json& e) { e["text"] = "<@U999> hi"; }), kBot);
    ASSERT_TRUE(other && other->message);
    EXPECT_EQ(other->message->text, "@U999 hi");
    EXPECT_FALSE(other->mentions_bot);
    auto later =
        read_events_api(fixture_payload([](json& e) { e["text"] = "ask <@U111> now"; }), kBot);
    ASSERT_TRUE(later && later->message);
    EXPECT_EQ(later->message->text, "ask @U111 now");
    EXPECT_FALSE(later->mentions_bot);
}

TEST(SlackEvents, EscapesAndLinksAreDecoded) {
    auto event = read_events_api(
        fixture_payload([](json& e) {
            e["text"] =
                "<@U111> run check --url <https://x.example/a?b=1&amp;c=2|the site> "
                "<https://y.example> a &lt;b&gt; &amp;&amp; <#C9|ops> <!here> <mailto:a@b.c|a@b.c>";
        }),
        kBot);
    ASSERT_TRUE(event && event->message);
    EXPECT_EQ(event->message->text,
              "run check --url the site https://y.example a <b> && #ops @here a@b.c");
}

TEST(SlackEvents, MessagesFromBotsAreIgnoredWithAReason) {
    const auto ignored = [](auto change) {
        auto event = read_events_api(fixture_payload(change), kBot);
        EXPECT_TRUE(event) << event.error().message;
        EXPECT_FALSE(event->message);
        return event->ignored_because;
    };
    EXPECT_NE(ignored([](json& e) { e["bot_id"] = "B111"; }).find("bot"), std::string::npos);
    EXPECT_NE(ignored([](json& e) { e["subtype"] = "bot_message"; }).find("bot_message"),
              std::string::npos);
    EXPECT_NE(ignored([](json& e) { e["subtype"] = "message_changed"; }).find("subtype"),
              std::string::npos);
    EXPECT_NE(ignored([](json& e) { e["user"] = "U111"; }).find("own"), std::string::npos);
}

TEST(SlackEvents, AThreadReplyAlsoSentToTheChannelIsRead) {
    auto event = read_events_api(fixture_payload([](json& e) {
                                     e["subtype"] = "thread_broadcast";
                                     e["thread_ts"] = "1610241700.000100";
                                 }),
                                 kBot);
    ASSERT_TRUE(event && event->message) << event->ignored_because;
    EXPECT_EQ(event->message->thread, "1610241700.000100");
    auto from_bot = read_events_api(fixture_payload([](json& e) {
                                        e["subtype"] = "thread_broadcast";
                                        e["bot_id"] = "B9";
                                    }),
                                    kBot);
    ASSERT_TRUE(from_bot);
    EXPECT_FALSE(from_bot->message);
}

TEST(SlackEvents, OtherEventTypesAreIgnoredWithAReason) {
    auto event =
        read_events_api(fixture_payload([](json& e) { e["type"] = "reaction_added"; }), kBot);
    ASSERT_TRUE(event) << event.error().message;
    EXPECT_FALSE(event->message);
    EXPECT_NE(event->ignored_because.find("reaction_added"), std::string::npos);
    EXPECT_EQ(event->event_id, "Ev111");
}

TEST(SlackEvents, MissingOrIllTypedFieldsAreErrors) {
    const auto error = [](auto change) {
        auto event = read_events_api(fixture_payload(change), kBot);
        return event ? std::string() : event.error().message;
    };
    EXPECT_NE(error([](json& e) { e.erase("user"); }).find("user"), std::string::npos);
    EXPECT_NE(error([](json& e) { e["channel"] = 5; }).find("channel"), std::string::npos);
    EXPECT_NE(error([](json& e) { e.erase("ts"); }).find("ts"), std::string::npos);
    EXPECT_NE(error([](json& e) { e["text"] = json::array(); }).find("text"), std::string::npos);
    EXPECT_NE(error([](json& e) { e["type"] = 1; }).find("type"), std::string::npos);
    EXPECT_NE(error([](json& e) { e["user"] = std::string(100, 'U'); }).find("user"),
              std::string::npos);
    EXPECT_FALSE(read_events_api(R"({"type":"event_callback","event":{}})", kBot));
    EXPECT_FALSE(read_events_api(R"({"type":"event_callback","event_id":"E","event":[]})", kBot));
    EXPECT_FALSE(read_events_api(R"({"type":"url_verification","challenge":"x"})", kBot));
    EXPECT_FALSE(read_events_api("[]", kBot));
}

// The block_actions fixture with its (only) button turned into one of ours.
std::string our_click(const char* action_id, const char* value) {
    json envelope = json::parse(fixture("socket-mode/interactive-block_actions-button.json"));
    envelope["payload"]["actions"][0]["action_id"] = action_id;
    envelope["payload"]["actions"][0]["value"] = value;
    return envelope["payload"].dump();
}

TEST(SlackEvents, ApproveClickBecomesAnApprovalActionByTheClicker) {
    auto action = read_interactive(our_click("hostline_approve", "42"));
    ASSERT_TRUE(action) << action.error().message;
    ASSERT_TRUE(*action);
    const ApprovalAction& a = **action;
    EXPECT_EQ(a.user.id, "slack:U111");
    EXPECT_EQ(a.user.display_name, "test-test-test");
    EXPECT_EQ(a.choice, ApprovalChoice::approve);
    EXPECT_EQ(a.job_id, 42);
    EXPECT_EQ(a.request.channel, "C111");
    EXPECT_EQ(a.request.message_id, "1605853634.000400");
}

TEST(SlackEvents, DenyClickBecomesADenial) {
    auto action = read_interactive(our_click("hostline_deny", "7"));
    ASSERT_TRUE(action && *action);
    EXPECT_EQ((*action)->choice, ApprovalChoice::deny);
    EXPECT_EQ((*action)->job_id, 7);
}

TEST(SlackEvents, FixtureButtonIsNotOursSoNothingIsDecided) {
    json envelope = json::parse(fixture("socket-mode/interactive-block_actions-button.json"));
    auto action = read_interactive(envelope["payload"].dump());
    ASSERT_TRUE(action) << action.error().message;
    EXPECT_FALSE(*action);
    auto other = read_interactive(R"({"type":"view_submission","view":{}})");
    ASSERT_TRUE(other);
    EXPECT_FALSE(*other);
}

TEST(SlackEvents, OurButtonWithoutAJobIdIsAnError) {
    for (const char* value : {"", "abc", "-3", "0", "42x", "99999999999999999999999"}) {
        EXPECT_FALSE(read_interactive(our_click("hostline_approve", value))) << value;
    }
    json payload = json::parse(our_click("hostline_approve", "42"));
    payload.erase("container");
    EXPECT_FALSE(read_interactive(payload.dump()));
    payload = json::parse(our_click("hostline_approve", "42"));
    payload["user"].erase("id");
    EXPECT_FALSE(read_interactive(payload.dump()));
    payload = json::parse(our_click("hostline_approve", "42"));
    payload["actions"] = "click";
    EXPECT_FALSE(read_interactive(payload.dump()));
}

}  // namespace
}  // namespace hostline::chat::slack
