// Jobs created in pending_approval: what the approval service asks of the scheduler.
//
// Threads: the controller's io_context thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controller/jobs/job_service.hpp"

namespace hostline::controller {

class HeldJobs {
  public:
    virtual ~HeldJobs() = default;

    // Like JobService::submit, but the job is created in pending_approval with no runs and
    // nothing is sent. The reply names every matched host (online in `matched`, offline in
    // `offline`): the host set the approvers will see. Errors: as submit().
    virtual Result<SubmitReply> hold(const SubmitRequest& request) = 0;

    // Starts a held job on exactly these hosts: those online now get a queued run, the others
    // (offline or gone) a skipped one; no other host is added. Error: no held job #N.
    virtual Result<SubmitReply> release(std::int64_t job_id,
                                        const std::vector<std::string>& hosts) = 0;

    // The ids of the jobs held now, ascending.
    virtual std::vector<std::int64_t> held() const = 0;

    // Ends a held job without running it, in `state` (denied or expired). Error: no held job #N.
    virtual Result<void> close_held(std::int64_t job_id, JobState state) = 0;
};

}  // namespace hostline::controller
