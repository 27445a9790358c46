#include "controller/app.hpp"

#include <unistd.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>

#include <set>

#include "chat/slack/slack_adapter.hpp"
#include "common/log/log_config.hpp"
#include "common/log/module_logger.hpp"
#include "common/service/service_manager.hpp"
#include "common/transport/curve_keys.hpp"
#include "common/transport/router_thread.hpp"
#include "controller/agents/agent_enrollment.hpp"
#include "controller/agents/enrollment_tokens.hpp"
#include "controller/agents/key_directory.hpp"
#include "controller/approvals/approval_service.hpp"
#include "controller/audit/store_audit_trail.hpp"
#include "controller/catalog/catalog.hpp"
#include "controller/chat/chat_service.hpp"
#include "controller/data_dir.hpp"
#include "controller/hooks/hook_service.hpp"
#include "controller/http/http_server.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/metrics/controller_metrics.hpp"
#include "controller/policy/policy_file.hpp"
#include "controller/scheduler/scheduler.hpp"
#include "controller/schedules/schedule_service.hpp"
#include "controller/service_status.hpp"
#include "controller/store/store.hpp"
#include "controller/tokens/token_registry.hpp"

static constinit hostline::log::ModuleLogger logger{"controller"};

namespace hostline::controller {
namespace {

// The bound endpoint as another host can reach it: a wildcard address becomes the host name.
std::string reachable(const std::string& endpoint) {
    const std::string wildcard = "tcp://0.0.0.0:";
    if (endpoint.rfind(wildcard, 0) != 0) return endpoint;
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) return endpoint;
    return "tcp://" + std::string(host) + ":" + endpoint.substr(wildcard.size());
}

}  // namespace

class App::Impl {
  public:
    explicit Impl(ControllerConfig config) : config_(std::move(config)) {}

    Result<void> start() {
        auto data_dir = prepare_data_dir(config_);
        if (!data_dir) return data_dir.error();
        for (const std::string& line : data_dir->created) logger->info("{}", line);
        const transport::CurveKeyPair& keys = data_dir->keys;

        // An upgrade may migrate the schema first, which can take minutes on a large store.
        service::notify_status("opening the database (an upgrade migrates it first)");
        auto store = Store::open(
            config_.database_path(),
            [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); }, &metrics_);
        if (!store) return store.error();
        store_ = std::move(*store);
        auto snapshot = store_->load();
        if (!snapshot) return snapshot.error();
        audit_ = std::make_unique<StoreAuditTrail>(*store_);
        audit_->record({"controller.started", "controller", "controller", {}});
        api_tokens_ = std::make_unique<TokenRegistry>(*store_, *audit_, snapshot->tokens);

        keys_ = std::make_unique<KeyDirectory>(config_.accepted_agents_dir());
        // An agent whose key is no longer accepted (revoked) is not a host any more.
        std::erase_if(snapshot->agents,
                      [this](const AgentRecord& a) { return !keys_->is_accepted(a.name); });
        tokens_ = std::make_unique<EnrollmentTokens>(config_.data_dir + "/enrollment-tokens");
        if (auto loaded = tokens_->load(); !loaded) return loaded;
        router_ = std::make_unique<transport::RouterThread>(config_.agent_listen, keys, *keys_);
        SchedulerConfig sc;
        sc.heartbeat = std::chrono::milliseconds(config_.heartbeat_ms);
        sc.max_heartbeats_per_second =
            static_cast<std::uint32_t>(config_.max_heartbeats_per_second);
        sc.inbound_paused = [router = router_.get()] { return router->reading_paused(); };
        sc.agent_grace = std::chrono::milliseconds(config_.agent_grace_ms);
        sc.default_timeout = std::chrono::milliseconds(config_.default_timeout_ms);
        sc.output_cap_bytes = config_.output_cap_bytes;
        sc.compress_output = config_.compress_output;
        sc.groups = config_.groups;
        sc.max_running_runs = config_.max_running_runs;
        scheduler_ = std::make_unique<Scheduler>(
            io_, *store_,
            [this](const std::string& agent, proto::Message m) {
                router_->send(agent, std::move(m));
            },
            sc, audit_.get());
        scheduler_->enable_metrics(metrics_);
        scheduler_->set_command_rules([this](const std::string& command) {
            const CommandSpec* spec = catalog_.find(command);
            return spec != nullptr ? spec->rules() : CommandRules{};
        });
        scheduler_->restore(*snapshot);
        approvals_ = std::make_unique<ApprovalService>(
            io_, *store_, *scheduler_, *audit_,
            // An approver is a member of the approval's group in the policy in force at the
            // moment of the vote, and holds approvals.decide.
            ApproverRules{[this](const std::string& who, const std::string& group) {
                              return policy_->current()->in_group(who, group);
                          },
                          [this](const std::string& who, const std::string& permission) {
                              return policy_->current()->decide({who, permission, {}, ""}).allowed;
                          }});
        approvals_->restore(snapshot->pending_approvals);

