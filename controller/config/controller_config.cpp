#include "controller/config/controller_config.hpp"

#include <cstdlib>
#include <fstream>

#include "common/config/config_reader.hpp"
#include "common/target/target_expr.hpp"

namespace hostline::controller {

Result<ControllerConfig> load_controller_config(const std::string& path) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    ControllerConfig c;
    c.data_dir = r.string("controller.data_dir", c.data_dir);
    r.check(!c.data_dir.empty() && c.data_dir[0] == '/', "controller.data_dir",
            "must be an absolute path");
    c.agent_listen = r.string("controller.agent_listen", c.agent_listen);
    r.check(c.agent_listen.rfind("tcp://", 0) == 0 || c.agent_listen.rfind("ipc://", 0) == 0,
            "controller.agent_listen", "must be tcp://ADDRESS:PORT or ipc://PATH");
    c.agent_public_endpoint = r.string("controller.agent_endpoint", c.agent_public_endpoint);
    r.check(c.agent_public_endpoint.empty() || c.agent_public_endpoint.rfind("tcp://", 0) == 0,
            "controller.agent_endpoint", "must be tcp://HOST:PORT");
    c.heartbeat_ms = r.duration_ms("controller.heartbeat", c.heartbeat_ms);
    r.check(c.heartbeat_ms >= 100 && c.heartbeat_ms <= 60000, "controller.heartbeat",
            "must be between 100ms and 1m");
    c.agent_grace_ms = r.duration_ms("controller.agent_grace", c.agent_grace_ms);
    r.check(c.agent_grace_ms >= 1000, "controller.agent_grace", "must be at least 1s");
    c.default_timeout_ms = r.duration_ms("controller.default_timeout", c.default_timeout_ms);
    r.check(c.default_timeout_ms >= 1000, "controller.default_timeout", "must be at least 1s");
    c.output_cap_bytes = static_cast<std::uint64_t>(
        r.integer("controller.output_cap_bytes", static_cast<std::int64_t>(c.output_cap_bytes),
                  1024, std::int64_t{1} << 32));
    c.log_level = r.string("controller.log_level", c.log_level);
    c.policy_file = r.string("controller.policy_file", "");
    r.check(c.policy_file.empty() || c.policy_file[0] == '/', "controller.policy_file",
            "must be an absolute path");

    c.http_address = r.string("http.address", c.http_address);
    // One admin token guards the API until policy exists, so it stays on this host.
    r.check(
        c.http_address == "127.0.0.1" || c.http_address == "::1" || c.http_address == "localhost",
        "http.address",
        "must be a loopback address (127.0.0.1, ::1 or localhost) until per-user API tokens "
        "exist; put a reverse proxy in front to reach it from elsewhere");
    c.http_port = static_cast<std::uint16_t>(r.integer("http.port", c.http_port, 0, 65535));
    c.metrics_public = r.boolean("http.metrics_public", c.metrics_public);

    c.groups = r.string_map("groups");
    for (const auto& [name, expr] : c.groups) {
        auto parsed = target::TargetExpr::parse(expr, c.groups);
        r.check(parsed.ok(), "groups." + name, parsed ? "" : parsed.error().message);
    }
    c.catalog_dir = r.string("catalog.dir", "");
    r.check(c.catalog_dir.empty() || c.catalog_dir[0] == '/', "catalog.dir",
            "must be an absolute path");
    c.chat_prefix = r.string("chat.prefix", c.chat_prefix);
    r.check(!c.chat_prefix.empty() && c.chat_prefix.size() <= 4 &&
                c.chat_prefix.find_first_of(" \t\"'") == std::string::npos,
            "chat.prefix", "must be 1 to 4 characters without spaces or quotes, e.g. \"!\"");
    c.chat_bot_name = r.string("chat.bot_name", c.chat_bot_name);
    r.check(!c.chat_bot_name.empty(), "chat.bot_name", "must not be empty");
    c.job_url_base = r.string("chat.job_url_base", "");
    r.check(c.job_url_base.empty() || c.job_url_base.rfind("http://", 0) == 0 ||
                c.job_url_base.rfind("https://", 0) == 0,
            "chat.job_url_base", "must start with http:// or https://");
    if (r.has("chat.irc")) {
        chat::irc::IrcConfig irc;
        irc.host = r.string("chat.irc.host", "");
        r.check(!irc.host.empty(), "chat.irc.host", "must name the IRC server");
        irc.port = static_cast<std::uint16_t>(r.integer("chat.irc.port", 6697, 1, 65535));
        irc.tls = r.boolean("chat.irc.tls", true);
        irc.ca_file = r.string("chat.irc.ca_file", "");
        irc.nick = r.string("chat.irc.nick", irc.nick);
        irc.user = r.string("chat.irc.user", irc.user);
        irc.realname = r.string("chat.irc.realname", irc.realname);
        irc.sasl_user = r.string("chat.irc.sasl_user", "");
        // The password never sits in the config: a file (0600) or an environment variable.
        std::string password_file = r.string("chat.irc.sasl_password_file", "");
        std::string password_env = r.string("chat.irc.sasl_password_env", "");
        if (!password_file.empty()) {
            std::ifstream in(password_file);
            r.check(static_cast<bool>(in && std::getline(in, irc.sasl_password)),
                    "chat.irc.sasl_password_file", "cannot read " + password_file);
        } else if (!password_env.empty()) {
            const char* value = std::getenv(password_env.c_str());
            r.check(value != nullptr, "chat.irc.sasl_password_env",
                    "$" + password_env + " is not set");
            if (value) irc.sasl_password = value;
        }
        r.check(
            irc.sasl_user.empty() == irc.sasl_password.empty(), "chat.irc.sasl_user",
            "SASL needs both sasl_user and a password (sasl_password_file or sasl_password_env)");
        irc.channels = r.string_list("chat.irc.channels");
        for (const auto& ch : irc.channels)
            r.check(!ch.empty() && (ch[0] == '#' || ch[0] == '&') &&
                        ch.find_first_of(" ,\a") == std::string::npos,
                    "chat.irc.channels", "'" + ch + "' is not a channel name (#name)");
        irc.messages_per_second =
            r.number("chat.irc.messages_per_second", irc.messages_per_second, 0.1, 100);
        irc.burst = r.number("chat.irc.burst", irc.burst, 1, 100);
        c.irc = std::move(irc);
    }
    r.reject_unknown({"chat.irc.host",
                      "chat.irc.port",
                      "chat.irc.tls",
                      "chat.irc.ca_file",
                      "chat.irc.nick",
                      "chat.irc.user",
                      "chat.irc.realname",
                      "chat.irc.sasl_user",
                      "chat.irc.sasl_password_file",
                      "chat.irc.sasl_password_env",
                      "chat.irc.channels",
                      "chat.irc.messages_per_second",
                      "chat.irc.burst",
                      "catalog.dir",
                      "chat.prefix",
                      "chat.bot_name",
                      "chat.job_url_base",
                      "controller.data_dir",
                      "controller.agent_listen",
                      "controller.heartbeat",
                      "controller.agent_grace",
                      "controller.default_timeout",
                      "controller.output_cap_bytes",
                      "controller.log_level",
                      "controller.policy_file",
                      "http.address",
                      "http.port",
                      "http.metrics_public",
                      "groups"});
    if (auto done = r.finish(); !done) return done.error();
    return c;
}

}  // namespace hostline::controller
