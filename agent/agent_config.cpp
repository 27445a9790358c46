#include "agent/agent_config.hpp"

#include "agent/agent_identity.hpp"
#include "agent/enrollment_file.hpp"
#include "agent/host_facts.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/config/config_reader.hpp"
#include "common/log/log_config.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

bool is_command_name(const std::string& name) {
    static const std::regex kCommand("[a-z][a-z0-9-]{0,63}");  // as the catalog names them
    return std::regex_match(name, kCommand);
}

bool is_sha256_hex(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(), [](unsigned char ch) {
               return std::isxdigit(ch) != 0;
           });
}

// [agent.accept]. Naming commands without saying anything of ad-hoc runs turns those off:
// whoever lists what may run here does not mean "and anything typed after run --".
RunAcceptance read_acceptance(config::ConfigReader& r) {
    RunAcceptance accept;
    if (r.has("agent.accept.commands")) {
        accept.commands.emplace();
        for (const std::string& name : r.string_list("agent.accept.commands")) {
            r.check(is_command_name(name), "agent.accept.commands",
                    "'" + name + "' is not a catalog command name ([a-z][a-z0-9-]*, at most 64)");
            accept.commands->insert(name);
        }
    }
    accept.adhoc = r.boolean("agent.accept.adhoc", !accept.commands.has_value());
    if (r.has("agent.accept.script_hashes")) {
        accept.script_hashes.emplace();
        for (std::string hash : r.string_list("agent.accept.script_hashes")) {
            r.check(is_sha256_hex(hash), "agent.accept.script_hashes",
                    "'" + hash + "' is not a SHA-256 in hex (64 characters, as sha256sum prints)");
            std::transform(hash.begin(), hash.end(), hash.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
            accept.script_hashes->insert(hash);
        }
    }
    return accept;
}

}  // namespace

Result<AgentToml> read_agent_toml(const std::string& path) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    AgentToml toml;
    AgentConfig& c = toml.config;
    toml.names_agent = r.has("agent.name");
    c.name = r.string("agent.name", host_name());
    r.check(is_valid_agent_name(c.name), "agent.name", kAgentNameRule);
    c.labels = r.string_map("agent.labels");
    for (const auto& [k, v] : c.labels)
        r.check(is_valid_label(k, v), "agent.labels." + k, kLabelRule);
    c.state_dir = r.string("agent.state_dir", c.state_dir);
    r.check(!c.state_dir.empty() && c.state_dir[0] == '/', "agent.state_dir",
            "must be an absolute path");
    c.capacity = static_cast<std::uint32_t>(r.integer("agent.capacity", c.capacity, 1, 1024));
    c.kill_grace_ms = r.duration_ms("agent.kill_grace", c.kill_grace_ms);
    c.spool_max_bytes = static_cast<std::uint64_t>(
        r.integer("agent.spool_max_bytes", static_cast<std::int64_t>(c.spool_max_bytes),
                  std::int64_t{1} << 20, std::int64_t{1} << 50));
    c.spool_full_wait_ms = r.duration_ms("agent.spool_full_wait", c.spool_full_wait_ms);
    c.accept = read_acceptance(r);

    // Without a [controller] section the enrollment names the controller (load_agent_config).
    toml.names_controller = r.has("controller");
    if (toml.names_controller) {
        c.controller_source = path;
        c.controller_endpoint = r.string("controller.endpoint", "");
        r.check(c.controller_endpoint.rfind("tcp://", 0) == 0 ||
                    c.controller_endpoint.rfind("ipc://", 0) == 0,
                "controller.endpoint", "must be set to tcp://HOST:PORT (or ipc://PATH)");
        c.controller_public_key = r.string("controller.public_key", "");
        std::string key_file = r.string("controller.public_key_file", "");
        if (c.controller_public_key.empty() && !key_file.empty()) {
            auto key = transport::read_public_key(key_file);
            r.check(key.ok(), "controller.public_key_file", key ? "" : key.error().message);
            if (key) c.controller_public_key = *key;
        } else {
            r.check(transport::is_curve_key(c.controller_public_key), "controller.public_key",
                    "must be the controller's CURVE public key (40 Z85 characters), or set "
                    "public_key_file");
        }
    }
    c.log = log::read_log_config(r, log::Program::agent, "");  // [log]
    c.config_path = path;
    r.reject_unknown({"log.level", "log.modules", "agent.name", "agent.labels", "agent.state_dir",
                      "agent.capacity", "agent.kill_grace", "agent.spool_max_bytes",
                      "agent.spool_full_wait", "agent.accept.adhoc", "agent.accept.commands",
                      "agent.accept.script_hashes", "controller.endpoint", "controller.public_key",
                      "controller.public_key_file"});
    if (auto done = r.finish(); !done) return done.error();
    return toml;
}

Result<AgentConfig> load_agent_config(const std::string& path) {
    auto toml = read_agent_toml(path);
    if (!toml) return toml.error();
    AgentConfig& c = toml->config;
    if (toml->names_controller) return c;
    auto enrolled = read_enrollment(c.state_dir);
    if (!enrolled) return enrolled.error();
    if (!*enrolled)
        return fail(path + ": not enrolled (no [controller] section here, and no " +
                    enrollment_path(c.state_dir) +
                    "): run hostline-agent enroll TOKEN, or set [controller] in agent.toml");
    Enrollment& e = **enrolled;
    if (!toml->names_agent) c.name = e.name;
    c.labels.merge(e.labels);  // moves only the keys agent.toml does not set
    c.controller_endpoint = e.controller_endpoint;
    c.controller_public_key = e.controller_public_key;
    c.controller_source = enrollment_path(c.state_dir);
    return c;
}

}  // namespace hostline::agent
