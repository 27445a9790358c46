// The API's routes (docs/api.md): authentication, the policy decision for the caller's
// identity, request validation, the JobService calls, and the JSON answers. Knows nothing of
// sockets or Beast: it reads a Request and answers through an Exchange, now or when the JobService
// calls back.
//
// Runs on the io_context thread. Request bodies are parsed in routes.cpp, and the login
// body in browser_session_routes.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/inbound_call.hpp"
#include "controller/http/browser_sessions.hpp"
#include "controller/http/event_stream.hpp"
#include "controller/http/exchange.hpp"
#include "controller/jobs/agent_admin.hpp"
#include "controller/jobs/api_tokens.hpp"
#include "controller/jobs/approval_desk.hpp"
#include "controller/jobs/audit_log.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/chat_gateway.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/jobs/schedule_desk.hpp"
#include "controller/jobs/webhook_desk.hpp"
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
        audit_trail_ = &audit;
    }
    // Serves enrollment tokens, accept and revoke through admin, which must outlive the router.
    void enable_agent_admin(AgentAdmin& admin) { agent_admin_ = &admin; }
    // Serves /api/v1/approvals through approvals, which must outlive the router.
    void enable_approvals(ApprovalDesk& approvals) { approvals_ = &approvals; }
    // Serves /api/v1/audit through audit, which must outlive the router.
    void enable_audit(AuditLog& audit) { audit_ = &audit; }
    // Accepts the tokens' bearer secrets beside the admin token, and serves /api/v1/tokens.
    void enable_tokens(ApiTokens& tokens) { tokens_ = &tokens; }
    // Serves POST /hooks/NAME (outside /api: the hook's HMAC authenticates, not a bearer
    // token) through hooks, which must outlive the router.
    void enable_hooks(WebhookDesk& hooks) { hooks_ = &hooks; }
    // Serves /api/v1/schedules through schedules, which must outlive the router.
    void enable_schedules(ScheduleDesk& schedules) { schedules_ = &schedules; }
    // Serves POST `path` (under /chat/, outside /api: the platform authenticates each call its
    // own way, not with a bearer token) through `handler`, which checks the call first.
    void enable_chat_inbound(const std::string& path, chat::InboundHandler handler) {
        chat_inbound_[path] = std::move(handler);
    }
    // Serves GET /metrics with the text expose() returns (Prometheus text format 0.0.4), to
    // callers holding metrics.read, or to anyone when open_to_all.
    void enable_metrics(std::function<std::string()> expose, bool open_to_all) {
        expose_metrics_ = std::move(expose);
        metrics_public_ = open_to_all;
    }

    // What a route handler gets: the request, its query string, the {id} of the path (0
    // when the route has none), the {name} of the path, where to answer, and the identity
    // the bearer token acts as ("token:admin" for the admin token, a token's bound identity).
    struct Call {
        const Request& request;
        std::string_view query;
        std::int64_t job_id;
        const std::shared_ptr<Exchange>& exchange;
        std::string_view name = {};
        std::string identity = {};
    };

    // One route as data: what the permission matrix test walks, so a route added to the
    // table is checked without anyone remembering to list it. `permission` is empty when the
    // handler decides itself (see kRoutes).
    struct RouteInfo {
        std::string_view method;
        std::string_view pattern;
        std::string_view permission;
    };
    static std::vector<RouteInfo> route_table();

  private:
    // The identity behind an Authorization header; the error is the 401's message. The one
    // place a bearer token becomes an identity.
    Result<std::string> authenticate(std::string_view authorization) const;
    // The identity behind a token's secret (the admin token or an API token), for a bearer
    // header and for a browser session alike.
    Result<std::string> authenticate_secret(std::string_view secret) const;
    // Decides permission for the caller on hosts; on a denial answers 403 with the reason and
    // returns false. Every denial, and every decision on a change, goes to the audit trail;
    // an allowed read does not.
    enum class Access { read, change };
    bool allowed(const std::string& identity, const std::shared_ptr<Exchange>& exchange,
                 const std::string& permission, const std::vector<target::Host>& hosts,
                 const std::string& subject, Access access = Access::change);
    // Whether identity may act on the job (its own, or permission); answers the refusal.
    bool may_act_on(const std::string& identity, const std::shared_ptr<Exchange>& exchange,
                    const std::string& permission, std::int64_t job_id,
                    const std::string& requester);
    // Fetches the job and calls then(job) if the caller asked for it or holds permission.
    void with_job(const Call& call, const std::string& permission,
                  std::function<void(const JobDetail&)> then);
    std::shared_ptr<const Policy> policy() const;

    void get_agents(const Call& call);
    // /api/v1/schedules (schedule_routes.cpp)
    void get_schedules(const Call& call);
    void get_schedule(const Call& call);
    void post_schedules(const Call& call);
    void post_schedule_pause(const Call& call);
    void post_schedule_resume(const Call& call);
    void delete_schedule(const Call& call);
    // The schedule call.name names, if the caller owns it or holds schedules.manage.
    void with_schedule(const Call& call, std::function<void(const Schedule&)> then);
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
    void change_agent_key(const Call& call, bool accept);
    void get_approvals(const Call& call);
    void post_approve(const Call& call);
    void post_deny(const Call& call);
    void get_audit(const Call& call);
    void get_audit_verify(const Call& call);
    void get_tokens(const Call& call);
    void post_tokens(const Call& call);
    void delete_token(const Call& call);
    // GET and PUT /api/v1/log-levels (log_level_routes.cpp)
    void get_log_levels(const Call& call);
    void put_log_levels(const Call& call);
    // POST /hooks/NAME (webhook_routes.cpp)
    void post_hook(const Request& request, std::string_view name,
                   const std::shared_ptr<Exchange>& exchange);
    // POST /chat/...: a chat platform's calls (chat_inbound_routes.cpp)
    void post_chat_inbound(const Request& request, std::string_view path,
                           const std::shared_ptr<Exchange>& exchange);

    // GET /, /ui and /ui/FILE: the web UI's page and files (ui_routes.cpp).
    void serve_ui(const Request& request, std::string_view path,
                  const std::shared_ptr<Exchange>& exchange);

    // GET /metrics, outside /api/ like /healthz (metrics_routes.cpp).
    void serve_metrics(const Request& request, const std::shared_ptr<Exchange>& exchange);

    // Agents one by one, and draining (agent_routes.cpp).
    void get_agent(const Call& call);
    void post_agent_drain(const Call& call);
    void post_agent_undrain(const Call& call);
    void change_draining(const Call& call, bool draining);
    // One run's output as a byte range, and as a file (end of routes.cpp).
    void get_output_range(const Call& call);
    void get_output_download(const Call& call);
    void send_output_piece(const std::shared_ptr<Exchange>& exchange,
                           const std::shared_ptr<bool>& gone, std::int64_t job_id,
                           OutputRange range, std::int64_t total, OutputSlice piece);
    // Every audit row as NDJSON, a page at a time (end of routes.cpp).
    void get_audit_export(const Call& call);
    void export_audit_after(const std::shared_ptr<Exchange>& exchange,
                            const std::shared_ptr<bool>& gone, std::int64_t after_id);

    // Browser sessions of the web UI: /auth/login, /auth/session, /auth/logout, and the
    // hostline_session cookie in place of a bearer token (browser_session_routes.cpp).
  public:
    // Serves /auth/* and accepts session cookies on /api/; without it both are refused. Before
    // serving.
    void enable_browser_sessions(BrowserSessionLimits limits, bool secure_cookies);

  private:
    void handle_auth(const Request& request, std::string_view path,
                     const std::shared_ptr<Exchange>& exchange);
    void post_login(const Request& request, const std::shared_ptr<Exchange>& exchange);
    void get_session(const Request& request, const std::shared_ptr<Exchange>& exchange);
    void post_logout(const Request& request, const std::shared_ptr<Exchange>& exchange);
    // The identity a request to /api/ acts as: its bearer token's, or else its session
    // cookie's, after the Origin and CSRF checks. nullopt when it has answered (401, 403).
    std::optional<std::string> caller(const Request& request,
                                      const std::shared_ptr<Exchange>& exchange);
    // The live session the request's cookie names, its secret authenticated again, after the
    // cross-site and (unless safe_method) CSRF checks; nullopt when it has answered.
    struct SessionCaller {
        std::string id;
        std::string identity;
        BrowserSession session;
    };
    std::optional<SessionCaller> session_caller(const Request& request,
                                                const std::shared_ptr<Exchange>& exchange);
    std::optional<BrowserSessions> browser_sessions_;  // set once, before serving
    bool secure_cookies_ = false;                      // set with browser_sessions_

    struct Route {
        std::string_view method;
        std::string_view pattern;  // "{id}" stands for a job id, "{name}" for a name
        void (Router::*handler)(const Call&);
        // What the policy engine must grant call.identity before the handler runs; empty:
        // the handler decides itself.
        std::string_view permission;
    };
    static const std::array<Route, 33> kRoutes;

    // Constant after construction.
    JobService& jobs_;
    bool has_token_;
    std::array<unsigned char, 32> token_digest_{};  // SHA-256 of the admin token
    Defer defer_;
    ChatGateway* chat_ = nullptr;        // set once, before serving
    AgentAdmin* agent_admin_ = nullptr;  // set once, before serving
    ApprovalDesk* approvals_ = nullptr;  // set once, before serving
    AuditLog* audit_ = nullptr;          // set once, before serving
    ApiTokens* tokens_ = nullptr;        // set once, before serving
    PolicyFile* policy_ = nullptr;       // set once, before serving
    WebhookDesk* hooks_ = nullptr;       // set once, before serving
    ScheduleDesk* schedules_ = nullptr;  // set once, before serving
    std::map<std::string, chat::InboundHandler, std::less<>> chat_inbound_;  // set before serving
    AuditTrail* audit_trail_ = nullptr;                                      // set with policy_
    NoAuditTrail no_audit_;
    std::shared_ptr<const Policy> no_policy_ = std::make_shared<const Policy>();
    // Set once, before serving; empty: there is no /metrics.
    std::function<std::string()> expose_metrics_;
    bool metrics_public_ = false;
};

}  // namespace hostline::controller::http
