#include "chat/slack/web_api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/slack/name_cache.hpp"
#include "slack_fixtures.hpp"

namespace hostline::chat::slack {
namespace {

using nlohmann::json;
using testing::fixture;

TEST(SlackWebApi, PostMessageBodyInAThreadWithoutUnfurling) {
    PostMessage m;
    m.channel = "C111";
    m.text = "done: *ok*";
    m.thread_ts = "1610241741.000200";
    auto body = post_message_body(m);
    ASSERT_TRUE(body) << body.error().message;
    EXPECT_EQ(json::parse(*body), (json{{"channel", "C111"},
                                        {"text", "done: *ok*"},
                                        {"thread_ts", "1610241741.000200"},
                                        {"unfurl_links", false}}));
}

TEST(SlackWebApi, PostMessageBodyWithBlocksAndWithoutThread) {
    PostMessage m;
    m.channel = "C111";
    m.text = "t";
    m.blocks_json = R"([{"type":"divider"}])";
    const json b = json::parse(*post_message_body(m));
    EXPECT_FALSE(b.contains("thread_ts"));
    EXPECT_EQ(b["blocks"], json::parse(m.blocks_json));
    m.blocks_json = R"({"type":"divider"})";
    EXPECT_FALSE(post_message_body(m));
}

TEST(SlackWebApi, InvalidUtf8InOutputIsReplacedNotRefused) {
    PostMessage m;
    m.channel = "C111";
    m.text = "bad \xff\xfe bytes";
    auto body = post_message_body(m);
    ASSERT_TRUE(body);
    EXPECT_EQ(json::parse(*body)["text"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST(SlackWebApi, UpdateAndReactionBodies) {
    UpdateMessage u{"C111", "1.2", "progress 50%", "[]"};
    EXPECT_EQ(json::parse(*update_message_body(u)), (json{{"channel", "C111"},
                                                          {"ts", "1.2"},
                                                          {"text", "progress 50%"},
                                                          {"blocks", json::array()}}));
    u.blocks_json.clear();
    EXPECT_FALSE(json::parse(*update_message_body(u)).contains("blocks"));
    EXPECT_EQ(json::parse(reaction_body("C111", "1.2", "white_check_mark")),
              (json{{"channel", "C111"}, {"timestamp", "1.2"}, {"name", "white_check_mark"}}));
}

TEST(SlackWebApi, InfoQueriesAreEncoded) {
    EXPECT_EQ(users_info_query("U024BE7LH"), "user=U024BE7LH");
    EXPECT_EQ(conversations_info_query("C1&x=y"), "channel=C1%26x%3Dy");
}

TEST(SlackWebApi, PostMessageFixtureGivesTsAndChannel) {
    auto r = parse_api_response(fixture("web-api/chat.postMessage.ok.json"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->ok);
    EXPECT_EQ(r->ts, "1503435956.000247");
    EXPECT_EQ(r->channel, "C1H9RESGL");
    EXPECT_EQ(r->error, "");
}

TEST(SlackWebApi, ErrorFixtureGivesSlacksCode) {
    auto r = parse_api_response(fixture("web-api/chat.postMessage.error.json"));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error, "too_many_attachments");
    EXPECT_FALSE(is_harmless(r->error));
    EXPECT_FALSE(is_transient(r->error));
}

TEST(SlackWebApi, RateLimitedFixtureIsTransient) {
    const json recorded = json::parse(fixture("web-api/ratelimited-429.json"));
    auto r = parse_api_response(recorded["body"].dump());
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->ok);
    EXPECT_EQ(r->error, "ratelimited");
    EXPECT_TRUE(is_transient(r->error));
}

TEST(SlackWebApi, HarmlessAndPermanentErrorsAreToldApart) {
    EXPECT_TRUE(is_harmless("already_reacted"));
    EXPECT_TRUE(is_harmless("no_reaction"));
    for (const char* code : {"channel_not_found", "not_in_channel", "invalid_auth"}) {
        EXPECT_FALSE(is_harmless(code)) << code;
        EXPECT_FALSE(is_transient(code)) << code;
    }
}

TEST(SlackWebApi, NonSlackResponsesAreErrors) {
    for (const char* body :
         {"<html>502 Bad Gateway</html>", "{}", R"({"ok":"true"})", "[]", "", "{\"ok\":true"}) {
        EXPECT_FALSE(parse_api_response(body)) << body;
    }
    auto wrong_types = parse_api_response(R"({"ok":false,"error":5,"ts":[]})");
    ASSERT_TRUE(wrong_types);
    EXPECT_EQ(wrong_types->error, "unknown_error");
}

TEST(SlackWebApi, UserNamePrefersRealName) {
    EXPECT_EQ(
        *parse_user_name(
            R"({"ok":true,"user":{"id":"U1","name":"spengler","real_name":"Egon Spengler"}})"),
        "Egon Spengler");
    EXPECT_EQ(
        *parse_user_name(
            R"({"ok":true,"user":{"id":"U1","name":"spengler","profile":{"real_name":"E S"}}})"),
        "E S");
    EXPECT_EQ(*parse_user_name(R"({"ok":true,"user":{"id":"U1","name":"spengler"}})"), "spengler");
    auto missing = parse_user_name(R"({"ok":false,"error":"user_not_found"})");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("user_not_found"), std::string::npos);
    EXPECT_FALSE(parse_user_name(R"({"ok":true,"user":{"id":"U1"}})"));
}

TEST(SlackWebApi, ChannelName) {
    EXPECT_EQ(*parse_channel_name(R"({"ok":true,"channel":{"id":"C1","name":"ops"}})"), "ops");
    auto missing = parse_channel_name(R"({"ok":false,"error":"channel_not_found"})");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().message.find("channel_not_found"), std::string::npos);
    EXPECT_FALSE(parse_channel_name(R"({"ok":true,"channel":{"id":"D1","is_im":true}})"));
}

TEST(SlackWebApi, ConnectionsOpenFixtureGivesTheSocketUrl) {
    auto url = parse_connections_open(fixture("web-api/apps.connections.open.ok.json"));
    ASSERT_TRUE(url) << url.error().message;
    EXPECT_EQ(*url, "wss://wss-primary.slack.com/link/?ticket=XXX&app_id=XXX");
    EXPECT_FALSE(parse_connections_open(R"({"ok":true,"url":"ws://plain.example/"})"));
    auto denied = parse_connections_open(R"({"ok":false,"error":"invalid_auth"})");
    ASSERT_FALSE(denied);
    EXPECT_NE(denied.error().message.find("invalid_auth"), std::string::npos);
}

TEST(SlackNameCache, NamesExpireAfterTheirTtl) {
    using namespace std::chrono_literals;
    NameCache cache(10, 10min);
    const NameCache::Clock::time_point t0{};
    cache.put("U1", "Ann", t0);
    EXPECT_EQ(cache.find("U1", t0 + 10min), "Ann");
    EXPECT_EQ(cache.find("U1", t0 + 10min + 1s), std::nullopt);
    EXPECT_EQ(cache.find("U2", t0), std::nullopt);
    cache.put("U1", "Ann B", t0 + 11min);
    EXPECT_EQ(cache.find("U1", t0 + 12min), "Ann B");
    EXPECT_EQ(cache.size(), 1u);
}

TEST(SlackNameCache, HoldsAtMostItsCapacity) {
    using namespace std::chrono_literals;
    NameCache cache(2, 1h);
    const NameCache::Clock::time_point t0{};
    cache.put("U1", "a", t0);
    cache.put("U2", "b", t0);
    cache.put("U1", "a2", t0);  // refreshed: now the newest
    cache.put("U3", "c", t0);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.find("U2", t0), std::nullopt);
    EXPECT_EQ(cache.find("U1", t0), "a2");
    EXPECT_EQ(cache.find("U3", t0), "c");
}

}  // namespace
}  // namespace hostline::chat::slack
