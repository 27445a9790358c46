// The Block Kit messages of an approval: the request with Approve and Deny buttons, and the
// message that replaces it once someone has decided. Returned as complete chat.postMessage /
// chat.update bodies (web_api.hpp).
//
// A click on a button comes back as a block_actions payload (events.hpp read_interactive) with
// the button's action_id and the job id as its value. Limits (python-slack-sdk's block models):
// section text 3,000 characters, button value 2,000. Pure functions; any thread may call them.
#pragma once

#include <cstdint>
#include <string>

#include "chat/approval_action.hpp"
#include "common/error.hpp"

namespace hostline::chat::slack {

struct ApprovalRequest {
    std::string channel;
    std::string thread_ts;  // where the request is posted; empty: the channel itself
    std::int64_t job_id = 0;
    std::string text;     // mrkdwn, already escaped ("*deploy* on web-1 requested by <@U1>");
                          // cut to kSectionTextLimit if longer
    std::string job_url;  // for the cut note; may be empty
};

// chat.postMessage body: text (the notification) plus a section with the request text and an
// actions block (block_id "hostline_approval:<job id>") with Approve (style primary, action_id
// hostline_approve) and Deny (style danger, action_id hostline_deny, with a confirm dialog),
// both with value "<job id>". Error: no job id or no text.
Result<std::string> approval_request_body(const ApprovalRequest& request);

struct ApprovalDecision {
    PostedMessage request;     // the message with the buttons (ApprovalAction::request)
    std::string request_text;  // the request's text again, so the record stays readable;
                               // empty: the outcome alone
    ApprovalChoice choice = ApprovalChoice::approve;
    std::string decided_by;  // the Slack user id, "U…" (not "slack:U…")
    std::string reason;      // a denial's reason; may be empty
    std::string job_url;
    std::int64_t job_id = 0;
};

// chat.update body replacing the request: the request's section and a section saying
// "Approved by <@U…>" or "Denied by <@U…>: reason" (escaped), and no buttons. Error: nobody
// decided.
Result<std::string> approval_decision_body(const ApprovalDecision& decision);

}  // namespace hostline::chat::slack