        if (!config_.catalog_dir.empty()) {
            auto catalog = Catalog::load(config_.catalog_dir, config_.groups);
            if (!catalog)
                return fail("the command catalog is invalid:\n" + catalog.error().message);
            catalog_ = std::move(*catalog);
            logger->info("catalog: {} command(s) from {}", catalog_.commands().size(),
                         config_.catalog_dir);
        }
        std::set<std::string> command_permissions;
        for (const CommandSpec& spec : catalog_.commands())
            command_permissions.insert(spec.permission);
        policy_ = std::make_unique<PolicyFile>(
            config_.policy_file, config_.groups, std::move(command_permissions), *audit_,
            [this](std::function<void()> f) { boost::asio::post(io_, std::move(f)); });
        if (config_.policy_file.empty()) {
            logger->warn(
                "policy: no policy_file in [controller]: deny by default, so only the admin API "
                "token may do anything; no chat user may run a command");
        } else {
            if (auto loaded = policy_->load(); !loaded)
                return fail("the policy is invalid:\n" + loaded.error().message);
            logger->info("policy: loaded {}", config_.policy_file);
        }
        ChatConfig chat_config;
        chat_config.prefix = config_.chat_prefix;
        chat_config.bot_name = config_.chat_bot_name;
        chat_config.job_url_base = config_.job_url_base;
        chat_config.groups = config_.groups;
        chat_ = std::make_unique<ChatService>(io_, *scheduler_, catalog_, *policy_, *audit_,
                                              chat_config);
        chat_->enable_approvals(*approvals_);
        chat_->enable_metrics(metrics_);
        if (config_.irc) {
            auto added =
                chat_->add_adapter(std::make_unique<chat::irc::IrcAdapter>(io_, *config_.irc));
            if (!added) return fail("chat.irc: " + added.error().message);
            logger->info("chat: IRC {}:{} as {}", config_.irc->host, config_.irc->port,
                         config_.irc->nick);
        }
        if (config_.slack) {
            auto adapter = std::make_unique<chat::slack::SlackAdapter>(io_, *config_.slack);
            if (config_.slack->mode == chat::slack::SlackMode::events_api)
                chat_inbound_.emplace_back(
                    "/chat/slack/events",
                    [slack = adapter.get()](chat::InboundCall call,
                                            std::function<void(chat::InboundAnswer)> answer) {
                        slack->receive(std::move(call), std::move(answer));
                    });
            auto added = chat_->add_adapter(std::move(adapter));
            if (!added) return fail("chat.slack: " + added.error().message);
            logger->info("chat: Slack through {}", config_.slack->api_url);
        }
        if (config_.teams) {
            auto adapter = std::make_unique<chat::teams::TeamsAdapter>(io_, *config_.teams);
            chat_inbound_.emplace_back(
                "/chat/teams/messages",
                [teams = adapter.get()](chat::InboundCall call,
                                        std::function<void(chat::InboundAnswer)> answer) {
                    std::string authorization(
                        header_value(call.headers, "Authorization").value_or(""));
                    teams->receive(std::move(authorization), std::move(call.body),
                                   [answer = std::move(answer)](chat::teams::InboxAnswer a) {
                                       answer({a.status, "application/json", std::move(a.body)});
                                   });
                });
            auto added = chat_->add_adapter(std::move(adapter));
            if (!added) return fail("chat.teams: " + added.error().message);
            logger->info("chat: Microsoft Teams as app {} at /chat/teams/messages",
                         config_.teams->app_id);
        }

