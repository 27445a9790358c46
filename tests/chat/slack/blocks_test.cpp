#include "chat/slack/blocks.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/slack/events.hpp"
#include "chat/slack/mrkdwn.hpp"

namespace hostline::chat::slack {
namespace {

using nlohmann::json;

ApprovalRequest request_for(std::int64_t job_id) {
    ApprovalRequest r;
    r.channel = "C111";
    r.thread_ts = "1610241741.000200";
    r.job_id = job_id;
    r.text = "*deploy* on web-1 requested by <@U222>";
    r.job_url = "https://hostline.example/jobs/42";
    return r;
}

TEST(SlackBlocks, ApprovalRequestHasApproveAndDenyButtonsForTheJob) {
    auto body = approval_request_body(request_for(42));
    ASSERT_TRUE(body) << body.error().message;
    const json b = json::parse(*body);
    EXPECT_EQ(b["channel"], "C111");
    EXPECT_EQ(b["thread_ts"], "1610241741.000200");
    EXPECT_EQ(b["unfurl_links"], false);
    EXPECT_NE(b["text"].get<std::string>().find("#42"), std::string::npos);
    ASSERT_EQ(b["blocks"].size(), 2u);
    EXPECT_EQ(b["blocks"][0]["type"], "section");
    EXPECT_EQ(b["blocks"][0]["text"]["type"], "mrkdwn");
    EXPECT_EQ(b["blocks"][0]["text"]["text"], "*deploy* on web-1 requested by <@U222>");
    const json& actions = b["blocks"][1];
    EXPECT_EQ(actions["type"], "actions");
    EXPECT_EQ(actions["block_id"], "hostline_approval:42");
    ASSERT_EQ(actions["elements"].size(), 2u);
    const json& approve = actions["elements"][0];
    EXPECT_EQ(approve["type"], "button");
    EXPECT_EQ(approve["action_id"], kApproveActionId);
    EXPECT_EQ(approve["style"], "primary");
    EXPECT_EQ(approve["value"], "42");
    EXPECT_EQ(approve["text"], (json{{"type", "plain_text"}, {"text", "Approve"}}));
    EXPECT_FALSE(approve.contains("confirm"));
    const json& deny = actions["elements"][1];
    EXPECT_EQ(deny["action_id"], kDenyActionId);
    EXPECT_EQ(deny["style"], "danger");
    EXPECT_EQ(deny["value"], "42");
    for (const char* key : {"title", "text", "confirm", "deny"}) {
        EXPECT_EQ(deny["confirm"][key]["type"], "plain_text") << key;
    }
}

// The request's buttons, clicked, come back as the ApprovalAction for the same job: what we
// send and what we read agree.
TEST(SlackBlocks, AClickOnTheRequestReadsBackAsItsJob) {
    const json b = json::parse(*approval_request_body(request_for(42)));
    const json& deny = b["blocks"][1]["elements"][1];
    const json payload = {
        {"type", "block_actions"},
        {"user", {{"id", "U333"}, {"name", "carol"}}},
        {"container", {{"type", "message"}, {"channel_id", "C111"}, {"message_ts", "1.2"}}},
        {"actions", json::array({{{"action_id", deny["action_id"]},
                                  {"block_id", b["blocks"][1]["block_id"]},
                                  {"value", deny["value"]},
                                  {"type", "button"}}})}};
    auto action = read_interactive(payload.dump());
    ASSERT_TRUE(action && *action);
    EXPECT_EQ((*action)->job_id, 42);
    EXPECT_EQ((*action)->choice, ApprovalChoice::deny);
    EXPECT_EQ((*action)->user.id, "slack:U333");
}

TEST(SlackBlocks, LongRequestTextIsCutToASection) {
    ApprovalRequest r = request_for(42);
    r.text = std::string(5000, 'x');
    const json b = json::parse(*approval_request_body(r));
    const std::string section = b["blocks"][0]["text"]["text"];
    EXPECT_LE(slack_length(section), kSectionTextLimit);
    EXPECT_NE(section.find("job #42"), std::string::npos);
    EXPECT_LE(slack_length(b["text"].get<std::string>()), kMessageTextLimit);
}

TEST(SlackBlocks, RequestWithoutAJobIsRefused) {
    EXPECT_FALSE(approval_request_body(request_for(0)));
}

TEST(SlackBlocks, DecisionReplacesTheButtonsWithWhoDecided) {
    ApprovalDecision d;
    d.request = PostedMessage{"C111", "1605853634.000400"};
    d.request_text = "*deploy* on web-1 requested by <@U222>";
    d.choice = ApprovalChoice::approve;
    d.decided_by = "U333";
    d.job_id = 42;
    auto body = approval_decision_body(d);
    ASSERT_TRUE(body) << body.error().message;
    const json b = json::parse(*body);
    EXPECT_EQ(b["channel"], "C111");
    EXPECT_EQ(b["ts"], "1605853634.000400");
    EXPECT_EQ(b["text"], "Approved by <@U333>");
    ASSERT_EQ(b["blocks"].size(), 2u);
    for (const auto& block : b["blocks"]) EXPECT_EQ(block["type"], "section");
    EXPECT_EQ(b["blocks"][1]["text"]["text"], "Approved by <@U333>");
    EXPECT_EQ(b["blocks"][0]["text"]["text"], d.request_text);
}

TEST(SlackBlocks, DenialShowsTheReasonEscaped) {
    ApprovalDecision d;
    d.request = PostedMessage{"C111", "1.2"};
    d.choice = ApprovalChoice::deny;
    d.decided_by = "U333";
    d.reason = "not during <freeze> & not today";
    d.job_id = 42;
    const json b = json::parse(*approval_decision_body(d));
    EXPECT_EQ(b["text"], "Denied by <@U333>: not during &lt;freeze&gt; &amp; not today");
    ASSERT_EQ(b["blocks"].size(), 1u);  // Slack refuses a section with empty text
    EXPECT_EQ(b["blocks"][0]["text"]["text"], b["text"]);
    d.decided_by.clear();
    EXPECT_FALSE(approval_decision_body(d));
}

}  // namespace
}  // namespace hostline::chat::slack
