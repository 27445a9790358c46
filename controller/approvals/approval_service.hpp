// The approval service: jobs that need `count` approvals from a group before they run
// (DESIGN.md, Policy, approvals, audit).
//
// A request holds the job in pending_approval (HeldJobs::hold) with the exact host set
// resolved then; approvals and denials come through ApprovalDesk (chat, API, CLI); the last
// approval needed releases the job on exactly those hosts. Each pending approval has an expiry
// timer. Every request, vote, grant, denial and expiry is saved to the store before anything
// else hears of it, and reported to the AuditTrail.
//
// Who may decide is not decided here: the two injected functions of ApproverRules answer it
// (the policy engine's job). The requester never counts, and each approver counts once.
//
// Threads: the controller's io_context thread only; timers run there. No locks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/catalog/command_spec.hpp"
#include "controller/jobs/approval_desk.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/held_jobs.hpp"
#include "controller/store/store.hpp"

namespace hostline::controller {

struct ApproverRules {
    // Whether the identity is a member of the group (named by a command's approval.group).
    std::function<bool(const std::string& identity, const std::string& group)> in_group;
    // Whether the identity holds the permission ("approvals.decide").
    std::function<bool(const std::string& identity, const std::string& permission)> may;
};

class ApprovalService final : public ApprovalDesk {
  public:
    // Told of every change: a new request, a vote, a grant, a denial, an expiry. Called after
    // the change is queued to the store, on the io thread.
    using Listener = std::function<void(const Approval&)>;

    // Every reference must outlive the service.
    ApprovalService(boost::asio::io_context& io, Store& store, HeldJobs& jobs, AuditTrail& audit,
                    ApproverRules rules);
    ~ApprovalService() override;

    // Takes over the pending approvals a previous controller left (StoreSnapshot) and re-arms
    // their expiry; those past it expire as soon as the loop runs. A held job without a pending
    // approval (the controller stopped between saving one and the other) ends `expired`:
    // nothing can approve it any more. Call once, after the scheduler's restore().
    void restore(const std::vector<Approval>& pending);
    void stop();  // cancels the timers

    void add_listener(Listener listener) { listeners_.push_back(std::move(listener)); }

    // Holds the job (nothing runs) until approved. Errors: those of the scheduler's submit
    // (bad target, no host matched, ...), a rule without a group or a count below 1.
    Result<Approval> request(const SubmitRequest& request, const ApprovalSpec& spec);

    // ApprovalDesk
    void list_approvals(const ApprovalQuery& query, Callback<std::vector<Approval>> done) override;
    std::vector<Approval> pending_for(const std::string& identity) const override;
    Result<Approval> approve(std::int64_t job_id, const std::string& approver) override;
    Result<Approval> deny(std::int64_t job_id, const std::string& approver,
                          const std::string& reason) override;

  private:
    struct Pending {
        Approval approval;
        std::unique_ptr<boost::asio::steady_timer> expiry;
    };

    void arm(Pending& pending);
    void on_expired(std::int64_t job_id);
    // Why this identity may not decide this approval; empty if it may.
    std::string refusal(const Approval& approval, const std::string& identity) const;
    Result<Pending*> find_pending(std::int64_t job_id);
    // Saves and reports a change, then removes it from pending_ if it is final.
    void changed(std::map<std::int64_t, Pending>::iterator it, AuditEvent event);

    boost::asio::io_context& io_;
    Store& store_;
    HeldJobs& jobs_;
    AuditTrail& audit_;
    const ApproverRules rules_;
    std::vector<Listener> listeners_;
    std::map<std::int64_t, Pending> pending_;  // by job id
    bool stopped_ = false;
};

}  // namespace hostline::controller