        auto routed = router_->start(
            // Each message carries its ticket to the io thread: until the handler is done
            // with it, it counts against the transport's inbound budget (back-pressure).
            {[this](const std::string& agent, const std::string& key, proto::Message m,
                    transport::InboundTicket ticket) {
                 boost::asio::post(io_, [this, agent, key, m = std::move(m),
                                         ticket = std::move(ticket)]() mutable {
                     // Revoked between the transport's check and now: nothing more from it.
                     auto status = keys_->status_of(key);
                     if (status.state != transport::KeyStatus::State::accepted ||
                         status.agent != agent)
                         return;
                     scheduler_->on_agent_message(agent, std::move(m));
                 });
             },
             [this](const transport::Stranger& from, proto::Message m,
                    transport::InboundTicket ticket) {
                 boost::asio::post(
                     io_, [this, from, m = std::move(m), ticket = std::move(ticket)]() mutable {
                         enrollment_->on_stranger(from, std::move(m));
                     });
             },
             // A heartbeat of an agent in session is answered on the transport thread.
             [presence = &scheduler_->presence()](const std::string& agent) {
                 return presence->answer(agent, AgentPresence::Clock::now());
             }});
        if (!routed) return routed;
        enrollment_ = std::make_unique<AgentEnrollment>(
            *keys_, *tokens_, *audit_,
            AgentEnrollment::Links{
                [this](const transport::Stranger& to, proto::Message m) {
                    router_->reply(to, std::move(m));
                },
                [this](const std::string& agent, proto::Message m) {
                    router_->send(agent, std::move(m));
                },
                [this](const std::string& agent) { scheduler_->revoke_agent(agent); }},
            config_.agent_public_endpoint.empty() ? reachable(router_->endpoint())
                                                  : config_.agent_public_endpoint,
            keys.public_key);

        HttpConfig http_config{config_.http_address, config_.http_port, data_dir->admin_token};
        http_config.browser_sessions.idle_ms = config_.session_idle_ms;
        http_config.browser_sessions.max_ms = config_.session_max_ms;
        http_config.secure_cookies = config_.secure_cookies;
        http_ = std::make_unique<HttpServer>(io_, *scheduler_, std::move(http_config));
        http_->enable_chat(*chat_);
        http_->enable_policy(*policy_, *audit_);
        http_->enable_agent_admin(*enrollment_);
        chat_->enable_agent_admin(*enrollment_);
        http_->enable_approvals(*approvals_);
        http_->enable_audit(*audit_);
        http_->enable_tokens(*api_tokens_);
        if (auto hooks = check_hooks(config_.hooks, catalog_, config_.irc.has_value()); !hooks)
            return fail("the hooks are invalid:\n" + hooks.error().message);
        hooks_ = std::make_unique<HookService>(
            config_.hooks, *scheduler_, catalog_, *policy_, *audit_, config_.groups,
            [this](const std::string& source, const std::string& text) {
                return chat_->post_to(source, text);
            });
        http_->enable_hooks(*hooks_);
        // Firings go through the chat as their owners' messages; the API serves the same desk.
        schedules_ = std::make_unique<ScheduleService>(
            io_, *store_, catalog_, *audit_,
            [this](const Schedule& s) { return chat_->run_scheduled(s); },
            std::chrono::milliseconds(2 * config_.heartbeat_ms));
        chat_->enable_schedules(*schedules_);
        http_->enable_schedules(*schedules_);
        schedules_->restore(std::move(snapshot->schedules), snapshot->max_schedule_id);
        for (auto& [path, handler] : chat_inbound_) http_->enable_chat_inbound(path, handler);
        if (!config_.hooks.empty()) logger->info("hooks: {} at /hooks/", config_.hooks.size());
        metrics_.read_at_scrape([this] {
            metrics::ControllerMetrics::Readings r;
            for (const AgentKeyView& key : enrollment_->agent_keys())
                if (key.state == "pending") ++r.agents_pending;
            const auto load = scheduler_->load();
            r.agents_online = load.agents_online;
            r.agents_offline = load.agents_offline;
            r.jobs_active = load.jobs_active;
            r.runs_queued = load.runs_queued;
            r.heartbeat_seconds = std::chrono::duration<double>(scheduler_->heartbeat()).count();
            return r;
        });
        http_->enable_metrics([this] { return metrics_.expose(); }, config_.metrics_public);
        auto port = http_->start();
        if (!port) return port.error();
        scheduler_->start();

