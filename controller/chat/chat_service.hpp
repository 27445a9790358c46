// The chat service: what happens between a message in a channel and the replies to it.
//
// It reads messages from every adapter, parses them with the chat grammar, answers the
// built-in commands, binds catalog commands to argv, asks the policy whether the real chat
// user may run each one on the hosts it matches from this channel (and reports each decision
// to the AuditTrail), submits jobs as that user through the JobService, and reports each job in the
// channel it came from: an acknowledgement at once, a progress message edited no more often than
// the adapter's limits().min_edit_interval where the platform can edit, and a summary with per-host
// results, the first lines of output and a link.
//
// Threads: the controller's io_context thread only (adapters and the JobService call back
// there). Owns no sockets; replies go through the adapters.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chat/adapter.hpp"
#include "chat/approval_action.hpp"
#include "chat/grammar/command.hpp"
#include "common/target/target_expr.hpp"
#include "controller/approvals/approval_service.hpp"
#include "controller/catalog/catalog.hpp"
#include "controller/jobs/agent_admin.hpp"
#include "controller/jobs/audit_trail.hpp"
#include "controller/jobs/chat_gateway.hpp"
#include "controller/jobs/job_service.hpp"
#include "controller/jobs/schedule_desk.hpp"
#include "controller/metrics/controller_metrics.hpp"
#include "controller/policy/policy_file.hpp"

namespace hostline::controller {

struct ChatConfig {
    std::string prefix = "!";
    std::string bot_name = "hostline";
    std::string job_url_base;  // e.g. "http://ops.example:7480/jobs/": the summary links the job
    std::size_t summary_lines = 10;  // output lines per summary, all hosts together
    target::Groups groups;           // the @groups a --on may name, as the scheduler expands them
};

class ChatService : public ChatGateway {
  public:
    // jobs, catalog, policy and audit must outlive the service.
    ChatService(boost::asio::io_context& io, JobService& jobs, const Catalog& catalog,
                const PolicyFile& policy, AuditTrail& audit, ChatConfig config);
    ~ChatService();

    // Catalog commands with an approval rule are held for approval through `approvals` (which
    // must outlive the service); the service posts each request and decision in the channel
    // it came from, and answers approve, deny and pending. Without it, such commands are refused.
    void enable_approvals(ApprovalService& approvals);

    // Takes the adapter and starts it; its messages are handled from now on.
    Result<void> add_adapter(std::unique_ptr<chat::Adapter> adapter);
    void stop();
    // Serves `!agents accept NAME` through admin (which must outlive the service).
    void enable_agent_admin(AgentAdmin& admin) { agent_admin_ = &admin; }
    // Counts the messages addressed to the bot, per adapter, in metrics (which must outlive
    // the service).
    void enable_metrics(metrics::ControllerMetrics& metrics);

    // Serves `!schedule ...` and `!schedules` through desk (which must outlive the service).
    void enable_schedules(ScheduleDesk& desk) { schedules_ = &desk; }
    // A schedule's firing: its command runs as if its owner had typed it in its channel now
    // (bound, decided by the policy in force, reported there), submitted with source
    // "schedule:NAME" and linked to the schedule. Returns the job, or why nothing ran (which
    // the channel has been told, unless no adapter serves it).
    Result<std::int64_t> run_scheduled(const Schedule& schedule);

    // What an adapter's listener calls (public so tests can drive a fake adapter directly).
    // done (optional) is called after the last reply to this message: at once for most
    // built-ins, after the summary for a job.
    void on_message(chat::Adapter& adapter, const chat::IncomingMessage& message,
                    std::function<void()> done = {});

    // What an adapter's listener calls for an Approve or Deny button: decided exactly as
    // `!approve ID` / `!deny ID REASON` typed by the one who clicked (public for tests).
    void on_approval_action(chat::Adapter& adapter, const chat::ApprovalAction& action);

    // Posts text in a source's channel ("irc:#ops"), for the webhooks. Error: no adapter for
    // the source's platform. The post itself happens later; a failure is logged.
    Result<void> post_to(const std::string& source, const std::string& text);

    // ChatGateway: the terminal chat. The identity must be a local one ("local:NAME").
    void converse(const std::string& identity, const std::string& text,
                  std::function<void(const std::string& reply)> on_reply,
                  std::function<void()> on_done) override;

  private:
    struct JobReport;
    class LocalAdapter;
    // Calls its function when the last copy goes: every step of a conversation holds one.
    using DoneToken = std::shared_ptr<void>;

