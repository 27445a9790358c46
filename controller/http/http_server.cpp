#include "controller/http/http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "common/log/module_logger.hpp"
#include "controller/http/listener.hpp"
#include "controller/http/server_state.hpp"

static constinit hostline::log::ModuleLogger logger{"http"};

namespace hostline::controller {

struct HttpServer::Impl {
    boost::asio::io_context& io;
    std::shared_ptr<http::ServerState> state;
    std::shared_ptr<http::Listener> listener;
    // Work deferred with http::Defer runs only while this lives, so nothing touches the
    // JobService after the server is destroyed.
    std::shared_ptr<int> alive = std::make_shared<int>();
};

HttpServer::HttpServer(boost::asio::io_context& io, JobService& jobs, HttpConfig config)
    : impl_(std::make_unique<Impl>(Impl{.io = io})) {
    http::Defer defer = [&io,
                         alive = std::weak_ptr<int>(impl_->alive)](std::function<void()> work) {
        boost::asio::post(io, [alive, work = std::move(work)] {
            if (alive.lock()) work();
        });
    };
    impl_->state = std::make_shared<http::ServerState>(jobs, std::move(config), std::move(defer));
    impl_->state->router.enable_browser_sessions(impl_->state->config.browser_sessions,
                                                 impl_->state->config.secure_cookies);
}

void HttpServer::enable_chat(ChatGateway& chat) {
    impl_->state->router.enable_chat(chat);
}

void HttpServer::enable_policy(PolicyFile& policy, AuditTrail& audit) {
    impl_->state->router.enable_policy(policy, audit);
}

void HttpServer::enable_agent_admin(AgentAdmin& admin) {
    impl_->state->router.enable_agent_admin(admin);
}

void HttpServer::enable_approvals(ApprovalDesk& approvals) {
    impl_->state->router.enable_approvals(approvals);
}

void HttpServer::enable_audit(AuditLog& audit) {
    impl_->state->router.enable_audit(audit);
}

void HttpServer::enable_hooks(WebhookDesk& hooks) {
    impl_->state->router.enable_hooks(hooks);
}

void HttpServer::enable_schedules(ScheduleDesk& schedules) {
    impl_->state->router.enable_schedules(schedules);
}

void HttpServer::enable_chat_inbound(const std::string& path, chat::InboundHandler handler) {
    impl_->state->router.enable_chat_inbound(path, std::move(handler));
}

void HttpServer::enable_tokens(ApiTokens& tokens) {
    impl_->state->router.enable_tokens(tokens);
}

void HttpServer::enable_metrics(std::function<std::string()> expose, bool open_to_all) {
    impl_->state->router.enable_metrics(std::move(expose), open_to_all);
}

HttpServer::~HttpServer() {
    stop();
}

Result<std::uint16_t> HttpServer::start() {
    if (impl_->listener) return fail("the HTTP server is already started");
    const auto& config = impl_->state->config;
    auto listener = http::Listener::open(impl_->io, config.address, config.port, impl_->state);
    if (!listener) return listener.error();
    impl_->listener = std::move(*listener);
    impl_->listener->run();
    const auto port = impl_->listener->port();
    logger->info("API listening on {}:{}", config.address, port);
    return port;
}

void HttpServer::stop() {
    if (impl_->listener) {
        impl_->listener->stop();
        impl_->listener.reset();
    }
    impl_->state->close_all();
}

}  // namespace hostline::controller
