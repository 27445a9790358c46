#include "chat/teams/activity.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace hostline::chat::teams {
namespace {

using nlohmann::json;

std::string fixture(const std::string& name) {
    std::ifstream in(std::string(HOSTLINE_SOURCE_DIR) + "/tests/chat/fixtures/teams/" + name);
    EXPECT_TRUE(in.good()) << name;
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

InboundActivity parsed(const std::string& body) {
    auto activity = parse_activity(body);
    if (!activity.ok()) ADD_FAILURE() << activity.error().message;
    return activity.ok() ? std::move(*activity) : InboundActivity{};
}

TEST(TeamsActivity, PersonalMessageBecomesADirectMessage) {
    const auto activity = parsed(fixture("message-personal.json"));
    EXPECT_EQ(activity.channel_id, "msteams");
    EXPECT_EQ(activity.service_url, "https://smba.trafficmanager.net/amer/");
    ASSERT_TRUE(std::holds_alternative<IncomingMessage>(activity.content));
    const auto& message = std::get<IncomingMessage>(activity.content);
    EXPECT_EQ(message.sender.id, "teams:User-aadObjectId");
    EXPECT_EQ(message.sender.display_name, "User One");
    EXPECT_EQ(message.channel, "a:oneOnOneConversationId");
    EXPECT_EQ(message.thread, "");
    EXPECT_EQ(message.text, "Hello World!");
    EXPECT_TRUE(message.direct_message);
    EXPECT_EQ(message.message_id, "oneOnOneActivityId");
}

TEST(TeamsActivity, ChannelMentionLosesTheBotsMentionAndKeepsItsThread) {
    const auto activity = parsed(fixture("message-channel-mention.json"));
    ASSERT_TRUE(std::holds_alternative<IncomingMessage>(activity.content));
    const auto& message = std::get<IncomingMessage>(activity.content);
    EXPECT_EQ(message.sender.id, "teams:b15a9416-0ad3-4172-9210-7beb711d3f70");
    EXPECT_EQ(message.sender.display_name, "rido");
    EXPECT_EQ(message.channel, "19:6848757105754c8981c67612732d9aa7@thread.tacv2");
    EXPECT_EQ(message.thread, "1759881511856");
    EXPECT_EQ(message.text, "reply to thread");
    EXPECT_FALSE(message.direct_message);
    EXPECT_EQ(message.message_id, "1759944781430");
    EXPECT_EQ(reply_conversation_id(message.channel, message.thread), activity.conversation_id);
}

TEST(TeamsActivity, OnlyTheBotsMentionIsStrippedAndEntitiesAreDecoded) {
    json activity = json::parse(fixture("message-channel-mention.json"));
    activity["text"] =
        "<at>ridotest</at>&nbsp;run uptime on web&amp;db &lt;now&gt; for <at>Bob</at> &#x263A;";
    activity["entities"].push_back(
        {{"type", "mention"}, {"text", "<at>Bob</at>"}, {"mentioned", {{"id", "29:bob"}}}});
    const auto parsed_activity = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<IncomingMessage>(parsed_activity.content));
    EXPECT_EQ(std::get<IncomingMessage>(parsed_activity.content).text,
              "run uptime on web&db <now> for <at>Bob</at> \u263A");
}

TEST(TeamsActivity, MentionOnlyAndTextlessMessagesAreIgnored) {
    json activity = json::parse(fixture("message-channel-mention.json"));
    activity["text"] = "<at>ridotest</at>&nbsp;";
    auto only_mention = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<IgnoredActivity>(only_mention.content));
    EXPECT_EQ(std::get<IgnoredActivity>(only_mention.content).why,
              "ignored: a message with no text besides the mention");

    activity.erase("text");
    activity["value"] = {{"hostline", "approve"}};
    auto submit = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<IgnoredActivity>(submit.content));

    activity = json::parse(fixture("message-personal.json"));
    activity["from"].erase("aadObjectId");
    auto anonymous = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<IgnoredActivity>(anonymous.content));
    EXPECT_EQ(std::get<IgnoredActivity>(anonymous.content).why,
              "ignored: the sender has no aadObjectId (not a Teams user)");
}

TEST(TeamsActivity, OtherActivitiesAreIgnoredWithTheReason) {
    json activity = json::parse(fixture("message-personal.json"));
    activity["type"] = "conversationUpdate";
    auto update = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<IgnoredActivity>(update.content));
    EXPECT_EQ(std::get<IgnoredActivity>(update.content).why,
              "ignored: conversationUpdate activities are not commands");
}

TEST(TeamsActivity, ForeignCardActionIsIgnored) {
    // The fixture's card is someone else's ({"feedback": …}).
    auto activity = parsed(fixture("invoke-adaptiveCard_action-Action.Execute.json"));
    EXPECT_EQ(activity.type, "invoke");
    ASSERT_TRUE(std::holds_alternative<IgnoredActivity>(activity.content));
    EXPECT_EQ(std::get<IgnoredActivity>(activity.content).why,
              "ignored: an Adaptive Card action that is not from a Hostline card");
}

