// A click on an approval request's Approve or Deny button (Slack Block Kit, a Teams Adaptive
// Card), as the platform adapters hand it to the chat service: who clicked, what, on which job,
// and where the request was posted so it can be replaced by the decision.
//
// The click is a request, not a decision: the chat service decides it through the policy and
// the approval service as `user`, exactly as it decides `!approve ID` typed by that user.
#pragma once

#include <cstdint>
#include <string>

#include "chat/adapter.hpp"

namespace hostline::chat {

enum class ApprovalChoice { approve, deny };

struct ApprovalAction {
    Identity user;  // who clicked: "slack:U024BE7LH", "teams:<aadObjectId>"
    ApprovalChoice choice = ApprovalChoice::approve;
    std::int64_t job_id = 0;    // the approval's id is its job's
    PostedMessage request;      // the message with the buttons, to be edited to the outcome
    std::string reason;         // a denial's reason where the platform asked for one
};

}  // namespace hostline::chat