    void reply(chat::Adapter& adapter, const chat::IncomingMessage& to, const std::string& text);
    // "\nusage: ..." for the command a (possibly unparsable) text starts with; "" if unknown.
    std::string usage_line(std::string_view text) const;
    void builtin_help(chat::Adapter& a, const chat::IncomingMessage& m,
                      const chat::ParsedCommand& c);
    // A real host a command may run on, for an example; "HOST" when there is none.
    std::string example_host(const CommandSpec& spec);
    void builtin_hosts(chat::Adapter& a, const chat::IncomingMessage& m,
                       const chat::ParsedCommand& c);
    // requester empty: everyone's jobs; else only theirs (`history`).
    void builtin_jobs(chat::Adapter& a, const chat::IncomingMessage& m,
                      const std::string& requester, DoneToken done);
    void builtin_job(chat::Adapter& a, const chat::IncomingMessage& m, const chat::ParsedCommand& c,
                     bool with_output, DoneToken done);
    void show_output(chat::Adapter& a, const chat::IncomingMessage& m, std::int64_t job_id,
                     const std::string& host, DoneToken done);
    void builtin_cancel(chat::Adapter& a, const chat::IncomingMessage& m,
                        const chat::ParsedCommand& c, DoneToken done);
    void builtin_whoami(chat::Adapter& a, const chat::IncomingMessage& m);
    void builtin_agents(chat::Adapter& a, const chat::IncomingMessage& m,
                        const chat::ParsedCommand& c);
    void builtin_decide(chat::Adapter& a, const chat::IncomingMessage& m,
                        const chat::ParsedCommand& c, bool approve);
    void builtin_pending(chat::Adapter& a, const chat::IncomingMessage& m);
    // `!schedule ...`, `!schedules` (schedule_commands.cpp).
    void builtin_schedule(chat::Adapter& a, const chat::IncomingMessage& m,
                          const chat::ParsedCommand& c, DoneToken done);
    void schedule_add(chat::Adapter& a, const chat::IncomingMessage& m,
                      const chat::ParsedCommand& c, DoneToken done);
    void request_approval(chat::Adapter& a, const chat::IncomingMessage& m,
                          const SubmitRequest& request, const ApprovalSpec& spec);
    // Posts an approval's change in the channel it was asked in (from its source).
    void on_approval(const Approval& approval);
    // The adapter of a job's source ("irc:#ops"), and the channel in it; nullptr if none.
    chat::Adapter* adapter_of(const std::string& source, std::string& channel);
    // Reports the job in origin's channel until its summary.
    void follow(chat::Adapter& a, const chat::IncomingMessage& origin, std::int64_t job_id,
                DoneToken done);
    void start_job(chat::Adapter& a, const chat::IncomingMessage& m, SubmitRequest request,
                   bool dry_run, DoneToken done);
    // Asks the policy whether the sender may use permission on hosts from this channel, and
    // reports the decision to the audit trail (subject: what it was about).
    Decision decide(const chat::Adapter& a, const chat::IncomingMessage& m,
                    const std::string& permission, const std::vector<const AgentInfo*>& hosts,
                    const std::string& subject);
    // The same question without hosts, for what help lists: not audited.
    bool may(const chat::Adapter& a, const chat::IncomingMessage& m,
             const std::string& permission) const;
    // The agents the target matches, online or not; valid until the next call.
    Result<std::vector<const AgentInfo*>> matching_agents(const std::string& target);
    void on_job_event(std::uint64_t report_id, const JobEvent& event);
    void post_progress(JobReport& report);

    boost::asio::io_context& io_;
    JobService& jobs_;
    AgentAdmin* agent_admin_ = nullptr;
    const Catalog& catalog_;
    const PolicyFile& policy_;
    AuditTrail& audit_;
    const ChatConfig config_;
    std::vector<std::unique_ptr<chat::Adapter>> adapters_;
    std::unique_ptr<LocalAdapter> local_;
    std::map<std::uint64_t, std::unique_ptr<JobReport>> reports_;
    std::uint64_t next_report_ = 1;
    std::vector<AgentInfo> agents_;         // matching_agents()' snapshot
    ApprovalService* approvals_ = nullptr;  // set once, before messages arrive
    // Each pending approval's request message, by job id, to show the decision in its place.
    struct PostedRequest {
        chat::Adapter* adapter;
        chat::PostedMessage message;
    };
    std::map<std::int64_t, PostedRequest> approval_requests_;
    metrics::ControllerMetrics* metrics_ = nullptr;  // set once, before messages arrive
    ScheduleDesk* schedules_ = nullptr;              // set once, before messages arrive
    // Set while run_scheduled passes a firing through on_message: the job's source and link,
    // and what came of it.
    struct Firing {
        const Schedule& schedule;
        std::optional<std::int64_t> job_id;
        std::string refusal;  // the first reply: the firing went no further
    };
    Firing* firing_ = nullptr;
    // Each adapter's hostline_chat_messages_total, resolved when it is added.
    std::map<const chat::Adapter*, metrics::Counter*> message_counters_;
};

}  // namespace hostline::controller
