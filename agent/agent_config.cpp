#include "agent/agent_config.hpp"

#include "agent/host_facts.hpp"

#include <algorithm>
#include <cctype>
#include <regex>

#include "common/config/config_reader.hpp"
#include "common/log/log_config.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

bool is_valid_name(const std::string& name) {
    static const std::regex kName("[A-Za-z0-9][A-Za-z0-9._-]{0,62}");
    return std::regex_match(name, kName);
}

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
    c.spool_max_bytes = static_cast<std::uint64_t>(
        r.integer("agent.spool_max_bytes", static_cast<std::int64_t>(c.spool_max_bytes),
                  std::int64_t{1} << 20, std::int64_t{1} << 50));
    c.spool_full_wait_ms = r.duration_ms("agent.spool_full_wait", c.spool_full_wait_ms);
    c.accept = read_acceptance(r);

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
    c.log = log::read_log_config(r, log::Program::agent, "");  // [log]
    c.config_path = path;
    r.reject_unknown({"log.level", "log.modules", "agent.name", "agent.labels", "agent.state_dir",
                      "agent.capacity", "agent.kill_grace", "agent.spool_max_bytes",
                      "agent.spool_full_wait", "agent.accept.adhoc", "agent.accept.commands",
                      "agent.accept.script_hashes", "controller.endpoint", "controller.public_key",
                      "controller.public_key_file"});
    if (auto done = r.finish(); !done) return done.error();
    return c;
}

}  // namespace hostline::agent
