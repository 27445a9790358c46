#include "controller/agents/agent_enrollment.hpp"

#include <chrono>

#include "common/enrollment/enrollment_token.hpp"
#include "common/log/module_logger.hpp"

static constinit hostline::log::ModuleLogger logger{"agents"};

namespace hostline::controller {
namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

AgentKeyView view_of(const AgentKey& key) {
    return {key.name, state_name(key.state), key.fingerprint};
}

std::string printable(const std::string& text) {
    std::string out;
    for (char c : text.substr(0, 64)) out += (c >= 32 && c < 127) ? c : '?';
    return out;
}

}  // namespace

AgentEnrollment::AgentEnrollment(KeyDirectory& keys, EnrollmentTokens& tokens, AuditTrail& audit,
                                 Links links, std::string endpoint, std::string controller_key)
    : keys_(keys),
      tokens_(tokens),
      audit_(audit),
      links_(std::move(links)),
      endpoint_(std::move(endpoint)),
      controller_key_(std::move(controller_key)) {}

void AgentEnrollment::on_stranger(const transport::Stranger& from, proto::Message message) {
    if (auto* hello = std::get_if<proto::Hello>(&message)) on_hello(from, *hello);
    if (auto* enroll = std::get_if<proto::Enroll>(&message)) on_enroll(from, *enroll);
}

void AgentEnrollment::on_hello(const transport::Stranger& from, const proto::Hello& hello) {
    std::string fingerprint = key_fingerprint(from.public_key);
    auto added = keys_.add_pending(hello.agent_id, from.public_key);
    if (!added) {
        logger->warn("agent '{}' ({}) cannot wait for acceptance: {}", printable(hello.agent_id),
                     fingerprint, added.error().message);
        links_.reply(from, proto::ErrorReply{"not_accepted", added.error().message});
        return;
    }
    if (*added) {
        logger->info("agent {} ({}, key {}) is pending: accept it with `hostline agents accept {}`",
                     hello.agent_id, printable(hello.hostname), fingerprint, hello.agent_id);
        audit_.record({"agent.pending",
                       "controller",
                       "agent:" + hello.agent_id,
                       {{"fingerprint", fingerprint}, {"hostname", printable(hello.hostname)}}});
    }
    links_.reply(from,
                 proto::ErrorReply{"not_accepted", "this agent's key (" + fingerprint +
                                                       ") is pending: an admin must accept it with "
                                                       "`hostline agents accept " +
                                                       hello.agent_id + "`"});
}

void AgentEnrollment::on_enroll(const transport::Stranger& from, const proto::Enroll& enroll) {
    std::string fingerprint = key_fingerprint(from.public_key);
    auto refuse = [&](const std::string& reason) {
        logger->warn("refused to enroll agent '{}' ({}): {}", printable(enroll.agent_id),
                     fingerprint, reason);
        links_.reply(from, proto::EnrollReply{false, enroll.agent_id, {}, reason});
    };
    if (!is_agent_name(enroll.agent_id))
        return refuse("'" + printable(enroll.agent_id) + "' is not a valid agent name");
    if (!enrollment::is_token_secret(enroll.secret))
        return refuse("the enrollment token's secret is malformed");
    if (auto ok = check_labels(enroll.labels); !ok) return refuse(ok.error().message);
    if (keys_.is_accepted(enroll.agent_id))
        return refuse("the name " + enroll.agent_id +
                      " is already taken by another agent; enroll with another --name");
    auto grant = tokens_.redeem(enroll.secret, now_ms());
    if (!grant) return refuse(grant.error().message);
    auto accepted = keys_.accept(enroll.agent_id, from.public_key);
    if (!accepted) return refuse(accepted.error().message);
    logger->info("agent {} enrolled with token {} (key {})", enroll.agent_id, grant->id,
                 fingerprint);
    std::map<std::string, std::string> detail{{"fingerprint", fingerprint},
                                              {"token", grant->id},
                                              {"hostname", printable(enroll.hostname)}};
    audit_.record({"agent.enrolled", "token:" + grant->id, "agent:" + enroll.agent_id, detail});
    links_.reply(from, proto::EnrollReply{true, enroll.agent_id, grant->labels, {}});
}

Result<CreatedToken> AgentEnrollment::create_token(const TokenRequest& request) {
    auto created = tokens_.create(request.labels, request.ttl_ms, request.uses, now_ms());
    if (!created) return created.error();
    const auto& [secret, grant] = *created;
    CreatedToken out;
    out.token = enrollment::encode_token({endpoint_, controller_key_, secret});
    out.id = grant.id;
    out.expires_ms = grant.expires_ms;
    out.uses = grant.uses_left;
    out.labels = grant.labels;
    std::string labels;
    for (const auto& [k, v] : grant.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
    logger->info("enrollment token {} created by {} ({} use(s))", grant.id, request.actor,
                 grant.uses_left);
    audit_.record({"token.created",
                   request.actor,
                   "enrollment-token:" + grant.id,
                   {{"uses", std::to_string(grant.uses_left)},
                    {"expires_ms", std::to_string(grant.expires_ms)},
                    {"labels", labels}}});
    return out;
}

std::vector<AgentKeyView> AgentEnrollment::agent_keys() {
    std::vector<AgentKeyView> out;
    for (const AgentKey& key : keys_.keys()) out.push_back(view_of(key));
    return out;
}

Result<AgentKeyView> AgentEnrollment::accept(const std::string& name, const std::string& actor) {
    auto accepted = keys_.accept_pending(name);
    if (!accepted) return accepted.error();
    logger->info("agent {} accepted by {} (key {})", name, actor, accepted->fingerprint);
    audit_.record(
        {"agent.accepted", actor, "agent:" + name, {{"fingerprint", accepted->fingerprint}}});
    return view_of(*accepted);
}

Result<AgentKeyView> AgentEnrollment::revoke(const std::string& name, const std::string& actor) {
    auto revoked = keys_.revoke(name);
    if (!revoked) return revoked.error();
    logger->warn("agent {} revoked by {} (key {})", name, actor, revoked->fingerprint);
    // Its connection is cut off at once: the transport answers anything more from the key with
    // error{revoked}. Tell it now too, so it stops and logs why.
    links_.send(name, proto::ErrorReply{"revoked", "this agent's key was revoked by " + actor});
    links_.revoked(name);
    audit_.record(
        {"agent.revoked", actor, "agent:" + name, {{"fingerprint", revoked->fingerprint}}});
    return view_of(*revoked);
}

}  // namespace hostline::controller