TEST(TeamsActivity, ApprovalCardButtonClickBecomesAnApprovalAction) {
    // The Deny button of our own card, clicked with a reason typed in: Teams merges the
    // card's inputs into the button's data.
    const json card = json::parse(approval_card({42, "Approval needed: deploy", {"by alice"}}));
    json data = card.at("actions").at(1).at("data");
    data["reason"] = "  not during the freeze ";
    json activity = json::parse(fixture("invoke-adaptiveCard_action-Action.Execute.json"));
    activity["value"]["action"]["data"] = data;
    activity["value"]["action"]["verb"] = card.at("actions").at(1).at("verb");

    const auto parsed_activity = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<ApprovalAction>(parsed_activity.content));
    const auto& click = std::get<ApprovalAction>(parsed_activity.content);
    EXPECT_EQ(click.user.id, "teams:c5e99701-2a32-49c1-a660-4629ceeb8c61");
    EXPECT_EQ(click.user.display_name, "Rido");
    EXPECT_EQ(click.choice, ApprovalChoice::deny);
    EXPECT_EQ(click.job_id, 42);
    EXPECT_EQ(click.request.channel,
              "a:17vxw6pGQOb3Zfh8acXT8m_PqHycYpaFgzu2mFMUfkT-h0UskMctq5ZPPc7FIQxn2bx7rBSm5yE_"
              "HeUXsCcKZBrv77RgorB3_1_pAdvMhi39ClxQgawzyQ9GBFkdiwOxT");
    EXPECT_EQ(click.request.message_id, "1767765488332");
    EXPECT_EQ(click.reason, "not during the freeze");

    activity["value"]["action"]["data"] = card.at("actions").at(0).at("data");
    const auto approve = parsed(activity.dump());
    ASSERT_TRUE(std::holds_alternative<ApprovalAction>(approve.content));
    EXPECT_EQ(std::get<ApprovalAction>(approve.content).choice, ApprovalChoice::approve);
}

TEST(TeamsActivity, MalformedHostlineDataIsIgnored) {
    json activity = json::parse(fixture("invoke-adaptiveCard_action-Action.Execute.json"));
    for (const json& data :
         {json{{"hostline", "approve"}}, json{{"hostline", "approve"}, {"job", "42"}},
          json{{"hostline", "approve"}, {"job", -1}}, json{{"hostline", "maybe"}, {"job", 42}},
          json{{"hostline", 1}, {"job", 42}}}) {
        activity["value"]["action"]["data"] = data;
        const auto parsed_activity = parsed(activity.dump());
        EXPECT_TRUE(std::holds_alternative<IgnoredActivity>(parsed_activity.content)) << data;
    }
    activity["value"]["action"]["type"] = "Action.Submit";
    EXPECT_TRUE(std::holds_alternative<IgnoredActivity>(parsed(activity.dump()).content));
    activity["name"] = "composeExtension/query";
    EXPECT_TRUE(std::holds_alternative<IgnoredActivity>(parsed(activity.dump()).content));
}

TEST(TeamsActivity, MalformedBodiesAreErrorsNotCrashes) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "the activity is not valid JSON"},
        {"[]", "the activity is not a JSON object"},
        {"{}", "the activity has no type"},
        {R"({"type":"message"})", "the activity has no channelId"},
        {R"({"type":"message","channelId":"msteams"})", "the activity has no serviceUrl"},
        {R"({"type":"message","channelId":"msteams","serviceUrl":"https://x/"})",
         "the activity has no conversation.id"},
        {R"({"type":5,"channelId":"msteams"})", "the activity has no type"},
        {std::string(kMaxActivityBytes + 1, ' '), "the activity is larger than"},
    };
    for (const auto& [body, expected] : cases) {
        auto activity = parse_activity(body);
        ASSERT_FALSE(activity.ok()) << body.substr(0, 80);
        EXPECT_NE(activity.error().message.find(expected), std::string::npos)
            << activity.error().message;
    }
    // Wrong types everywhere must not throw out of the parser.
    const std::string envelope =
        R"("channelId":"msteams","serviceUrl":"https://x/","conversation":{"id":"c"})";
    for (
        const std::string fields :
        {R"("type":"message","text":5,"from":[])",
         R"("type":"message","text":"hi","from":{"aadObjectId":7},"entities":"x")",
         R"("type":"message","text":"hi","from":{"aadObjectId":"a"},"entities":[1,{"type":"mention","mentioned":5,"text":""},{"type":"mention","mentioned":{"id":null},"text":" "}],"recipient":{"id":null})",
         R"("type":"message","text":"<at>b</at>","from":{"aadObjectId":"a"},"entities":[{"type":"mention","mentioned":{"id":"28:b"},"text":" "}],"recipient":{"id":"28:b"})",
         R"("type":"message","text":"&#0; &#xFFFFFFFFF; &#xD800; &; &#; &bogus; &","from":{"aadObjectId":"a"})",
         R"("type":"invoke","name":"adaptiveCard/action","value":[])",
         R"("type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","data":[]}})",
         R"("type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","data":{"hostline":"deny","job":1e300}}},"from":{"aadObjectId":"a"})",
         R"("type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","data":{"hostline":"deny","job":18446744073709551615}}},"from":{"aadObjectId":"a"})"}) {
        auto activity = parse_activity("{" + fields + "," + envelope + "}");
        EXPECT_TRUE(activity.ok()) << fields;
    }
}

