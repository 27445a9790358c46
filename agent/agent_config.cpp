#include "agent/agent_config.hpp"

#include "agent/host_facts.hpp"

#include <regex>

#include "common/config/config_reader.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

bool is_valid_name(const std::string& name) {
    static const std::regex kName("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    return std::regex_match(name, kName);
}

}  // namespace

Result<AgentConfig> load_agent_config(const std::string& path) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    AgentConfig c;
    c.name = r.string("agent.name", host_name());
    r.check(is_valid_name(c.name), "agent.name",
            "must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");
    c.labels = r.string_map("agent.labels");
    for (const auto& [k, v] : c.labels)
        r.check(is_valid_name(k) && !v.empty() && v.find_first_of(",&!=()@ ") == std::string::npos,
                "agent.labels." + k,
                "label keys and values must be plain words (no , & ! = ( ) @ or spaces)");
    c.state_dir = r.string("agent.state_dir", c.state_dir);
    r.check(!c.state_dir.empty() && c.state_dir[0] == '/', "agent.state_dir",
            "must be an absolute path");
    c.capacity = static_cast<std::uint32_t>(r.integer("agent.capacity", c.capacity, 1, 1024));
    c.kill_grace_ms = r.duration_ms("agent.kill_grace", c.kill_grace_ms);

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
    r.reject_unknown({"agent.name", "agent.labels", "agent.state_dir", "agent.capacity",
                      "agent.kill_grace", "controller.endpoint", "controller.public_key",
                      "controller.public_key_file"});
    if (auto done = r.finish(); !done) return done.error();
    return c;
}

}  // namespace hostline::agent
