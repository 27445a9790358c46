#include "agent/enrollment_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "agent/agent_identity.hpp"
#include "common/config/config_reader.hpp"
#include "common/transport/curve_keys.hpp"

namespace hostline::agent {
namespace {

// A TOML basic string. The values are checked names, labels, Z85 keys and endpoints, but
// quote, backslash and control characters are escaped anyway.
std::string quoted(const std::string& text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = "\"";
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            out += "\\u00";
            out += kHex[byte >> 4];
            out += kHex[byte & 15];
        } else {
            out += c;
        }
    }
    return out + "\"";
}

}  // namespace

std::string enrollment_path(const std::string& state_dir) {
    return state_dir + "/enrollment.toml";
}

Result<void> write_enrollment(const std::string& state_dir, const Enrollment& enrollment) {
    std::string text =
        "# Written by `hostline-agent enroll`; `hostline-agent enroll --force TOKEN` replaces it.\n"
        "# The agent uses it when agent.toml has no [controller] section (agent.toml's own\n"
        "# [controller] wins), with these labels under agent.toml's [agent.labels].\n"
        "[agent]\nname = " +
        quoted(enrollment.name) + "\n\n[agent.labels]\n";
    for (const auto& [key, value] : enrollment.labels)
        text += quoted(key) + " = " + quoted(value) + "\n";
    text += "\n[controller]\nendpoint = " + quoted(enrollment.controller_endpoint) +
            "\npublic_key = " + quoted(enrollment.controller_public_key) + "\n";
    return transport::write_file_atomically(enrollment_path(state_dir), text, 0600);
}

Result<std::optional<Enrollment>> read_enrollment(const std::string& state_dir) {
    const std::string path = enrollment_path(state_dir);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::optional<Enrollment>();
        return fail(path + ": " + std::strerror(errno));
    }
    if ((st.st_mode & 022) != 0)
        return fail(path +
                    ": writable by others, who could point this agent at another controller; "
                    "chmod 600 it");
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    Enrollment e;
    e.name = r.string("agent.name", "");
    r.check(is_valid_agent_name(e.name), "agent.name", kAgentNameRule);
    e.labels = r.string_map("agent.labels");
    for (const auto& [key, value] : e.labels)
        r.check(is_valid_label(key, value), "agent.labels." + key, kLabelRule);
    e.controller_endpoint = r.string("controller.endpoint", "");
    r.check(e.controller_endpoint.rfind("tcp://", 0) == 0 ||
                e.controller_endpoint.rfind("ipc://", 0) == 0,
            "controller.endpoint", "must be tcp://HOST:PORT (or ipc://PATH)");
    e.controller_public_key = r.string("controller.public_key", "");
    r.check(transport::is_curve_key(e.controller_public_key), "controller.public_key",
            "must be the controller's CURVE public key (40 Z85 characters)");
    r.reject_unknown(
        {"agent.name", "agent.labels", "controller.endpoint", "controller.public_key"});
    if (auto done = r.finish(); !done) return done.error();
    return std::optional<Enrollment>(std::move(e));
}

}  // namespace hostline::agent