TEST(TeamsActivity, ApprovalCardMatchesTheShapeTeamsRenders) {
    const json reference = json::parse(fixture("message-outbound-adaptive-card.json"));
    const json reference_attachment = reference.at("attachments").at(0);

    const ApprovalCard request{
        42, "Approval needed: deploy *prod*", {"Requested by <alice>", "Hosts: web-1, web-2"}};
    const json activity = json::parse(card_activity(approval_card(request), "f:reply"));
    EXPECT_EQ(activity.at("type"), "message");
    EXPECT_EQ(activity.at("replyToId"), "f:reply");
    const json attachment = activity.at("attachments").at(0);
    EXPECT_EQ(attachment.at("contentType"), reference_attachment.at("contentType"));
    const json card = attachment.at("content");
    EXPECT_EQ(card.at("$schema"), reference_attachment.at("content").at("$schema"));
    EXPECT_EQ(card.at("type"), "AdaptiveCard");
    EXPECT_EQ(card.at("version"), "1.4");

    const json body = card.at("body");
    ASSERT_EQ(body.size(), 4u);
    EXPECT_EQ(body[0].at("text"), "Approval needed: deploy \\*prod\\*");
    EXPECT_EQ(body[1].at("text"), "Requested by &lt;alice&gt;");
    EXPECT_EQ(body[2].at("text"), "Hosts: web-1, web-2");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(body[i].at("type"), "TextBlock");
        EXPECT_EQ(body[i].at("wrap"), true);
    }
    EXPECT_EQ(body[3].at("type"), "Input.Text");
    EXPECT_EQ(body[3].at("id"), "reason");

    const json actions = card.at("actions");
    ASSERT_EQ(actions.size(), 2u);
    EXPECT_EQ(actions[0].at("type"), "Action.Execute");
    EXPECT_EQ(actions[0].at("title"), "Approve");
    EXPECT_EQ(actions[0].at("data"), (json{{"hostline", "approve"}, {"job", 42}}));
    EXPECT_EQ(actions[1].at("type"), "Action.Execute");
    EXPECT_EQ(actions[1].at("title"), "Deny");
    EXPECT_EQ(actions[1].at("data"), (json{{"hostline", "deny"}, {"job", 42}}));
}

TEST(TeamsActivity, DecidedCardNamesTheDeciderAndHasNoButtons) {
    const ApprovalCard request{7, "Approval needed: restart", {"Requested by alice"}};
    const json denied =
        json::parse(decided_card(request, {ApprovalChoice::deny, "Bob_Smith", "change freeze"}));
    EXPECT_FALSE(denied.contains("actions"));
    ASSERT_EQ(denied.at("body").size(), 3u);
    EXPECT_EQ(denied.at("body")[2].at("text"), "Denied by Bob\\_Smith: change freeze");
    for (const auto& block : denied.at("body")) EXPECT_EQ(block.at("type"), "TextBlock");

    const json approved =
        json::parse(decided_card(request, {ApprovalChoice::approve, "Carol", ""}));
    EXPECT_EQ(approved.at("body")[2].at("text"), "Approved by Carol");

    const json response =
        json::parse(invoke_response(decided_card(request, {ApprovalChoice::approve, "Carol", ""})));
    EXPECT_EQ(response.at("statusCode"), 200);
    EXPECT_EQ(response.at("type"), "application/vnd.microsoft.card.adaptive");
    EXPECT_EQ(response.at("value"), approved);
}

TEST(TeamsActivity, MessageActivityIsMarkdownInTheThread) {
    EXPECT_EQ(json::parse(message_activity("**done**", "1767765488332")),
              (json{{"type", "message"},
                    {"text", "**done**"},
                    {"textFormat", "markdown"},
                    {"replyToId", "1767765488332"}}));
    EXPECT_FALSE(json::parse(message_activity("hi")).contains("replyToId"));
    // Invalid UTF-8 from a job's output is replaced, not thrown on.
    EXPECT_NO_THROW(json::parse(message_activity(std::string("bad \xff byte"))));
}

TEST(TeamsActivity, EscapedTextShowsAsTyped) {
    EXPECT_EQ(escape_markdown("<at>all</at> *x* _y_ `z` [a](b) #1 ~s~ a|b \\ & ok\nnext"),
              "&lt;at&gt;all&lt;/at&gt; \\*x\\* \\_y\\_ \\`z\\` \\[a\\]\\(b\\) \\#1 \\~s\\~ "
              "a\\|b \\\\ &amp; ok\nnext");
}

}  // namespace
}  // namespace hostline::chat::teams
