// Approvals as values (DESIGN.md, Policy, approvals, audit): a job held in pending_approval
// until `count` members of a group have approved it, someone denied it, or it expired.
//
// Plain values shared by the approval service, the store and the HTTP layer; no behaviour
// beyond naming states.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostline::controller {

enum class ApprovalState { pending, granted, denied, expired };

std::string_view to_string(ApprovalState state);
std::optional<ApprovalState> parse_approval_state(std::string_view text);

// Which approvals to list, newest (highest job id) first, a page at a time.
struct ApprovalQuery {
    std::vector<ApprovalState> states;  // in any of these; empty: any state
    std::int64_t before_job_id = 0;     // paging: job ids below this; 0: newest
    int limit = 50;
};

struct ApprovalVote {
    std::string approver;  // identity
    bool approve = true;   // false: a denial
    std::string reason;    // a denial's reason
    std::int64_t at_ms = 0;
};

// One request for approval. Its id is the id of the job it holds: `!approve 42` decides job #42.
struct Approval {
    std::int64_t job_id = 0;
    std::string requester;  // never counts as an approver
    std::string source;     // where it was asked: "api", "irc:#ops"
    std::string target;     // the target expression as written
    std::vector<std::string> argv;
    // The exact hosts resolved at request time: the job runs on these and no others.
    std::vector<std::string> hosts;
    std::string group;  // the approvers' group
    int count = 1;      // approvals needed, each from a different approver
    ApprovalState state = ApprovalState::pending;
    std::string reason;  // why it was denied or expired; empty while pending or once granted
    std::int64_t created_at_ms = 0;
    std::int64_t expires_at_ms = 0;
    std::int64_t decided_at_ms = 0;   // 0 while pending
    std::vector<ApprovalVote> votes;  // in the order given

    int approvals() const {
        int n = 0;
        for (const ApprovalVote& v : votes) n += v.approve;
        return n;
    }
};

}  // namespace hostline::controller
