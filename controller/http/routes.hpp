// The API's routes (docs/api.md): authentication, request validation, the JobService
// calls, and the JSON answers. Knows nothing of sockets or Beast: it reads a Request and
// answers through an Exchange, now or when the JobService calls back.
//
// Runs on the io_context thread. This is the one file that parses JSON.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "controller/http/event_stream.hpp"
#include "controller/http/exchange.hpp"
#include "controller/jobs/agent_admin.hpp"
#include "controller/jobs/approval_desk.hpp"
#include "controller/jobs/chat_gateway.hpp"
#include "controller/jobs/job_service.hpp"

namespace hostline::controller::http {

class Router {
  public:
    // An empty admin_token authorises nothing. `jobs` must outlive the router.
    Router(JobService& jobs, std::string_view admin_token, Defer defer);

    void handle(const Request& request, const std::shared_ptr<Exchange>& exchange);

    // Serves POST /api/v1/chat (the terminal chat) through chat, which must outlive the router.
    void enable_chat(ChatGateway& chat) { chat_ = &chat; }
    // Serves enrollment tokens, accept and revoke through admin, which must outlive the router.
    void enable_agent_admin(AgentAdmin& admin) { agent_admin_ = &admin; }
    // Serves /api/v1/approvals through approvals, which must outlive the router.
    void enable_approvals(ApprovalDesk& approvals) { approvals_ = &approvals; }

    // What a route handler gets: the request, its query string, the {id} of the path (0
    // when the route has none) and where to answer.
    struct Call {
        const Request& request;
        std::string_view query;
        std::int64_t job_id;
        const std::shared_ptr<Exchange>& exchange;
    };

  private:
    bool authorized(std::string_view authorization) const;

    void get_agents(const Call& call);
    void get_jobs(const Call& call);
    void post_jobs(const Call& call);
    void get_job(const Call& call);
    void get_output(const Call& call);
    void get_events(const Call& call);
    void post_cancel(const Call& call);
    void post_chat(const Call& call);
    void post_agent_token(const Call& call);
    void post_agent_accept(const Call& call);
    void post_agent_revoke(const Call& call);
    void get_approvals(const Call& call);
    void post_approve(const Call& call);
    void post_deny(const Call& call);

    struct Route {
        std::string_view method;
        std::string_view pattern;  // "{id}" stands for a job id
        void (Router::*handler)(const Call&);
    };
    static const std::array<Route, 14> kRoutes;

    // Constant after construction.
    JobService& jobs_;
    bool has_token_;
    std::array<unsigned char, 32> token_digest_{};  // SHA-256 of the admin token
    Defer defer_;
    ChatGateway* chat_ = nullptr;        // set once, before serving
    AgentAdmin* agent_admin_ = nullptr;  // set once, before serving
    ApprovalDesk* approvals_ = nullptr;  // set once, before serving
};

}  // namespace hostline::controller::http
