#include "agent/enrollment.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "agent/agent_config.hpp"
#include "agent/controller_link.hpp"
#include "agent/enrollment_file.hpp"
#include "agent/host_facts.hpp"
#include "agent/state_dir.hpp"
#include "agent/version_refusal.hpp"
#include "common/enrollment/enrollment_token.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

// Where the enrollment goes and under which name, from the request and agent.toml; or why
// enrolling would leave the agent unable to use it.
struct Plan {
    std::string state_dir;
    std::string name;
    std::vector<std::string> warnings;
};

Result<Plan> plan(const EnrollRequest& request) {
    auto toml = read_agent_toml(request.config_path);
    if (!toml)
        return fail("cannot use " + request.config_path + " (the hostline-agent package installs " +
                    "it; any agent.toml will do, even an empty one): " + toml.error().message);
    const AgentConfig& local = toml->config;
    Plan p;
    p.state_dir = request.state_dir.empty() ? local.state_dir : request.state_dir;
    if (p.state_dir != local.state_dir)
        return fail("--state-dir " + request.state_dir + " is not the state_dir of " +
                    request.config_path + " (" + local.state_dir +
                    "), where the agent looks for its enrollment: set [agent] state_dir there, "
                    "or leave --state-dir out");
    if (toml->names_agent && !request.name.empty() && request.name != local.name)
        return fail(request.config_path + " names this agent '" + local.name +
                    "' (agent.name), which would win over --name " + request.name +
                    ": change agent.name there, or leave --name out");
    p.name = !request.name.empty() ? request.name : local.name;
    if (toml->names_controller)
        p.warnings.push_back(request.config_path +
                             " has its own [controller] section, which wins over the enrollment: "
                             "the agent will connect to " +
                             local.controller_endpoint +
                             ", not to the token's controller; remove that section to use the "
                             "enrollment");
    return p;
}

Result<void> refuse_existing(const std::string& state_dir, bool force) {
    if (force) return {};
    auto existing = read_enrollment(state_dir);
    if (!existing)
        return fail(existing.error().message + " (use --force to replace that enrollment)");
    if (*existing)
        return fail("this host is already enrolled as " + (*existing)->name +
                    " with the controller at " + (*existing)->controller_endpoint + " (" +
                    enrollment_path(state_dir) + "); use --force to enroll again");
    return {};
}

}  // namespace

Result<Enrolled> enroll(const EnrollRequest& request) {
    auto token = enrollment::decode_token(request.token);
    if (!token) return fail("the enrollment token is not valid: " + token.error().message);
    auto p = plan(request);
    if (!p) return p.error();
    if (auto free = refuse_existing(p->state_dir, request.force); !free) return free.error();
    if (auto prepared = prepare_state_dir(p->state_dir); !prepared) return prepared.error();
    auto keys = transport::load_or_create_key_pair(p->state_dir, "agent");
    if (!keys) return keys.error();
    std::string fingerprint = transport::key_fingerprint(keys->public_key);

    std::optional<proto::EnrollReply> answer;
    std::string refusal;
    std::unique_ptr<ControllerLink> link;
    link = std::make_unique<ControllerLink>(
        token->endpoint, token->controller_key, *keys, p->name,
        ControllerLink::Handlers{.on_connected =
                                     [&] {
                                         proto::Enroll message;
                                         message.agent_id = p->name;
                                         message.hostname = host_name();
                                         message.version = HOSTLINE_VERSION;
                                         message.secret = token->secret;
                                         link->send(message);
                                     },
                                 .on_message =
                                     [&](proto::Message m) {
                                         if (auto* reply = std::get_if<proto::EnrollReply>(&m))
                                             answer = *reply;
                                         auto* error = std::get_if<proto::ErrorReply>(&m);
                                         if (error && error->code == "version")
                                             refusal = version_refusal(*error, token->endpoint);
                                         else if (error && error->code == "unexpected")
                                             // An accepted key's messages go to the scheduler.
                                             refusal = "it already accepts this host's key " +
                                                       fingerprint +
                                                       " as an agent and takes no enrollment "
                                                       "from it (" +
                                                       error->message + ")";
                                         else if (error)
                                             refusal = error->message;
                                     }});
    if (auto connected = link->connect(); !connected) return connected.error();

    auto deadline = ControllerLink::Clock::now() + request.timeout;
    std::vector<zmq::pollitem_t> items;
    while (!answer && refusal.empty() && ControllerLink::Clock::now() < deadline) {
        items.clear();
        link->add_poll_items(items);
        try {
            zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
        } catch (const zmq::error_t& e) {
            if (e.num() != EINTR) return fail(std::string("poll failed: ") + e.what());
        }
        link->on_poll(items.data(), ControllerLink::Clock::now());
    }
    if (!refusal.empty()) return fail("the controller refused to enroll this agent: " + refusal);
    if (!answer)
        return fail("no answer from the controller at " + token->endpoint + " within " +
                    std::to_string(request.timeout.count() / 1000) +
                    " s (is it reachable, and is this host's key " + fingerprint +
                    " not revoked?)");
    if (!answer->accepted)
        return fail("the controller refused to enroll this agent: " + answer->reason);
    const std::string name = answer->agent_id.empty() ? p->name : answer->agent_id;
    Enrollment kept{name, answer->labels, token->endpoint, token->controller_key};
    if (auto w = write_enrollment(p->state_dir, kept); !w)
        return fail("the controller enrolled this agent as " + name +
                    ", but it could not be kept: " + w.error().message);
    return Enrolled{name, fingerprint, enrollment_path(p->state_dir), std::move(p->warnings)};
}

}  // namespace hostline::agent