        std::string agent_endpoint = router_->endpoint();
        std::string http_url = "http://" + config_.http_address + ":" + std::to_string(*port);
        logger->info("listening for agents on {} (controller public key {})", agent_endpoint,
                     keys.public_key);
        logger->info("HTTP API on {}; admin token in {}", http_url, config_.admin_token_path());
        logger->info("accepted agent keys are read from {}/NAME.pub",
                     config_.accepted_agents_dir());
        if (auto written = transport::write_file_atomically(
                config_.data_dir + "/endpoints",
                "agent=" + agent_endpoint + "\nhttp=" + http_url + "\n", 0644);
            !written)
            return written;
        // Told to systemd by run(), once SIGTERM is handled; the STATUS line keeps count.
        const std::string listening = "listening: agents " + agent_endpoint + ", http " +
                                      config_.http_address + ":" + std::to_string(*port);
        listening_ = listening;
        status_ = std::make_unique<ServiceStatus>(io_, [this, listening] {
            const auto load = scheduler_->load();
            return fmt::format("{} agent(s) online, {} run(s) running; {}", load.agents_online,
                               load.runs_running, listening);
        });
        status_->start();
        return {};
    }

    int run() {
        // SIGHUP reloads the policy (the file is read off the loop; a bad one is refused) and
        // the [log] section.
        boost::asio::signal_set hangups(io_, SIGHUP);
        std::function<void()> on_hangup = [this, &hangups, &on_hangup] {
            hangups.async_wait([this, &on_hangup](const boost::system::error_code& ec, int) {
                if (ec) return;
                logger->info("signal SIGHUP: reloading the policy and the log levels");
                policy_->reload("controller", [](Result<void>) {});
                // [log] is a few lines: read on the loop, unlike the policy.
                if (auto changed =
                        log::reload(log::Program::controller, config_.config_path,
                                    "controller.log_level", config_.log.command_line_level))
                    logger->info("log levels reloaded: {}", *changed);
                else
                    logger->error("log levels unchanged: {}", changed.error().message);
                on_hangup();
            });
        };
        on_hangup();
        boost::asio::signal_set signals(io_, SIGINT, SIGTERM);
        signals.async_wait([this, &hangups](const boost::system::error_code& ec, int signal) {
            if (ec) return;
            logger->info("signal {}: stopping", signal);
            service::notify_stopping(signal == SIGTERM ? "stopping: SIGTERM" : "stopping: SIGINT");
            status_->stop();
            hangups.cancel();
            http_->stop();
            schedules_->stop();
            chat_->stop();
            approvals_->stop();
            scheduler_->stop();
            audit_->record({"controller.stopped",
                            "controller",
                            "controller",
                            {{"signal", std::to_string(signal)}}});
            // Commit everything queued, then leave the loop.
            store_->flush([this] { io_.stop(); });
        });
        // Type=notify: `systemctl start` returns now. Not before the signals above are
        // handled, or a stop right after the start would kill the controller uncleanly.
        service::notify_ready(listening_);
        io_.run();
        router_->stop();
        store_.reset();
        logger->info("stopped");
        return 0;
    }

  private:
    const ControllerConfig config_;
    boost::asio::io_context io_{1};
    metrics::ControllerMetrics metrics_;  // before everything that reports to it
    std::unique_ptr<Store> store_;
    std::unique_ptr<StoreAuditTrail> audit_;
    std::unique_ptr<TokenRegistry> api_tokens_;
    std::unique_ptr<KeyDirectory> keys_;
    std::unique_ptr<EnrollmentTokens> tokens_;
    std::unique_ptr<AgentEnrollment> enrollment_;
    std::unique_ptr<transport::RouterThread> router_;
    std::unique_ptr<Scheduler> scheduler_;
    std::unique_ptr<ApprovalService> approvals_;
    Catalog catalog_;
    std::unique_ptr<PolicyFile> policy_;
    std::unique_ptr<ChatService> chat_;
    // The chat adapters' HTTP paths (in chat_), for http_.
    std::vector<std::pair<std::string, chat::InboundHandler>> chat_inbound_;
    std::unique_ptr<HookService> hooks_;
    std::unique_ptr<ScheduleService> schedules_;  // after chat_: its firings go through it
    std::unique_ptr<HttpServer> http_;
    std::unique_ptr<ServiceStatus> status_;  // systemd's STATUS=, once started
    std::string listening_;                  // the READY status: where it listens
};

App::App(ControllerConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
App::~App() = default;
Result<void> App::start() {
    return impl_->start();
}
int App::run() {
    return impl_->run();
}

}  // namespace hostline::controller
