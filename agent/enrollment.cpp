#include "agent/enrollment.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <optional>

#include "agent/controller_link.hpp"
#include "agent/host_facts.hpp"
#include "agent/runner/script_file.hpp"
#include "agent/state_dir.hpp"
#include "common/enrollment/enrollment_token.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

// A TOML basic string: the values written here are checked names, labels, Z85 keys and
// endpoints, but quote and backslash are escaped anyway.
std::string quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

std::string agent_toml(const std::string& name, const std::map<std::string, std::string>& labels,
                       const std::string& state_dir, const enrollment::EnrollmentToken& token) {
    std::string text = "# Written by `hostline-agent enroll`.\n[agent]\nname = " + quoted(name) +
                       "\nstate_dir = " + quoted(state_dir) + "\n\n[agent.labels]\n";
    for (const auto& [k, v] : labels) text += quoted(k) + " = " + quoted(v) + "\n";
    text += "\n[controller]\nendpoint = " + quoted(token.endpoint) +
            "\npublic_key = " + quoted(token.controller_key) + "\n";
    return text;
}

bool file_exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

std::string key_fingerprint(const std::string& public_key) {
    return "SHA256:" + sha256_hex(public_key).substr(0, 16);
}

Result<Enrolled> enroll(const EnrollRequest& request) {
    auto token = enrollment::decode_token(request.token);
    if (!token) return fail("the enrollment token is not valid: " + token.error().message);
    std::string name = request.name.empty() ? host_name() : request.name;
    if (!request.force && file_exists(request.config_path))
        return fail(request.config_path +
                    " already exists: this host looks enrolled (use --force to enroll again)");
    if (auto prepared = prepare_state_dir(request.state_dir); !prepared) return prepared.error();
    auto keys = transport::load_or_create_key_pair(request.state_dir, "agent");
    if (!keys) return keys.error();
    std::string fingerprint = key_fingerprint(keys->public_key);

    std::optional<proto::EnrollReply> answer;
    std::string refusal;
    std::unique_ptr<ControllerLink> link;
    link = std::make_unique<ControllerLink>(
        token->endpoint, token->controller_key, *keys, name,
        ControllerLink::Handlers{[&] {
                                     proto::Enroll message;
                                     message.agent_id = name;
                                     message.hostname = host_name();
                                     message.version = HOSTLINE_VERSION;
                                     message.secret = token->secret;
                                     link->send(message);
                                 },
                                 [&](proto::Message m) {
                                     if (auto* reply = std::get_if<proto::EnrollReply>(&m))
                                         answer = *reply;
                                     if (auto* error = std::get_if<proto::ErrorReply>(&m))
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
    if (auto w = transport::write_file_atomically(
            request.config_path, agent_toml(name, answer->labels, request.state_dir, *token), 0640);
        !w)
        return fail("enrolled as " + name + ", but " + w.error().message);
    return Enrolled{answer->agent_id, fingerprint};
}

}  // namespace hostline::agent
