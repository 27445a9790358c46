#include "chat/slack/blocks.hpp"

#include <nlohmann/json.hpp>

#include "chat/slack/events.hpp"
#include "chat/slack/mrkdwn.hpp"
#include "chat/slack/web_api.hpp"

namespace hostline::chat::slack {
namespace {

using nlohmann::json;

constexpr const char* kApprovalBlockPrefix = "hostline_approval:";

json plain_text(const std::string& text) {
    return {{"type", "plain_text"}, {"text", text}};
}

json section(const std::string& mrkdwn, const JobLink& link) {
    return {{"type", "section"},
            {"text", {{"type", "mrkdwn"}, {"text", cut_to_fit(mrkdwn, kSectionTextLimit, link)}}}};
}

std::string dump(const json& blocks) {
    return blocks.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Result<std::string> approval_request_body(const ApprovalRequest& request) {
    if (request.job_id <= 0) return fail("an approval request needs a job id");
    if (request.text.empty()) return fail("an approval request needs its text");
    const std::string id = std::to_string(request.job_id);
    const JobLink link{request.job_url, request.job_id};
    json approve = {{"type", "button"},
                    {"action_id", std::string(kApproveActionId)},
                    {"style", "primary"},
                    {"text", plain_text("Approve")},
                    {"value", id}};
    json deny = {{"type", "button"},
                 {"action_id", std::string(kDenyActionId)},
                 {"style", "danger"},
                 {"text", plain_text("Deny")},
                 {"value", id},
                 {"confirm",
                  {{"title", plain_text("Deny job #" + id + "?")},
                   {"text", plain_text("The job will not run.")},
                   {"confirm", plain_text("Deny")},
                   {"deny", plain_text("Back")}}}};
    json blocks = json::array({section(request.text, link),
                               {{"type", "actions"},
                                {"block_id", kApprovalBlockPrefix + id},
                                {"elements", json::array({approve, deny})}}});
    PostMessage message;
    message.channel = request.channel;
    message.thread_ts = request.thread_ts;
    message.text =
        cut_to_fit("Job #" + id + " needs approval: " + request.text, kMessageTextLimit, link);
    message.blocks_json = dump(blocks);
    return post_message_body(message);
}

Result<std::string> approval_decision_body(const ApprovalDecision& decision) {
    if (decision.decided_by.empty()) return fail("an approval decision needs who decided");
    const JobLink link{decision.job_url, decision.job_id};
    std::string outcome =
        decision.choice == ApprovalChoice::approve ? "Approved by " : "Denied by ";
    outcome += "<@" + escape(decision.decided_by) + ">";
    if (decision.choice == ApprovalChoice::deny && !decision.reason.empty()) {
        outcome += ": " + escape(decision.reason);
    }
    // Slack refuses a section whose text is empty.
    json blocks = json::array();
    if (!decision.request_text.empty()) blocks.push_back(section(decision.request_text, link));
    blocks.push_back(section(outcome, link));
    UpdateMessage message;
    message.channel = decision.request.channel;
    message.ts = decision.request.message_id;
    message.text = cut_to_fit(outcome, kMessageTextLimit, link);
    message.blocks_json = dump(blocks);
    return update_message_body(message);
}

}  // namespace hostline::chat::slack
