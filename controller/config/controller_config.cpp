#include "controller/config/controller_config.hpp"

#include <cstdlib>
#include <fstream>
#include <set>

#include "common/config/config_reader.hpp"
#include "common/log/log_config.hpp"
#include "common/target/target_expr.hpp"
#include "controller/hooks/hook_template.hpp"

namespace hostline::controller {

namespace {

bool is_hook_name(const std::string& name) {
    return !name.empty() && name.size() <= 64 &&
           name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

// A secret: the first line of the file `key.NAME_file`, or the environment variable named by
// `key.NAME_env`; never in the config itself, and never logged. Hooks call theirs "secret",
// Slack's are "app_token", "bot_token" and "signing_secret".
std::string read_secret(config::ConfigReader& r, const std::string& key, const std::string& name) {
    const std::string file_key = key + "." + name + "_file";
    const std::string env_key = key + "." + name + "_env";
    const std::string file = r.string(file_key, "");
    const std::string env = r.string(env_key, "");
    r.check(file.empty() || env.empty(), key,
            "set one of " + name + "_file and " + name + "_env, not both");
    std::string secret;
    if (!file.empty()) {
        std::ifstream in(file);
        r.check(static_cast<bool>(in && std::getline(in, secret)), file_key, "cannot read " + file);
        while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' '))
            secret.pop_back();
        r.check(!in || !secret.empty(), file_key, file + " is empty");
    } else if (!env.empty()) {
        const char* value = std::getenv(env.c_str());
        r.check(value != nullptr && *value != '\0', env_key, "$" + env + " is not set or empty");
        if (value) secret = value;
    } else {
        r.check(false, key,
                "needs a " + (name == "secret" ? std::string("secret") : name) + ": " + name +
                    "_file or " + name + "_env");
    }
    return secret;
}

std::string read_hook_secret(config::ConfigReader& r, const std::string& key) {
    return read_secret(r, key, "secret");
}

void check_template(config::ConfigReader& r, const std::string& key, const std::string& text) {
    auto checked = check_hook_template(text);
    r.check(checked.ok(), key, checked ? "" : checked.error().message);
}

// [hooks.NAME] tables: every key is checked here, unknown ones included.
std::vector<HookSpec> read_hooks(config::ConfigReader& r, const toml::table& file) {
    std::vector<HookSpec> hooks;
    const toml::table* table = file["hooks"].as_table();
    if (r.has("hooks") && table == nullptr) r.check(false, "hooks", "must be a table of hooks");
    if (table == nullptr) return hooks;
    for (const auto& [name_key, node] : *table) {
        HookSpec hook;
        hook.name = std::string(name_key.str());
        const std::string key = "hooks." + hook.name;
        r.check(is_hook_name(hook.name), key,
                "a hook name is lowercase letters, digits and '-' (it is the path /hooks/NAME)");
        const toml::table* entries = node.as_table();
        if (entries == nullptr) {
            r.check(false, key, "must be a table");
            continue;
        }
        for (const auto& [entry, value] : *entries) {
            static const std::set<std::string> kKnown = {
                "secret_file", "secret_env",       "signature", "header",
                "prefix",      "timestamp_header", "post",      "run"};
            r.check(kKnown.count(std::string(entry.str())) != 0,
                    key + "." + std::string(entry.str()),
                    "unknown key; expected secret_file, secret_env, signature, header, prefix, "
                    "timestamp_header, post or run");
        }
        hook.secret = read_hook_secret(r, key);
        const std::string signature = r.string(key + ".signature", "github");
        r.check(signature == "github" || signature == "header", key + ".signature",
                "must be \"github\" or \"header\"");
        hook.signature = signature == "header" ? HookSignature::header : HookSignature::github;
        hook.header = r.string(key + ".header", "");
        hook.prefix = r.string(key + ".prefix", "");
        hook.timestamp_header = r.string(key + ".timestamp_header", "");
        const auto header_name = [](const std::string& h) {
            return !h.empty() &&
                   h.find_first_not_of(
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") ==
                       std::string::npos;
        };
        if (hook.signature == HookSignature::header) {
            r.check(header_name(hook.header), key + ".header",
                    "a header hook names its signature header, e.g. \"X-Signature\"");
            r.check(hook.timestamp_header.empty() || header_name(hook.timestamp_header),
                    key + ".timestamp_header", "must be a header name, e.g. \"X-Timestamp\"");
        } else {
            r.check(!r.has(key + ".header") && !r.has(key + ".prefix") &&
                        !r.has(key + ".timestamp_header"),
                    key + ".signature",
                    "header, prefix and timestamp_header are for signature = \"header\"; github "
                    "hooks use X-Hub-Signature-256");
        }
        const bool has_post = r.has(key + ".post");
        const bool has_run = r.has(key + ".run");
        r.check(has_post != has_run, key, "needs exactly one of post and run");
        if (has_post) {
            HookPost post;
            post.channel = r.string(key + ".post.channel", "");
            const auto colon = post.channel.find(':');
            r.check(colon != std::string::npos && colon > 0 && colon + 1 < post.channel.size(),
                    key + ".post.channel", "must be a chat source such as \"irc:#ops\"");
            post.text = r.string(key + ".post.text", "");
            r.check(!post.text.empty(), key + ".post.text", "must be a message template");
            check_template(r, key + ".post.text", post.text);
            if (const toml::table* t = (*entries)["post"].as_table())
                for (const auto& [entry, value] : *t)
                    r.check(entry.str() == "channel" || entry.str() == "text",
                            key + ".post." + std::string(entry.str()),
                            "unknown key; expected channel or text");
            hook.post = std::move(post);
        }
        if (has_run) {
            HookRun run;
            run.command = r.string(key + ".run.command", "");
            r.check(!run.command.empty(), key + ".run.command", "must name a catalog command");
            run.identity = r.string(key + ".run.identity", "");
            const auto colon = run.identity.find(':');
            r.check(colon != std::string::npos && colon > 0 && colon + 1 < run.identity.size(),
                    key + ".run.identity",
                    "must be an identity the policy knows, such as \"webhook:github\"");
            run.target = r.string(key + ".run.target", "");
            check_template(r, key + ".run.target", run.target);
            run.params = r.string_map(key + ".run.params");
            for (const auto& [param, text] : run.params)
                check_template(r, key + ".run.params." + param, text);
            if (const toml::table* t = (*entries)["run"].as_table())
                for (const auto& [entry, value] : *t)
                    r.check(entry.str() == "command" || entry.str() == "identity" ||
                                entry.str() == "target" || entry.str() == "params",
                            key + ".run." + std::string(entry.str()),
                            "unknown key; expected command, identity, target or params");
            hook.run = std::move(run);
        }
        hooks.push_back(std::move(hook));
    }
    return hooks;
}

}  // namespace

Result<ControllerConfig> load_controller_config(const std::string& path) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    ControllerConfig c;
    c.config_path = path;
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
    c.max_heartbeats_per_second = r.integer("controller.max_heartbeats_per_second",
                                            c.max_heartbeats_per_second, 0, 1'000'000);
    c.agent_grace_ms = r.duration_ms("controller.agent_grace", c.agent_grace_ms);
    r.check(c.agent_grace_ms >= 1000, "controller.agent_grace", "must be at least 1s");
    c.default_timeout_ms = r.duration_ms("controller.default_timeout", c.default_timeout_ms);
    r.check(c.default_timeout_ms >= 1000, "controller.default_timeout", "must be at least 1s");
    c.output_cap_bytes = static_cast<std::uint64_t>(
        r.integer("controller.output_cap_bytes", static_cast<std::int64_t>(c.output_cap_bytes),
                  1024, std::int64_t{1} << 32));
    c.compress_output = r.boolean("controller.compress_output", c.compress_output);
    // [log]; [controller] log_level is its deprecated older place (docs/configuration.md).
    c.log = log::read_log_config(r, log::Program::controller, "controller.log_level");
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
    c.session_idle_ms = r.duration_ms("http.session_idle", c.session_idle_ms);
    r.check(c.session_idle_ms >= 60'000, "http.session_idle", "must be at least 1m");
    c.session_max_ms = r.duration_ms("http.session_max", c.session_max_ms);
    r.check(c.session_max_ms >= c.session_idle_ms, "http.session_max",
            "must be at least http.session_idle");
    c.secure_cookies = r.boolean("http.secure_cookies", c.secure_cookies);

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
    if (r.has("chat.slack")) {
        chat::slack::SlackConfig slack;
        const std::string mode = r.string("chat.slack.mode", "socket");
        r.check(mode == "socket" || mode == "events", "chat.slack.mode",
                "must be \"socket\" (Socket Mode, the default: no public endpoint) or "
                "\"events\" (the Events API: Slack POSTs to /chat/slack/events), not \"" +
                    mode + "\"");
        if (mode == "events") {
            slack.mode = chat::slack::SlackMode::events_api;
            slack.signing_secret = read_secret(r, "chat.slack", "signing_secret");
        } else {
            slack.app_token = read_secret(r, "chat.slack", "app_token");
        }
        slack.bot_token = read_secret(r, "chat.slack", "bot_token");
        r.check(slack.app_token.empty() || slack.app_token.rfind("xapp-", 0) == 0,
                "chat.slack.app_token_file", "the app-level token starts with xapp-");
        r.check(slack.bot_token.empty() || slack.bot_token.rfind("xoxb-", 0) == 0,
                "chat.slack.bot_token_file", "the bot token starts with xoxb-");
        slack.api_url = r.string("chat.slack.api_url", slack.api_url);
        r.check(slack.api_url.rfind("https://", 0) == 0 && slack.api_url.back() == '/',
                "chat.slack.api_url", "must be an https:// URL ending in '/'");
        slack.ca_file = r.string("chat.slack.ca_file", "");
        slack.job_url_base = c.job_url_base;
        c.slack = std::move(slack);
    }
    if (r.has("chat.teams")) {
        chat::teams::TeamsConfig teams;
        teams.app_id = r.string("chat.teams.app_id", "");
        r.check(!teams.app_id.empty(), "chat.teams.app_id",
                "must be the Azure Bot's Microsoft App ID");
        teams.app_password = read_secret(r, "chat.teams", "app_password");
        const auto https_url = [&r](const std::string& key, std::string fallback) {
            std::string url = r.string(key, fallback);
            r.check(url.rfind("https://", 0) == 0, key, "must be an https:// URL");
            return url;
        };
        teams.openid_metadata_url =
            https_url("chat.teams.openid_metadata_url", teams.openid_metadata_url);
        teams.token_url = https_url("chat.teams.token_url", teams.token_url);
        teams.issuer = r.string("chat.teams.issuer", teams.issuer);
        r.check(!teams.issuer.empty(), "chat.teams.issuer", "must not be empty");
        teams.ca_file = r.string("chat.teams.ca_file", "");
        c.teams = std::move(teams);
    }
    c.hooks = read_hooks(r, *table);
    c.max_running_runs = static_cast<std::uint32_t>(
        r.integer("scheduler.max_running_runs", 0, 0, std::int64_t{1} << 20));
    // One list: each reject_unknown call reports every key outside its own list.
    r.reject_unknown({"chat.slack.mode",
                      "chat.slack.signing_secret_file",
                      "chat.slack.signing_secret_env",
                      "chat.slack.app_token_file",
                      "chat.slack.app_token_env",
                      "chat.slack.bot_token_file",
                      "chat.slack.bot_token_env",
                      "chat.slack.api_url",
                      "chat.slack.ca_file",
                      "chat.teams.app_id",
                      "chat.teams.app_password_file",
                      "chat.teams.app_password_env",
                      "chat.teams.openid_metadata_url",
                      "chat.teams.token_url",
                      "chat.teams.issuer",
                      "chat.teams.ca_file",
                      "chat.irc.host",
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
                      "controller.max_heartbeats_per_second",
                      "controller.agent_grace",
                      "controller.default_timeout",
                      "controller.output_cap_bytes",
                      "controller.compress_output",
                      "controller.log_level",
                      "controller.policy_file",
                      "http.address",
                      "http.port",
                      "http.metrics_public",
                      "http.session_idle",
                      "http.session_max",
                      "http.secure_cookies",
                      "groups",
                      "hooks",
                      "scheduler.max_running_runs",
                      "log.level",
                      "log.modules"});
    if (auto done = r.finish(); !done) return done.error();
    return c;
}

}  // namespace hostline::controller
