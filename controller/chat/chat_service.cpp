#include "controller/chat/chat_service.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "chat/grammar/parser.hpp"
#include "common/duration.hpp"
#include "common/log/module_logger.hpp"
#include "common/target/target_expr.hpp"
#include "controller/catalog/binding.hpp"
#include "controller/chat/run_notes.hpp"
#include "controller/scheduler/rollout.hpp"

static constinit hostline::log::ModuleLogger logger{"chat"};

namespace hostline::controller {
namespace {

using Clock = std::chrono::steady_clock;

struct Builtin {
    const char* name;
    const char* usage;
    const char* summary;
};

// Approval requests remembered to be replaced by their decision; beyond this many pending at
// once, the newest are decided without their buttons being replaced.
constexpr std::size_t kMaxPostedRequests = 10000;

constexpr Builtin kBuiltins[] = {
    {"help", "help [COMMAND]", "what you can run, or how to run one command"},
    {"hosts", "hosts [TARGET]", "the agents, online or not, with their labels"},
    {"run", "run --on TARGET [--timeout D] -- COMMAND [ARGS...]",
     "run a command as argv (no shell)"},
    {"jobs", "jobs", "the latest jobs"},
    {"history", "history", "your own latest jobs"},
    {"job", "job ID", "one job: who, what, where, and each host's result"},
    {"output", "output ID [HOST]", "the stored output of a job, or of one host's run"},
    {"cancel", "cancel ID", "stop a job on every host"},
    {"whoami", "whoami", "who Hostline thinks you are"},
    {"agents", "agents accept NAME", "accept an agent waiting with its key (admin)"},
    {"approve", "approve ID", "approve a job that awaits approval"},
    {"deny", "deny ID REASON", "deny a job that awaits approval, saying why"},
    {"pending", "pending", "the approvals you could decide now"},
    {"schedule",
     "schedule add \"CRON\" [--tz ZONE] [--name NAME] [--run-missed] -- COMMAND [ARGS...]"
     " | list | show NAME | next NAME | pause NAME | resume NAME | remove NAME",
     "run a command on a cron schedule, and manage schedules"},
    {"schedules", "schedules", "the schedules, with their next firing"},
};

// A policy role's approval rule in the catalog's terms.
ApprovalSpec approval_of(const RoleApproval& rule) {
    return {rule.group, rule.count, std::chrono::milliseconds(rule.expiry_ms)};
}

std::string join(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
    return out;
}

std::string shown_argv(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`;|&<>(){}*?!#~") == std::string::npos;
        out += (out.empty() ? "" : " ") + (plain ? a : "'" + a + "'");
    }
    return out;
}

// The job id in "ID" (or "#ID"); with extra_words, that many more words may follow it.
std::optional<std::int64_t> job_id_of(const chat::ParsedCommand& c, std::size_t extra_words = 0) {
    if (c.tokens.empty() || c.tokens.size() > 1 + extra_words) return std::nullopt;
    for (const chat::Token& t : c.tokens)
        if (t.kind != chat::Token::Kind::word) return std::nullopt;
    std::string_view text = c.tokens[0].text;
    if (!text.empty() && text[0] == '#') text.remove_prefix(1);
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
    return id;
}

std::string run_line(const RunRecord& r) {
    std::string line = r.agent + "  " + std::string(to_string(r.state));
    if (r.exit_code) line += "  exit " + std::to_string(*r.exit_code);
    if (r.signal) line += "  signal " + std::to_string(*r.signal);
    if (r.started_at_ms && r.ended_at_ms)
        line += "  " + format_duration(std::chrono::milliseconds(r.ended_at_ms - r.started_at_ms));
    if (!r.error.empty()) line += "  (" + r.error + ")";
    if (r.attempt > 1) line += "  attempt " + std::to_string(r.attempt);
    return line;
}

// The agents of the report's runs that are in state, in run order.
std::vector<std::string> agents_in(const auto& report, RunState state) {
    std::vector<std::string> names;
    for (const auto& [id, run] : report.runs)
        if (run.state == state) names.push_back(run.agent);
    return names;
}

// Cuts text to fit one message of the platform, at a line boundary, saying where the rest is.
std::string fit(std::string text, std::size_t limit, const std::string& rest_hint) {
    if (text.size() <= limit) return text;
    std::string tail = "\n… (cut; " + rest_hint + ")";
    std::size_t keep = limit > tail.size() ? limit - tail.size() : 0;
    std::size_t cut = text.rfind('\n', keep);
    text.resize(cut == std::string::npos ? keep : cut);
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80)
        text.pop_back();
    if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) text.pop_back();
    return text + tail;
}

}  // namespace

// One job being reported in the channel it was started from.
struct ChatService::JobReport {
    chat::Adapter* adapter = nullptr;
    chat::IncomingMessage origin;
    std::int64_t job_id = 0;
    std::uint64_t subscription = 0;
    Job job;  // as last seen: its rollout window, for the progress
    std::map<std::int64_t, RunRecord> runs;
    std::map<std::int64_t, std::string> partial;  // per run: the unfinished last line
    std::vector<std::string> lines;               // the first summary_lines lines, "host | text"
    std::size_t total_lines = 0;
    std::optional<chat::PostedMessage> progress;  // without a message id while being posted
    std::string unsent_progress;                  // the latest text while it is being posted
    Clock::time_point last_edit{};
    bool finished = false;
    std::shared_ptr<void> done;  // the conversation ends when the report goes
};

// The terminal chat's platform: each conversation is a channel of its own, and whatever the
// service posts to it goes to that conversation's callback.
class ChatService::LocalAdapter : public chat::Adapter {
  public:
    std::string platform() const override { return "local"; }
    chat::PlatformLimits limits() const override {
        chat::PlatformLimits l;
        l.max_message_bytes = 64 * 1024;
        return l;
    }
    Result<void> start(Listener) override { return {}; }
    void stop() override { conversations_.clear(); }
    void post(const std::string& channel, const std::string&, const std::string& text,
              std::function<void(Result<chat::PostedMessage>)> done) override {
        if (channel.empty()) return done(chat::PostedMessage{});  // a schedule's, for no channel
        auto it = conversations_.find(channel);
        if (it == conversations_.end()) return done(fail("the conversation has ended"));
        it->second(text);
        done(chat::PostedMessage{channel, ""});
    }
    void edit(const chat::PostedMessage&, const std::string&) override {}
    void react(const chat::IncomingMessage&, const std::string&) override {}

    std::string open(std::function<void(const std::string&)> on_reply) {
        std::string channel = "terminal-" + std::to_string(next_++);
        conversations_[channel] = std::move(on_reply);
        return channel;
    }
    void close(const std::string& channel) { conversations_.erase(channel); }

  private:
    std::map<std::string, std::function<void(const std::string&)>> conversations_;
    std::uint64_t next_ = 1;
};

ChatService::ChatService(boost::asio::io_context& io, JobService& jobs, const Catalog& catalog,
                         const PolicyFile& policy, AuditTrail& audit, ChatConfig config)
    : io_(io),
      jobs_(jobs),
      catalog_(catalog),
      policy_(policy),
      audit_(audit),
      config_(std::move(config)),
      local_(std::make_unique<LocalAdapter>()) {}

ChatService::~ChatService() {
    stop();
}

Result<void> ChatService::add_adapter(std::unique_ptr<chat::Adapter> adapter) {
    chat::Adapter* a = adapter.get();
    auto started = a->start(
        {[this, a](const chat::IncomingMessage& m) { on_message(*a, m); },
         [a](const std::string& why) {
             logger->warn("chat {}: disconnected: {}", a->platform(), why);
         },
         [this, a](const chat::ApprovalAction& action) { on_approval_action(*a, action); }});
    if (!started) return started;
    if (metrics_ != nullptr) message_counters_[a] = &metrics_->chat_messages(a->platform());
    adapters_.push_back(std::move(adapter));
    return {};
}

void ChatService::enable_metrics(metrics::ControllerMetrics& metrics) {
    metrics_ = &metrics;
    message_counters_[local_.get()] = &metrics.chat_messages(local_->platform());
    for (const auto& a : adapters_)
        message_counters_[a.get()] = &metrics.chat_messages(a->platform());
}

void ChatService::stop() {
    for (auto& [id, report] : reports_) jobs_.unsubscribe(report->subscription);
    reports_.clear();
    for (auto& a : adapters_) a->stop();
    local_->stop();
}

void ChatService::converse(const std::string& identity, const std::string& text,
                           std::function<void(const std::string& reply)> on_reply,
                           std::function<void()> on_done) {
    std::string channel = local_->open(std::move(on_reply));
    chat::IncomingMessage m;
    m.sender = {identity, identity.substr(identity.find(':') + 1)};
    m.channel = channel;
    m.text = text;
    m.direct_message = true;
    on_message(*local_, m, [this, channel, on_done = std::move(on_done)] {
        local_->close(channel);
        if (on_done) on_done();
    });
}

void ChatService::reply(chat::Adapter& adapter, const chat::IncomingMessage& to,
                        const std::string& given) {
    std::string text = given;
    if (firing_ != nullptr) {  // a firing's only reply before its job is why it went no further
        if (firing_->refusal.empty()) firing_->refusal = given;
        text =
            "schedule " + firing_->schedule.name + " (" + firing_->schedule.owner + "): " + given;
    }
    std::string hint = "the full answer is in the CLI or web UI";
    adapter.post(to.channel, to.thread, fit(text, adapter.limits().max_message_bytes, hint),
                 [platform = adapter.platform()](Result<chat::PostedMessage> posted) {
                     if (!posted)
                         logger->warn("chat {}: reply not posted: {}", platform,
                                      posted.error().message);
                 });
}

void ChatService::on_message(chat::Adapter& a, const chat::IncomingMessage& m,
                             std::function<void()> on_done) {
    // Every step that answers later holds a copy; the last one to go ends the conversation.
    DoneToken done(nullptr, [on_done = std::move(on_done)](void*) {
        if (on_done) on_done();
    });
    // A message the platform marked as for the bot (a Slack mention) needs no prefix either.
    chat::Addressing addressing{config_.prefix, config_.bot_name, m.direct_message || m.addressed};
    auto text = chat::addressed_text(m.text, addressing);
    if (!text) return;  // ordinary chat
    if (auto counter = message_counters_.find(&a); counter != message_counters_.end())
        counter->second->inc();
    const std::string where =
        m.channel_name.empty() ? m.channel : m.channel + " (" + m.channel_name + ")";
    logger->info("chat {}: {} in {}: {}", a.platform(), m.sender.id, where, *text);
    AuditEvent received{"command.received",
                        m.sender.id,
                        a.platform() + ":" + m.channel,
                        {{"channel", m.channel}, {"text", std::string(*text)}}};
    if (!m.channel_name.empty()) received.detail["channel_name"] = m.channel_name;
    audit_.record(std::move(received));
    auto parsed = chat::parse_command(*text);
    if (!parsed) return reply(a, m, "error: " + parsed.error().message + usage_line(*text));
    const chat::ParsedCommand& c = *parsed;

    if (c.name == "help") return builtin_help(a, m, c);
    if (c.name == "hosts") return builtin_hosts(a, m, c);
    if (c.name == "jobs")  // everyone may list their own jobs; others' need jobs.read
        return builtin_jobs(a, m, may(a, m, "jobs.read") ? "" : m.sender.id, done);
    if (c.name == "history") return builtin_jobs(a, m, m.sender.id, done);
    if (c.name == "job") return builtin_job(a, m, c, false, done);
    if (c.name == "output") return builtin_job(a, m, c, true, done);
    if (c.name == "cancel") return builtin_cancel(a, m, c, done);
    if (c.name == "whoami") return builtin_whoami(a, m);
    if (c.name == "agents") return builtin_agents(a, m, c);
    if (c.name == "approve") return builtin_decide(a, m, c, true);
    if (c.name == "deny") return builtin_decide(a, m, c, false);
    if (c.name == "pending") return builtin_pending(a, m);
    if (c.name == "schedule" || c.name == "schedules") return builtin_schedule(a, m, c, done);

    SubmitRequest request;
    request.requester = m.sender.id;
    request.source = a.platform() + ":" + m.channel;
    if (firing_ != nullptr) {  // run_scheduled
        request.source = "schedule:" + firing_->schedule.name;
        request.schedule_id = firing_->schedule.id;
    }
    if (c.timeout) request.timeout_ms = c.timeout->count();
    request.batch = c.batch;  // a rollout: docs/scheduling.md, "Batches"
    request.batch_wait = c.batch_wait.value_or(std::chrono::milliseconds(0));
    request.fail_fast = c.fail_fast;
    if (c.name == "run") {
        for (const chat::Token& t : c.tokens)
            if (!t.after_double_dash)
                return reply(a, m,
                             "error: put the command after --\nusage: " + config_.prefix +
                                 kBuiltins[2].usage);
            else
                request.argv.push_back(t.text);
        if (!c.target)
            return reply(
                a, m,
                "error: say where: --on TARGET\nusage: " + config_.prefix + kBuiltins[2].usage);
        if (request.argv.empty()) return reply(a, m, "error: nothing to run after --");
        request.target = *c.target;
        auto hosts = matching_agents(request.target);
        if (!hosts) return reply(a, m, "error: " + hosts.error().message);
        Decision d = decide(a, m, "run.adhoc", *hosts, "run:" + shown_argv(request.argv));
        if (!d.allowed) return reply(a, m, "denied: " + d.reason);
        if (d.approval && !c.dry_run)
            return request_approval(a, m, request, approval_of(*d.approval));
        return start_job(a, m, std::move(request), c.dry_run, done);
    }
    const CommandSpec* spec = catalog_.find(c.name);
    if (spec == nullptr)
        return reply(a, m, "unknown command '" + c.name + "': try " + config_.prefix + "help");
    if (!spec->channels.empty() &&
        std::find(spec->channels.begin(), spec->channels.end(), m.channel) == spec->channels.end())
        return reply(a, m, "error: " + c.name + " may only be used in " + join(spec->channels));
    auto bound = bind(*spec, c);
    if (!bound)
        return reply(
            a, m, "error: " + bound.error().message + "\nusage: " + usage(*spec, config_.prefix));
    request.target = bound->target;
    if (spec->allowed_targets) {
        auto hosts = matching_agents(request.target);
        if (!hosts) return reply(a, m, "error: " + hosts.error().message);
        std::vector<std::string> outside;
        for (const AgentInfo* agent : *hosts)
            if (!spec->allowed_targets->matches({agent->name, agent->labels}))
                outside.push_back(agent->name);
        if (!outside.empty())
            return reply(a, m,
                         "error: " + c.name + " may only run on " + spec->allowed_targets->text() +
                             "; outside it: " + join(outside));
    }
    std::optional<ApprovalSpec> approval = spec->approval;
    {
        auto hosts = matching_agents(request.target);
        if (!hosts) return reply(a, m, "error: " + hosts.error().message);
        Decision d = decide(a, m, spec->permission, *hosts, "command:" + spec->name);
        if (!d.allowed) return reply(a, m, "denied: " + d.reason);
        if (!approval && d.approval) approval = approval_of(*d.approval);
    }
    request.argv = bound->argv;
    request.command = spec->name;
    if (!c.timeout && spec->timeout) request.timeout_ms = spec->timeout->count();
    request.env = spec->env;
    request.cwd = spec->cwd;
    request.run_as_user = spec->user;
    request.output_cap_bytes = spec->output_cap;
    if (spec->is_script()) {  // the agent runs its own private copy of the script
        request.script = spec->script_content;
        request.script_sha256 = spec->script_sha256;
    }
    if (approval && !c.dry_run) return request_approval(a, m, request, *approval);
    start_job(a, m, std::move(request), c.dry_run, done);
}

std::string ChatService::usage_line(std::string_view text) const {
    auto start = text.find_first_not_of(" \t");
    if (start == std::string_view::npos) return "";
    text.remove_prefix(start);
    std::string_view name = text.substr(0, text.find_first_of(" \t"));
    for (const Builtin& b : kBuiltins)
        if (name == b.name) return "\nusage: " + config_.prefix + b.usage;
    const CommandSpec* spec = catalog_.find(name);
    return spec ? "\nusage: " + usage(*spec, config_.prefix) : "";
}

void ChatService::builtin_help(chat::Adapter& a, const chat::IncomingMessage& m,
                               const chat::ParsedCommand& c) {
    const std::string& p = config_.prefix;
    if (c.tokens.empty()) {
        // Only what the caller may run; the hosts are decided when a command names them.
        std::string commands;
        for (const CommandSpec& spec : catalog_.commands())
            if (may(a, m, spec.permission))
                commands += "\n  " + p + spec.name + " — " + spec.summary;
        std::string text = commands.empty()
                               ? "You may run no catalog command here (" + p + "whoami says why)."
                               : "Commands:" + commands;
        text += "\nBuilt-in:";
        for (const Builtin& b : kBuiltins)
            if ((std::string_view(b.name) != "run" || may(a, m, "run.adhoc")) &&
                (std::string_view(b.name) != "agents" || may(a, m, "agents.manage")))
                text += "\n  " + p + b.name + " — " + b.summary;
        text +=
            "\nEvery command takes --on TARGET, --timeout D, --batch N|N%, --batch-wait D, "
            "--fail-fast and --dry-run. " +
            p + "help COMMAND for more.";
        return reply(a, m, text);
    }
    std::string name = c.tokens[0].text;
    if (!name.empty() && name.rfind(p, 0) == 0) name = name.substr(p.size());
    for (const Builtin& b : kBuiltins)
        if (name == b.name) return reply(a, m, p + b.usage + "\n" + b.summary);
    const CommandSpec* spec = catalog_.find(name);
    if (spec == nullptr) return reply(a, m, "unknown command '" + name + "': try " + p + "help");
    std::string text = usage(*spec, p) + "\n" + spec->summary;
    Decision d = policy_.current()->decide(
        {m.sender.id, spec->permission, {}, a.platform() + ":" + m.channel});
    if (!d.allowed) text += "\nYou may not run it here: " + d.reason + ".";
    if (!spec->help.empty()) text += "\n" + spec->help;
    for (const ParamSpec& param : spec->params) {
        text += "\n  " + param.name + ": " + param.help;
        if (!param.choices.empty()) text += " (one of " + join(param.choices) + ")";
        if (param.default_value) text += " [default " + *param.default_value + "]";
        if (param.required) text += " (required)";
    }
    if (!spec->default_target.empty())
        text += "\nRuns on " + spec->default_target + " unless --on says otherwise.";
    if (spec->approval)
        text += "\nNeeds " + std::to_string(spec->approval->count) + " approval(s) from group '" +
                spec->approval->group + "' before it runs.";
    text += "\nexample: " + p + spec->name;
    if (std::string words = sample_arguments(*spec); !words.empty()) text += " " + words;
    if (spec->default_target.empty() && spec->example.find("--on") == std::string::npos)
        text += " --on " + example_host(*spec);
    reply(a, m, text);
}

std::string ChatService::example_host(const CommandSpec& spec) {
    for (const AgentInfo& agent : jobs_.agents())
        if (!spec.allowed_targets || spec.allowed_targets->matches({agent.name, agent.labels}))
            return agent.name;
    return "HOST";
}

void ChatService::builtin_hosts(chat::Adapter& a, const chat::IncomingMessage& m,
                                const chat::ParsedCommand& c) {
    std::optional<target::TargetExpr> filter;
    std::string target = c.target ? *c.target : (c.tokens.empty() ? "" : c.tokens[0].text);
    if (!target.empty()) {
        auto parsed = target::TargetExpr::parse(target);
        if (!parsed) return reply(a, m, "error: " + parsed.error().message);
        filter = std::move(*parsed);
    }
    std::string text;
    std::size_t online = 0, shown = 0;
    for (const AgentInfo& agent : jobs_.agents()) {
        if (filter && !filter->matches({agent.name, agent.labels})) continue;
        ++shown;
        online += agent.online;
        std::vector<std::string> labels;
        for (const auto& [k, v] : agent.labels) labels.push_back(k + "=" + v);
        text += "\n" + agent.name + "  " + (agent.online ? "online" : "offline") + "  " +
                join(labels, ",");
    }
    if (shown == 0)
        return reply(a, m, target.empty() ? "no agents yet" : "no agent matches " + target);
    reply(a, m, std::to_string(shown) + " host(s), " + std::to_string(online) + " online:" + text);
}

void ChatService::builtin_jobs(chat::Adapter& a, const chat::IncomingMessage& m,
                               const std::string& requester, DoneToken done) {
    JobQuery query;
    query.limit = 10;
    query.requester = requester;
    jobs_.list_jobs(
        query, [this, &a, m, mine = !requester.empty(), done](Result<std::vector<Job>> jobs) {
            if (!jobs) return reply(a, m, "error: " + jobs.error().message);
            if (jobs->empty()) return reply(a, m, mine ? "you have no jobs yet" : "no jobs yet");
            std::string text = mine ? "your latest jobs:" : "latest jobs:";
            for (const Job& j : *jobs)
                text += "\n#" + std::to_string(j.id) + "  " + std::string(to_string(j.state)) +
                        "  " + j.target + "  " + shown_argv(j.argv) + "  (" + j.requester + ")";
            reply(a, m, text);
        });
}

void ChatService::builtin_job(chat::Adapter& a, const chat::IncomingMessage& m,
                              const chat::ParsedCommand& c, bool with_output, DoneToken done) {
    auto id = job_id_of(c, with_output ? 1 : 0);
    if (!id)
        return reply(a, m,
                     std::string("usage: ") + config_.prefix +
                         (with_output ? "output ID [HOST]" : "job ID"));
    const std::string host = c.tokens.size() > 1 ? c.tokens[1].text : "";
    std::string link =
        config_.job_url_base.empty() ? "" : " " + config_.job_url_base + std::to_string(*id);
    // Everyone may read their own jobs; someone else's needs jobs.read.
    jobs_.job(*id, [this, &a, m, link, host, with_output, done](Result<JobDetail> d) {
        if (!d) return reply(a, m, "error: " + d.error().message);
        if (d->job.requester != m.sender.id) {
            Decision allowed = decide(a, m, "jobs.read", {}, "job:" + std::to_string(d->job.id));
            if (!allowed.allowed)
                return reply(a, m,
                             "denied: " + allowed.reason + " (job #" + std::to_string(d->job.id) +
                                 " is " + d->job.requester + "'s)");
        }
        if (with_output) return show_output(a, m, d->job.id, host, done);
        std::string text = "job #" + std::to_string(d->job.id) + " " +
                           std::string(to_string(d->job.state)) + link + "\n" +
                           shown_argv(d->job.argv) + " on " + d->job.target + " by " +
                           d->job.requester;
        for (const RunRecord& r : d->runs) text += "\n" + run_line(r);
        reply(a, m, text);
    });
}

void ChatService::show_output(chat::Adapter& a, const chat::IncomingMessage& m, std::int64_t job_id,
                              const std::string& host, DoneToken done) {
    auto id = std::optional<std::int64_t>(job_id);
    jobs_.output(job_id, [this, &a, m, id, host, done](Result<std::vector<OutputChunk>> out) {
        if (!out) return reply(a, m, "error: " + out.error().message);
        std::map<std::int64_t, std::string> per_run;
        std::string text;
        for (const OutputChunk& chunk : *out)
            if (host.empty() || chunk.agent == host) per_run[chunk.run_id] += chunk.data;
        for (const OutputChunk& chunk : *out) {
            auto it = per_run.find(chunk.run_id);
            if (it == per_run.end()) continue;
            std::size_t start = 0;
            while (start < it->second.size()) {
                std::size_t end = it->second.find('\n', start);
                if (end == std::string::npos) end = it->second.size();
                text += chunk.agent + " | " + it->second.substr(start, end - start) + "\n";
                start = end + 1;
            }
            per_run.erase(it);
        }
        if (text.empty())
            text = host.empty() ? "job #" + std::to_string(*id) + " has no output"
                                : "job #" + std::to_string(*id) + " has no output from " + host;
        reply(a, m, text);
    });
}

void ChatService::builtin_cancel(chat::Adapter& a, const chat::IncomingMessage& m,
                                 const chat::ParsedCommand& c, DoneToken done) {
    auto id = job_id_of(c);
    if (!id) return reply(a, m, "usage: " + config_.prefix + "cancel ID");
    // Everyone may cancel their own jobs; someone else's needs jobs.cancel.any.
    jobs_.job(*id, [this, &a, m, done](Result<JobDetail> d) {
        if (!d) return reply(a, m, "error: " + d.error().message);
        const std::int64_t id = d->job.id;
        if (d->job.requester != m.sender.id) {
            Decision allowed = decide(a, m, "jobs.cancel.any", {}, "job:" + std::to_string(id));
            if (!allowed.allowed)
                return reply(a, m,
                             "denied: " + allowed.reason + " (job #" + std::to_string(id) + " is " +
                                 d->job.requester + "'s)");
        }
        auto cancelled = jobs_.cancel(id);
        if (!cancelled) return reply(a, m, "error: " + cancelled.error().message);
        reply(a, m, "cancelling job #" + std::to_string(id));
    });
}

void ChatService::builtin_whoami(chat::Adapter& a, const chat::IncomingMessage& m) {
    auto policy = policy_.current();
    std::string text = "you are " + m.sender.id + " (" + m.sender.display_name + "), here in " +
                       a.platform() + ":" + m.channel + ".";
    std::vector<std::string> roles = policy->roles_of(m.sender.id);
    if (roles.empty())
        return reply(a, m,
                     text + "\nYou hold no role" +
                         (policy->file().empty() ? " (no policy file is loaded)" : "") +
                         ", so you may run nothing but " + config_.prefix + "help, " +
                         config_.prefix + "hosts and your own jobs. Ask an admin to add " +
                         m.sender.id + " to a group in the policy.");
    text += "\nYour roles:";
    for (const std::string& name : roles) {
        const Role* role = policy->role(name);
        if (role == nullptr) continue;
        if (role->all) {
            text += "\n  admin: every permission, on every host, in every channel";
            continue;
        }
        std::vector<std::string> permissions(role->permissions.begin(), role->permissions.end());
        text += "\n  " + name + ": " + (permissions.empty() ? "no permission" : join(permissions)) +
                "; hosts: " + (role->targets ? role->targets->text() : "none") +
                "; channels: " + (role->channels.empty() ? "any" : join(role->channels));
    }
    reply(a, m, text);
}

Decision ChatService::decide(const chat::Adapter& a, const chat::IncomingMessage& m,
                             const std::string& permission,
                             const std::vector<const AgentInfo*>& hosts,
                             const std::string& subject) {
    PolicyRequest request{m.sender.id, permission, {}, a.platform() + ":" + m.channel};
    if (firing_ != nullptr && firing_->schedule.channel.empty()) request.channel.clear();
    std::vector<std::string> names;
    for (const AgentInfo* agent : hosts) {
        request.hosts.push_back({agent->name, agent->labels});
        names.push_back(agent->name);
    }
    Decision d = policy_.current()->decide(request);
    AuditEvent event{d.allowed ? "policy.allowed" : "policy.denied", m.sender.id, subject, {}};
    event.detail["permission"] = permission;
    event.detail["hosts"] = join(names, ",");
    event.detail["channel"] = request.channel;
    event.detail[d.allowed ? "role" : "reason"] = d.allowed ? d.role : d.reason;
    audit_.record(std::move(event));
    if (!d.allowed)
        logger->info("chat {}: denied {} {}: {}", a.platform(), m.sender.id, subject, d.reason);
    return d;
}

bool ChatService::may(const chat::Adapter& a, const chat::IncomingMessage& m,
                      const std::string& permission) const {
    return policy_.current()
        ->decide({m.sender.id, permission, {}, a.platform() + ":" + m.channel})
        .allowed;
}

// `!agents accept NAME`. Permission agents.manage: checked here once policy exists (the
// policy engine decides before this runs).
void ChatService::builtin_agents(chat::Adapter& a, const chat::IncomingMessage& m,
                                 const chat::ParsedCommand& c) {
    if (c.tokens.size() != 2 || c.tokens[0].text != "accept" ||
        c.tokens[0].kind != chat::Token::Kind::word || c.tokens[1].kind != chat::Token::Kind::word)
        return reply(a, m, "usage: " + config_.prefix + "agents accept NAME");
    if (Decision d = decide(a, m, "agents.manage", {}, "agent:" + c.tokens[1].text); !d.allowed)
        return reply(a, m, "denied: " + d.reason);
    if (agent_admin_ == nullptr) return reply(a, m, "error: agent enrollment is not enabled");
    auto accepted = agent_admin_->accept(c.tokens[1].text, m.sender.id);
    if (!accepted) return reply(a, m, "error: " + accepted.error().message);
    reply(a, m, "accepted agent " + accepted->name + " (key " + accepted->fingerprint + ")");
}

Result<std::vector<const AgentInfo*>> ChatService::matching_agents(const std::string& target) {
    auto expr = target::TargetExpr::parse(target, config_.groups);
    if (!expr) return expr.error();
    agents_ = jobs_.agents();
    std::vector<const AgentInfo*> matched;
    for (const AgentInfo& agent : agents_)
        if (expr->matches({agent.name, agent.labels})) matched.push_back(&agent);
    return matched;
}

void ChatService::start_job(chat::Adapter& a, const chat::IncomingMessage& m, SubmitRequest request,
                            bool dry_run, DoneToken done) {
    if (dry_run) {
        auto hosts = matching_agents(request.target);
        if (!hosts) return reply(a, m, "error: " + hosts.error().message);
        std::vector<std::string> online, offline;
        for (const AgentInfo* agent : *hosts)
            (agent->online ? online : offline).push_back(agent->name);
        return reply(a, m,
                     "dry run: would run " + shown_argv(request.argv) + " on " +
                         (online.empty() ? std::string("no online host") : join(online)) +
                         (offline.empty() ? "" : " (offline: " + join(offline) + ")") +
                         "; nothing ran");
    }
    auto submitted = jobs_.submit(request);
    if (!submitted) return reply(a, m, "error: " + submitted.error().message);
    std::string text =
        "job #" + std::to_string(submitted->job_id) + " on " +
        std::to_string(submitted->matched.size()) + " host(s): " + join(submitted->matched) +
        (submitted->offline.empty() ? "" : " (offline, skipped: " + join(submitted->offline) + ")");
    if (firing_ != nullptr) {
        firing_->job_id = submitted->job_id;
        text = "schedule " + firing_->schedule.name + ": " + text;
    }
    // Said once the job is committed: a crash after the acknowledgement loses nothing.
    jobs_.when_stored([this, adapter = &a, m, text = std::move(text), job_id = submitted->job_id,
                       done = std::move(done)]() mutable {
        reply(*adapter, m, text);
        follow(*adapter, m, job_id, std::move(done));
    });
}

void ChatService::follow(chat::Adapter& a, const chat::IncomingMessage& m, std::int64_t job_id,
                         DoneToken done) {
    std::uint64_t id = next_report_++;
    auto report = std::make_unique<JobReport>();
    report->adapter = &a;
    report->origin = m;
    report->job_id = job_id;
    report->done = std::move(done);
    reports_[id] = std::move(report);
    jobs_.subscribe(
        job_id, [this, id](const JobEvent& e) { on_job_event(id, e); },
        [this, id](Result<std::uint64_t> subscription) {
            auto it = reports_.find(id);
            if (it == reports_.end()) return;
            if (!subscription) {
                logger->warn("cannot follow job #{}: {}", it->second->job_id,
                             subscription.error().message);
                reports_.erase(it);
                return;
            }
            it->second->subscription = *subscription;
            if (it->second->finished) reports_.erase(it);
        });
}

void ChatService::on_job_event(std::uint64_t report_id, const JobEvent& event) {
    auto it = reports_.find(report_id);
    if (it == reports_.end()) return;
    JobReport& r = *it->second;
    if (const auto* run = std::get_if<JobEvent::RunChanged>(&event.what)) {
        r.runs[run->run.id] = run->run;
        post_progress(r);
        return;
    }
    if (const auto* out = std::get_if<JobEvent::OutputAdded>(&event.what)) {
        std::string& partial = r.partial[out->chunk.run_id];
        partial += out->chunk.data;
        std::size_t start = 0;
        for (std::size_t nl; (nl = partial.find('\n', start)) != std::string::npos;
             start = nl + 1) {
            ++r.total_lines;
            if (r.lines.size() < config_.summary_lines)
                r.lines.push_back(out->chunk.agent + " | " +
                                  partial.substr(start, std::min<std::size_t>(nl - start, 300)));
        }
        partial.erase(0, start);
        if (partial.size() > 4096) partial.resize(4096);  // a line that never ends is cut
        post_progress(r);
        return;
    }
    const Job& job = std::get<JobEvent::JobChanged>(event.what).job;
    r.job = job;
    if (!is_final(job.state)) {
        if (job.batch_window > 0) post_progress(r);  // the window is known from here on
        return;
    }
    for (auto& [run_id, rest] : r.partial)
        if (!rest.empty()) {
            ++r.total_lines;
            if (r.lines.size() < config_.summary_lines)
                r.lines.push_back(r.runs[run_id].agent + " | " + rest.substr(0, 300));
        }
    std::map<std::string, int> counts;
    for (const RunRecord* run : last_attempts(r.runs)) ++counts[std::string(to_string(run->state))];
    std::vector<std::string> tally;
    for (const auto& [state, n] : counts) tally.push_back(std::to_string(n) + " " + state);
    std::string link =
        config_.job_url_base.empty() ? "" : " " + config_.job_url_base + std::to_string(job.id);
    std::string text = "job #" + std::to_string(job.id) + " " + std::string(to_string(job.state)) +
                       ": " + join(tally) + link;
    // Named first, so no cut of a long summary hides them.
    std::vector<std::string> lost = agents_in(r, RunState::lost);
    if (!lost.empty())
        text += "\nlost: " + join(lost) +
                " (the agent went away or restarted mid-run; what it sent is kept)";
    std::vector<std::string> not_started;
    std::string why;
    for (const auto& [id, run] : r.runs)
        if (never_started(run)) {
            not_started.push_back(run.agent);
            why = run.error.substr(kNotStartedPrefix.size());
        }
    if (!not_started.empty()) text += "\nnever ran (" + why + "): " + join(not_started);
    for (const auto& [id, run] : r.runs) text += "\n" + run_line(run);
    for (const std::string& line : r.lines) text += "\n" + line;
    if (r.total_lines > r.lines.size())
        text += "\n(+" + std::to_string(r.total_lines - r.lines.size()) +
                " more lines: " + config_.prefix + "output " + std::to_string(job.id) +
                (link.empty() ? "" : " or" + link) + ")";
    std::string hint = config_.prefix + "output " + std::to_string(job.id);
    r.adapter->post(r.origin.channel, r.origin.thread,
                    fit(text, r.adapter->limits().max_message_bytes, hint),
                    [](Result<chat::PostedMessage>) {});
    r.finished = true;
    if (r.subscription != 0) reports_.erase(it);  // the stream ends here; nothing to unsubscribe
}

void ChatService::post_progress(JobReport& r) {
    if (!r.adapter->limits().can_edit) return;
    auto now = Clock::now();
    if (r.progress && now - r.last_edit < r.adapter->limits().min_edit_interval) return;
    std::size_t done = 0;
    const auto hosts = last_attempts(r.runs);  // a retried host is one host
    for (const RunRecord* run : hosts) done += is_final(run->state);
    std::string text = "job #" + std::to_string(r.job_id) + ": " + std::to_string(done) + "/" +
                       std::to_string(hosts.size()) + " hosts done, " +
                       std::to_string(r.total_lines) + " lines";
    std::vector<RunRecord> runs;
    for (const auto& [id, run] : r.runs) runs.push_back(run);
    if (std::string window = window_progress(r.job, runs); !window.empty()) text += "; " + window;
    std::vector<std::string> silent = agents_in(r, RunState::unknown);
    if (!silent.empty()) text += "; waiting for " + join(silent) + " (offline)";
    if (std::string queued = queue_note(r.runs); !queued.empty()) text += "; " + queued;
    if (!r.lines.empty()) text += "\n" + r.lines.back();
    r.last_edit = now;
    if (r.progress && r.progress->message_id.empty()) {
        // The first post is still on its way (a rate-limited platform): its edit waits for it.
        r.unsent_progress = std::move(text);
        return;
    }
    if (r.progress) {
        r.adapter->edit(*r.progress, text);
        return;
    }
    std::int64_t job_id = r.job_id;
    r.progress = chat::PostedMessage{};  // posting: do not post twice
    r.adapter->post(r.origin.channel, r.origin.thread, text,
                    [this, job_id](Result<chat::PostedMessage> posted) {
                        for (auto& [id, report] : reports_) {
                            if (report->job_id != job_id || !posted) continue;
                            report->progress = *posted;
                            if (!report->unsent_progress.empty())
                                report->adapter->edit(*posted,
                                                      std::exchange(report->unsent_progress, {}));
                        }
                    });
}

// ---- approvals ---------------------------------------------------------------------------

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "in 30m (at 14:05 UTC)": what a person in any time zone can act on.
std::string expiry_text(std::int64_t expires_at_ms) {
    auto left = std::chrono::milliseconds(std::max<std::int64_t>(0, expires_at_ms - wall_ms()));
    auto secs = std::chrono::seconds(left.count() / 1000 + (left.count() % 1000 ? 1 : 0));
    std::time_t at = static_cast<std::time_t>(expires_at_ms / 1000);
    std::tm utc{};
    ::gmtime_r(&at, &utc);
    char clock[16];
    std::strftime(clock, sizeof clock, "%H:%M", &utc);
    return "in " + format_duration(secs) + " (at " + clock + " UTC)";
}

std::vector<std::string> approvers_of(const Approval& a) {
    std::vector<std::string> out;
    for (const ApprovalVote& v : a.votes)
        if (v.approve) out.push_back(v.approver);
    return out;
}

}  // namespace

void ChatService::enable_approvals(ApprovalService& approvals) {
    approvals_ = &approvals;
    approvals.add_listener([this](const Approval& a) { on_approval(a); });
}

void ChatService::request_approval(chat::Adapter& a, const chat::IncomingMessage& m,
                                   const SubmitRequest& request, const ApprovalSpec& spec) {
    if (approvals_ == nullptr)
        return reply(a, m,
                     "error: this command needs approval, and approvals are not enabled here");
    auto requested = approvals_->request(request, spec);
    if (!requested) return reply(a, m, "error: " + requested.error().message);
    if (firing_ != nullptr) firing_->job_id = requested->job_id;
    // The request itself is posted by on_approval, in this channel.
}

Result<void> ChatService::post_to(const std::string& source, const std::string& text) {
    std::string channel;
    chat::Adapter* a = adapter_of(source, channel);
    if (a == nullptr || channel.empty())
        return fail("no chat adapter serves " + source + " (is [chat.irc] configured?)");
    chat::IncomingMessage to;
    to.channel = channel;
    reply(*a, to, text);
    return {};
}

chat::Adapter* ChatService::adapter_of(const std::string& source, std::string& channel) {
    auto colon = source.find(':');
    if (colon == std::string::npos) return nullptr;
    std::string platform = source.substr(0, colon);
    channel = source.substr(colon + 1);
    if (platform == "schedule") {  // a firing's job: its schedule's channel, while it exists
        auto schedule = schedules_ ? schedules_->schedule(channel) : std::nullopt;
        return schedule ? adapter_of(schedule->channel, channel) : nullptr;
    }
    if (platform == local_->platform()) return local_.get();
    for (auto& adapter : adapters_)
        if (adapter->platform() == platform) return adapter.get();
    return nullptr;
}

void ChatService::on_approval(const Approval& ap) {
    std::string channel;
    chat::Adapter* a = adapter_of(ap.source, channel);
    if (a == nullptr) return;  // asked through the API or CLI, or its adapter is gone
    chat::IncomingMessage origin;
    origin.channel = channel;
    const std::string& p = config_.prefix;
    const std::string id = std::to_string(ap.job_id);
    std::string text;
    switch (ap.state) {
        case ApprovalState::pending:
            if (ap.votes.empty()) {
                std::vector<std::string> offline;
                for (const AgentInfo& agent : jobs_.agents())
                    if (!agent.online &&
                        std::find(ap.hosts.begin(), ap.hosts.end(), agent.name) != ap.hosts.end())
                        offline.push_back(agent.name);
                text = "approval needed for job #" + id + ": " + ap.requester + " asks to run\n  " +
                       shown_argv(ap.argv) + "\non exactly " + std::to_string(ap.hosts.size()) +
                       " host(s): " + join(ap.hosts) +
                       (offline.empty()
                            ? ""
                            : " (offline now, skipped unless back: " + join(offline) + ")") +
                       "\nneeds " + std::to_string(ap.count) + " approval(s) from group '" +
                       ap.group + "' (not the requester's own); expires " +
                       expiry_text(ap.expires_at_ms) + "\ndecide: " + p + "approve " + id +
                       "   or   " + p + "deny " + id + " REASON";
            } else {
                text = "job #" + id + ": approved by " + join(approvers_of(ap)) + " (" +
                       std::to_string(ap.approvals()) + " of " + std::to_string(ap.count) +
                       "); needs " + std::to_string(ap.count - ap.approvals()) +
                       " more from group '" + ap.group + "'";
            }
            break;
        case ApprovalState::granted:
            text = "job #" + id + " approved by " + join(approvers_of(ap)) + ": running " +
                   shown_argv(ap.argv) + " on " + join(ap.hosts) +
                   " (hosts offline now are skipped)";
            break;
        case ApprovalState::denied:
            text = ap.requester + ": job #" + id + " was " + ap.reason + "; nothing ran";
            break;
        case ApprovalState::expired:
            text = ap.requester + ": job #" + id + " expired, nothing ran: " + ap.reason;
            break;
    }
    if (ap.state == ApprovalState::pending && ap.votes.empty()) {
        // The request, with buttons where the platform has them; remembered so the decision
        // can take its place.
        const std::int64_t job = ap.job_id;
        const std::string platform = a->platform();
        const std::string shown = fit(text, a->limits().max_message_bytes, "see the web UI");
        return a->post_approval_request(
            channel, "", shown, job, [this, a, job, platform](Result<chat::PostedMessage> posted) {
                if (!posted)
                    return logger->warn("chat {}: approval request for job #{} not posted: {}",
                                        platform, job, posted.error().message);
                if (approval_requests_.size() < kMaxPostedRequests)
                    approval_requests_[job] = {a, *posted};
            });
    }
    if (ap.state != ApprovalState::pending) {
        if (auto request = approval_requests_.find(ap.job_id);
            request != approval_requests_.end()) {
            request->second.adapter->show_decision(request->second.message, text);
            approval_requests_.erase(request);
        }
    }
    reply(*a, origin, text);
    if (ap.state == ApprovalState::granted) follow(*a, origin, ap.job_id, nullptr);
}

void ChatService::on_approval_action(chat::Adapter& a, const chat::ApprovalAction& action) {
    // Refusals go where the button was, naming who clicked: the platform shows the click to
    // the clicker only, so a silent refusal would look like nothing happened.
    chat::IncomingMessage where;
    where.sender = action.user;
    where.channel = action.request.channel;
    const std::string who =
        action.user.display_name.empty() ? action.user.id : action.user.display_name;
    if (approvals_ == nullptr)
        return reply(a, where, who + ": error: approvals are not enabled here");
    const bool approve = action.choice == chat::ApprovalChoice::approve;
    audit_.record({"command.received",
                   action.user.id,
                   a.platform() + ":" + where.channel,
                   {{"channel", where.channel},
                    {"text", std::string(approve ? "approve" : "deny") + " button on job #" +
                                 std::to_string(action.job_id)}}});
    const std::string reason =
        action.reason.empty() ? "denied with the button in " + a.platform() : action.reason;
    Result<Approval> decided = approve ? approvals_->approve(action.job_id, action.user.id)
                                       : approvals_->deny(action.job_id, action.user.id, reason);
    // What came of it (a vote counted, granted, denied) is posted by on_approval.
    if (!decided) reply(a, where, who + ": error: " + decided.error().message);
}

void ChatService::builtin_decide(chat::Adapter& a, const chat::IncomingMessage& m,
                                 const chat::ParsedCommand& c, bool approve) {
    const std::string usage =
        "usage: " + config_.prefix + (approve ? "approve ID" : "deny ID REASON");
    if (approvals_ == nullptr) return reply(a, m, "error: approvals are not enabled here");
    auto id = job_id_of(c, approve ? 0 : c.tokens.size());
    if (!id) return reply(a, m, usage);
    Result<Approval> decided = fail("");
    if (approve) {
        decided = approvals_->approve(*id, m.sender.id);
    } else {
        std::vector<std::string> words;
        for (std::size_t i = 1; i < c.tokens.size(); ++i) words.push_back(c.tokens[i].text);
        if (words.empty())
            return reply(a, m,
                         "error: say why you deny job #" + std::to_string(*id) + "\n" + usage);
        decided = approvals_->deny(*id, m.sender.id, join(words, " "));
    }
    if (!decided) return reply(a, m, "error: " + decided.error().message);
    // The decision is posted where the request was; tell the decider only if that is elsewhere.
    std::string channel;
    chat::Adapter* origin = adapter_of(decided->source, channel);
    if (origin != &a || channel != m.channel)
        reply(a, m,
              "job #" + std::to_string(*id) + ": " +
                  (approve ? "your approval is recorded (" + std::to_string(decided->approvals()) +
                                 " of " + std::to_string(decided->count) + ")"
                           : std::string("denied")));
}

void ChatService::builtin_pending(chat::Adapter& a, const chat::IncomingMessage& m) {
    if (approvals_ == nullptr) return reply(a, m, "error: approvals are not enabled here");
    auto pending = approvals_->pending_for(m.sender.id);
    if (pending.empty()) return reply(a, m, "nothing awaits your approval");
    std::string text = std::to_string(pending.size()) + " approval(s) await you:";
    for (const Approval& ap : pending)
        text += "\n#" + std::to_string(ap.job_id) + "  " + shown_argv(ap.argv) + " on " +
                join(ap.hosts) + "  by " + ap.requester + "  " + std::to_string(ap.approvals()) +
                "/" + std::to_string(ap.count) + " from " + ap.group + ", expires " +
                expiry_text(ap.expires_at_ms);
    text +=
        "\ndecide: " + config_.prefix + "approve ID   or   " + config_.prefix + "deny ID REASON";
    reply(a, m, text);
}

}  // namespace hostline::controller
