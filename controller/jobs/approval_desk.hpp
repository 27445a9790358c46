// Where approvals are decided: what the HTTP API, the chat and the CLI (through the API) ask
// of the approval service.
//
// Threads: every method is called on the controller's io_context thread, and callbacks run
// there too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/jobs/approval.hpp"
#include "controller/jobs/job_service.hpp"

namespace hostline::controller {

class ApprovalDesk {
  public:
    virtual ~ApprovalDesk() = default;

    // No states: the pending ones. Newest first, at most `limit` (clamped to [1, 500]).
    virtual void list_approvals(const ApprovalQuery& query,
                                Callback<std::vector<Approval>> done) = 0;
    // The pending approvals this identity could decide now: not its own, not already voted
    // on, and it is an approver of their group.
    virtual std::vector<Approval> pending_for(const std::string& identity) const = 0;

    // One approval from `approver`. When it is the last one needed, the job starts on the
    // approved hosts. Errors say why in words a person can act on: no such pending approval,
    // self-approval, a second vote by the same approver, not an approver of its group.
    virtual Result<Approval> approve(std::int64_t job_id, const std::string& approver) = 0;
    // Ends the job `denied` with the reason. The requester may withdraw their own request.
    // Errors: as approve(), and an empty or overlong reason.
    virtual Result<Approval> deny(std::int64_t job_id, const std::string& approver,
                                  const std::string& reason) = 0;
};

}  // namespace hostline::controller
