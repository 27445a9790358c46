// Where everything worth auditing is reported: commands received, policy decisions,
// approvals, jobs, run results, agent enrollment/acceptance/revocation, token and policy
// changes. The store-backed implementation appends each event as one row of a hash chain
// (each row's hash covers the previous row's), so history cannot be edited quietly.
//
// Threads: record() is called on the controller's io_context thread and never blocks; the
// implementation hands the row to the store. A failure to persist is logged loudly by the
// implementation, never returned: auditing must not change what the caller does.
#pragma once

#include <map>
#include <string>

namespace hostline::controller {

struct AuditEvent {
    // Dotted, from a fixed vocabulary: "command.received", "policy.allowed", "policy.denied",
    // "job.created", "run.finished", "run.rejected", "approval.requested",
    // "approval.granted", "approval.denied", "approval.expired", "agent.enrolled",
    // "agent.pending", "agent.accepted", "agent.revoked", "token.created", "token.revoked",
    // "policy.reloaded", "hook.received", "hook.refused", "agent.drained", "agent.undrained",
    // "ui.login", "ui.login_refused", "ui.logout", "schedule.added", "schedule.paused",
    // "schedule.resumed", "schedule.removed", "schedule.fired", "schedule.refused",
    // "schedule.missed".
    std::string kind;
    std::string actor;    // the identity behind it ("irc:alice", "token:ci"), or "controller"
    std::string subject;  // what it is about: "job:42", "run:7", "agent:web-01", "token:ci"
    std::map<std::string, std::string> detail;  // e.g. {"argv": "...", "channel": "#ops"}
};

class AuditTrail {
  public:
    virtual ~AuditTrail() = default;
    virtual void record(AuditEvent event) = 0;
};

// For code paths and tests that have nowhere to report to.
class NoAuditTrail final : public AuditTrail {
  public:
    void record(AuditEvent) override {}
};

}  // namespace hostline::controller
