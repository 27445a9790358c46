// The inbound webhooks (docs/webhooks.md): checks each call's signature and replay, then
// posts the hook's rendered message in its channel, or runs its catalog command as the
// hook's identity once the policy allows it, exactly as a chat user typing the command
// would be decided (the command's permission, the hosts, allowed_targets; channel
// "hook:NAME"). Every call that does something and every refused call goes to the audit
// trail ("hook.received", "hook.refused").
//
// Threads: the controller's io_context thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/target/target_expr.hpp"
#include "controller/catalog/catalog.hpp"
#include "controller/hooks/hook_signature.hpp"
#include "controller/hooks/hook_spec.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/jobs/webhook_desk.hpp"
#include "controller/policy/policy_file.hpp"

namespace hostline::controller {

// Posts text in a chat source ("irc:#ops"); the error says why it cannot (no such adapter).
using ChannelPoster = std::function<Result<void>(const std::string& source, const std::string&)>;

// What the config reader cannot check alone: a run hook's command is in the catalog and its
// params are that command's; an irc: post channel has [chat.irc]. Every problem, one per
// line, named by key.
Result<void> check_hooks(const std::vector<HookSpec>& hooks, const Catalog& catalog,
                         bool irc_configured);

class HookService final : public WebhookDesk {
  public:
    // jobs, catalog, policy and audit must outlive the service. groups expand @group in
    // run targets, as the scheduler expands them.
    HookService(std::vector<HookSpec> hooks, JobService& jobs, const Catalog& catalog,
                const PolicyFile& policy, AuditTrail& audit, target::Groups groups,
                ChannelPoster post);

    void receive(WebhookCall call, std::function<void(WebhookAnswer)> answer) override;

    // For tests: the time verify uses, in seconds since 1970.
    void set_clock(std::function<std::int64_t()> now_seconds) { now_ = std::move(now_seconds); }

  private:
    struct Hook {
        HookSpec spec;
        ReplayMemory deliveries;  // X-GitHub-Delivery ids
        ReplayMemory signatures;  // every accepted call's HMAC
    };

    void run(Hook& hook, const VerifiedCall& verified, const nlohmann::json& body,
             const std::function<void(WebhookAnswer)>& answer);
    // Answers a refusal and reports it to the audit trail.
    void refuse(const std::string& hook, unsigned status, const std::string& reason,
                const std::function<void(WebhookAnswer)>& answer);
    void remember(Hook& hook, const VerifiedCall& verified);

    std::map<std::string, Hook> hooks_;
    JobService& jobs_;
    const Catalog& catalog_;
    const PolicyFile& policy_;
    AuditTrail& audit_;
    const target::Groups groups_;
    ChannelPoster post_;
    std::function<std::int64_t()> now_;
};

}  // namespace hostline::controller
