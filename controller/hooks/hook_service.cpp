#include "controller/hooks/hook_service.hpp"

#include <algorithm>
#include <chrono>

#include "common/log/module_logger.hpp"
#include "controller/catalog/binding.hpp"
#include "controller/hooks/hook_template.hpp"

static constinit hostline::log::ModuleLogger logger{"hooks"};

namespace hostline::controller {

namespace {

std::int64_t system_seconds() {
    using namespace std::chrono;
    return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string join(const std::vector<std::string>& words, const std::string& separator = ", ") {
    std::string out;
    for (const auto& word : words) out += (out.empty() ? "" : separator) + word;
    return out;
}

}  // namespace

Result<void> check_hooks(const std::vector<HookSpec>& hooks, const Catalog& catalog,
                         bool irc_configured) {
    std::vector<std::string> problems;
    for (const HookSpec& hook : hooks) {
        const std::string key = "hooks." + hook.name;
        if (hook.post && hook.post->channel.rfind("irc:", 0) == 0 && !irc_configured)
            problems.push_back(key + ".post.channel: " + hook.post->channel +
                               " is on IRC, and [chat.irc] is not configured");
        if (!hook.run) continue;
        const CommandSpec* command = catalog.find(hook.run->command);
        if (command == nullptr) {
            problems.push_back(key + ".run.command: the catalog has no command '" +
                               hook.run->command + "'");
            continue;
        }
        for (const auto& [param, text] : hook.run->params) {
            const bool known = std::any_of(command->params.begin(), command->params.end(),
                                           [&](const ParamSpec& p) { return p.name == param; });
            if (!known) {
                std::vector<std::string> names;
                for (const ParamSpec& p : command->params) names.push_back(p.name);
                problems.push_back(key + ".run.params." + param + ": " + command->name +
                                   " has no such param" +
                                   (names.empty() ? std::string(" (it takes none)")
                                                  : "; it takes " + join(names)));
            }
        }
    }
    if (!problems.empty()) return fail(join(problems, "\n"));
    return {};
}

HookService::HookService(std::vector<HookSpec> hooks, JobService& jobs, const Catalog& catalog,
                         const PolicyFile& policy, AuditTrail& audit, target::Groups groups,
                         ChannelPoster post)
    : jobs_(jobs),
      catalog_(catalog),
      policy_(policy),
      audit_(audit),
      groups_(std::move(groups)),
      post_(std::move(post)),
      now_(system_seconds) {
    for (auto& spec : hooks) {
        std::string name = spec.name;
        hooks_.emplace(std::move(name), Hook{std::move(spec), ReplayMemory(), ReplayMemory()});
    }
}

void HookService::refuse(const std::string& hook, unsigned status, const std::string& reason,
                         const std::function<void(WebhookAnswer)>& answer) {
    logger->info("hook {}: refused ({}): {}", hook, status, reason);
    audit_.record({"hook.refused",
                   "hook:" + hook,
                   "hook:" + hook,
                   {{"status", std::to_string(status)}, {"reason", reason}}});
    answer({status, reason, std::nullopt});
}

void HookService::remember(Hook& hook, const VerifiedCall& verified) {
    hook.signatures.remember(verified.signature);
    if (!verified.delivery.empty()) hook.deliveries.remember(verified.delivery);
}

void HookService::receive(WebhookCall call, std::function<void(WebhookAnswer)> answer) {
    auto it = hooks_.find(call.name);
    // An unknown name is not audited: anyone can knock on /hooks/anything.
    if (it == hooks_.end()) return answer({404, "there is no hook named '" + call.name + "'", {}});
    Hook& hook = it->second;
    const std::string& name = hook.spec.name;

    // The signature first: nothing reads a body that is not proven to be the sender's.
    auto verified = verify_hook_signature(hook.spec, call.headers, call.body, now_());
    if (!verified) return refuse(name, 401, verified.error().message, answer);
    // Only accepted calls are remembered, so a sender may redeliver one that was refused
    // (a template or policy fixed in between).
    if (!verified->delivery.empty() && hook.deliveries.seen(verified->delivery))
        return refuse(name, 409, "delivery " + verified->delivery + " was already received",
                      answer);
    if (hook.signatures.seen(verified->signature))
        return refuse(name, 409, "this exact call (same signature) was already received", answer);

    nlohmann::json body = nlohmann::json::parse(call.body, nullptr, false);
    if (body.is_discarded())
        return refuse(name, 400, "the body is not valid JSON (strings must be UTF-8)", answer);

    if (hook.spec.post) {
        auto text = render_hook_template(hook.spec.post->text, body);
        if (!text) return refuse(name, 422, "text: " + text.error().message, answer);
        if (text->empty()) return refuse(name, 422, "text: the message renders empty", answer);
        if (auto posted = post_(hook.spec.post->channel, *text); !posted)
            return refuse(name, 503, posted.error().message, answer);
        remember(hook, *verified);
        audit_.record({"hook.received",
                       "hook:" + name,
                       hook.spec.post->channel,
                       {{"action", "post"},
                        {"delivery", verified->delivery},
                        {"channel", hook.spec.post->channel},
                        {"text", *text}}});
        return answer({202, "posted in " + hook.spec.post->channel, std::nullopt});
    }
    run(hook, *verified, body, answer);
}

void HookService::run(Hook& hook, const VerifiedCall& verified, const nlohmann::json& body,
                      const std::function<void(WebhookAnswer)>& answer) {
    const HookSpec& spec = hook.spec;
    const HookRun& run = *spec.run;
    const std::string channel = "hook:" + spec.name;
    const CommandSpec* command = catalog_.find(run.command);
    if (command == nullptr)
        return refuse(spec.name, 422, "the catalog has no command '" + run.command + "'", answer);

    // The command as if the identity had typed it: every param by name, then the target.
    chat::ParsedCommand parsed;
    parsed.name = run.command;
    for (const auto& [param, text] : run.params) {
        auto value = render_hook_template(text, body);
        if (!value) return refuse(spec.name, 422, param + ": " + value.error().message, answer);
        chat::Token token;
        token.kind = chat::Token::Kind::option;
        token.text = param;
        token.inline_value = *value;
        parsed.tokens.push_back(std::move(token));
    }
    if (!run.target.empty()) {
        auto target = render_hook_template(run.target, body);
        if (!target) return refuse(spec.name, 422, "target: " + target.error().message, answer);
        parsed.target = *target;
    }
    auto bound = bind(*command, parsed);
    if (!bound) return refuse(spec.name, 422, bound.error().message, answer);

    auto expr = target::TargetExpr::parse(bound->target, groups_);
    if (!expr) return refuse(spec.name, 422, "target: " + expr.error().message, answer);
    std::vector<target::Host> hosts;
    std::vector<std::string> names, outside;
    for (const AgentInfo& agent : jobs_.agents()) {
        if (!expr->matches({agent.name, agent.labels})) continue;
        hosts.push_back({agent.name, agent.labels});
        names.push_back(agent.name);
        if (command->allowed_targets && !command->allowed_targets->matches(hosts.back()))
            outside.push_back(agent.name);
    }
    if (!outside.empty())
        return refuse(spec.name, 403,
                      run.command + " may only run on " + command->allowed_targets->text() +
                          "; outside it: " + join(outside),
                      answer);
    if (!command->channels.empty() && std::find(command->channels.begin(), command->channels.end(),
                                                channel) == command->channels.end())
        return refuse(spec.name, 403,
                      run.command + " may only be used in " + join(command->channels), answer);

    const Decision d =
        policy_.current()->decide({run.identity, command->permission, hosts, channel});
    AuditEvent decision{d.allowed ? "policy.allowed" : "policy.denied",
                        run.identity,
                        "command:" + command->name,
                        {}};
    decision.detail = {
        {"permission", command->permission}, {"hosts", join(names, ",")}, {"channel", channel}};
    decision.detail[d.allowed ? "role" : "reason"] = d.allowed ? d.role : d.reason;
    audit_.record(std::move(decision));
    if (!d.allowed) return refuse(spec.name, 403, d.reason, answer);
    // A webhook cannot wait for people: what needs approval is not started from one.
    if (command->approval || d.approval)
        return refuse(spec.name, 403,
                      run.command +
                          " needs approval, which a webhook cannot wait for; run it "
                          "from chat",
                      answer);

    SubmitRequest request;
    request.requester = run.identity;
    request.source = channel;
    request.target = bound->target;
    request.argv = bound->argv;
    request.command = command->name;
    if (command->timeout) request.timeout_ms = command->timeout->count();
    request.env = command->env;
    request.cwd = command->cwd;
    request.run_as_user = command->user;
    request.output_cap_bytes = command->output_cap;
    if (command->is_script()) {
        request.script = command->script_content;
        request.script_sha256 = command->script_sha256;
    }
    auto submitted = jobs_.submit(request);
    if (!submitted) return refuse(spec.name, 422, submitted.error().message, answer);
    remember(hook, verified);
    const std::int64_t job_id = submitted->job_id;
    audit_.record({"hook.received",
                   "hook:" + spec.name,
                   "job:" + std::to_string(job_id),
                   {{"action", "run"},
                    {"delivery", verified.delivery},
                    {"identity", run.identity},
                    {"command", command->name},
                    {"hosts", join(submitted->matched, ",")}}});
    // Answered once the job is committed: a crash after the 202 loses nothing.
    jobs_.when_stored([answer, job_id, command = command->name] {
        answer({202, "job #" + std::to_string(job_id) + " runs " + command, job_id});
    });
}

}  // namespace hostline::controller
