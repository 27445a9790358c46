// The controller's HTTP API server: REST JSON under /api/v1 and /healthz (docs/api.md).
//
// Runs on the controller's io_context thread, beside the scheduler: every method here must
// be called on that thread, and nothing it does blocks it. It serves the JobService facade
// and never calls it from another thread. Beast stays inside controller/http/*.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat/inbound_call.hpp"
#include "common/error.hpp"
#include "controller/http/browser_sessions.hpp"
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

namespace boost::asio {
class io_context;
}

namespace hostline::controller {

struct HttpConfig {
    std::string address = "127.0.0.1";  // an IP address, v4 or v6
    std::uint16_t port = 7480;          // 0 picks a free port
    std::string admin_token;            // Bearer token for /api/v1; empty refuses every call
    std::size_t max_body_bytes = 1 << 20;
    // Browser sessions of the web UI ([http] session_idle, session_max, secure_cookies).
    http::BrowserSessionLimits browser_sessions;
    bool secure_cookies = false;  // the session cookie gets Secure (served over HTTPS only)
};

class HttpServer {
  public:
    // `jobs` must outlive the server. Nothing happens until start().
    HttpServer(boost::asio::io_context& io, JobService& jobs, HttpConfig config);
    // Stops the server (see stop()).
    ~HttpServer();

    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens, then accepts on the io_context. Returns the bound port. Error:
    // the address is not an IP address, or it cannot be bound (in use, permission); the
    // message names the address and the reason. Calling it twice is an error.
    Result<std::uint16_t> start();
    // Also serves POST /api/v1/chat through chat (which must outlive the server). Call before
    // start().
    void enable_chat(ChatGateway& chat);
    // Decides every call by policy (and serves POST /api/v1/policy/reload); without it only
    // the admin token may do anything. Both must outlive the server. Call before start().
    void enable_policy(PolicyFile& policy, AuditTrail& audit);
    // Also serves the agent enrollment routes through admin (which must outlive the server).
    // Call before start().
    void enable_agent_admin(AgentAdmin& admin);
    // Also serves /api/v1/approvals through approvals (which must outlive the server). Call
    // before start().
    void enable_approvals(ApprovalDesk& approvals);
    // Also serves /api/v1/audit through audit (which must outlive the server). Before start().
    void enable_audit(AuditLog& audit);
    // Also accepts API tokens and serves /api/v1/tokens through tokens (which must outlive the
    // server). Before start().
    void enable_tokens(ApiTokens& tokens);
    // Serves POST /hooks/NAME through hooks, which must outlive the server.
    void enable_hooks(WebhookDesk& hooks);
    // Serves POST `path` (/chat/teams/messages, /chat/slack/events) through `handler`: a chat
    // platform's calls, authenticated by the adapter behind it.
    void enable_chat_inbound(const std::string& path, chat::InboundHandler handler);
    // Serves /api/v1/schedules through schedules, which must outlive the server.
    void enable_schedules(ScheduleDesk& schedules);
    // Also serves GET /metrics with the text expose() returns (on the io thread, per scrape):
    // to tokens whose identity holds metrics.read, or to anyone when open_to_all. Before
    // start().
    void enable_metrics(std::function<std::string()> expose, bool open_to_all);

    // Closes the listener and every connection, ending live event streams and dropping
    // their subscriptions. Requests still waiting on the JobService get no answer. Safe to
    // call more than once.
    void stop();

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hostline::controller
