// The API's routes (docs/api.md): authentication, the policy decision for the caller's
// identity, request validation, the JobService calls, and the JSON answers. Knows nothing of
// sockets or Beast: it reads a Request and answers through an Exchange, now or when the JobService
// calls back.
//
// Runs on the io_context thread. This is the one file that parses JSON.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "controller/http/event_stream.hpp"
#include "controller/http/exchange.hpp"
#include "controller/jobs/agent_admin.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/chat_gateway.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/policy/policy_file.hpp"

namespace hostline::controller::http {

class Router {
  public:
    // An empty admin_token authorises nothing. `jobs` must outlive the router.
    Router(JobService& jobs, std::string_view admin_token, Defer defer);

    void handle(const Request& request, const std::shared_ptr<Exchange>& exchange);

    // Serves POST /api/v1/chat (the terminal chat) through chat, which must outlive the router.
    void enable_chat(ChatGateway& chat) { chat_ = &chat; }
    // Decides calls by this policy and reports decisions to audit; both must outlive the
    // router. Without it, the policy is the empty one: only the admin token may act.
    void enable_policy(PolicyFile& policy, AuditTrail& audit) {
        policy_ = &policy;
        audit_ = &audit;
    }
    // Serves enrollment tokens, accept and revoke through admin, which must outlive the router.
    void enable_agent_admin(AgentAdmin& admin) { agent_admin_ = &admin; }

    // What a route handler gets: who is asking, the request, its query string, the {id} of
    // the path (0 when the route has none) and where to answer.
    struct Call {
        std::string identity;  // "token:admin"; set by identity_of(), the one auth step
        const Request& request;
        std::string_view query;
        std::int64_t job_id;
        const std::shared_ptr<Exchange>& exchange;
    };

  private:
    // The identity behind an Authorization header, or nothing when it names no valid token.
    // The one place a bearer token becomes an identity: API tokens plug in here.
    std::optional<std::string> identity_of(std::string_view authorization) const;
    // Decides permission for the caller on hosts; on a denial answers 403 with the reason and
    // returns false. Every decision goes to the audit trail.
    bool allowed(const std::string& identity, const std::shared_ptr<Exchange>& exchange,
                 const std::string& permission, const std::vector<target::Host>& hosts,
                 const std::string& subject);
    // Fetches the job and calls then(job) if the caller asked for it or holds permission.
    void with_job(const Call& call, const std::string& permission,
                  std::function<void(const JobDetail&)> then);
    std::shared_ptr<const Policy> policy() const;

    void get_agents(const Call& call);
    void get_jobs(const Call& call);
    void post_jobs(const Call& call);
    void get_job(const Call& call);
    void get_output(const Call& call);
    void get_events(const Call& call);
    void post_cancel(const Call& call);
    void post_chat(const Call& call);
    void post_policy_reload(const Call& call);
    void post_agent_token(const Call& call);
    void post_agent_accept(const Call& call);
    void post_agent_revoke(const Call& call);

    struct Route {
        std::string_view method;
        std::string_view pattern;  // "{id}" stands for a job id
        void (Router::*handler)(const Call&);
    };
    static const std::array<Route, 12> kRoutes;

    // Constant after construction.
    JobService& jobs_;
    bool has_token_;
    std::array<unsigned char, 32> token_digest_{};  // SHA-256 of the admin token
    Defer defer_;
    ChatGateway* chat_ = nullptr;        // set once, before serving
    AgentAdmin* agent_admin_ = nullptr;  // set once, before serving
    PolicyFile* policy_ = nullptr;       // set once, before serving
    AuditTrail* audit_ = nullptr;        // set with policy_
    NoAuditTrail no_audit_;
    std::shared_ptr<const Policy> no_policy_ = std::make_shared<const Policy>();
};

}  // namespace hostline::controller::http
