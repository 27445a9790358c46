// controller.toml: where the controller listens, where it keeps its data, and its defaults.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chat/irc/irc_adapter.hpp"
#include "chat/slack/slack_adapter.hpp"
#include "chat/teams/teams_adapter.hpp"
#include "common/error.hpp"
#include "common/log/log_config.hpp"
#include "controller/hooks/hook_spec.hpp"

namespace hostline::controller {

struct ControllerConfig {
    std::string data_dir = "/var/lib/hostline";  // database, keys, admin token
    std::string agent_listen = "tcp://*:7420";   // ZeroMQ ROUTER endpoint
    // [controller] agent_endpoint: where agents reach the controller, put into enrollment
    // tokens; empty: the bound endpoint, with a wildcard address replaced by the host name.
    std::string agent_public_endpoint;
    std::string http_address = "127.0.0.1";  // [http] address
    std::uint16_t http_port = 7480;          // [http] port; 0 picks a free one
    std::int64_t heartbeat_ms = 5000;        // agents are offline after 3 silent intervals
    // Past it a large fleet is told a longer heartbeat (docs/operations.md); 0: never.
    std::int64_t max_heartbeats_per_second = 250;
    std::int64_t agent_grace_ms = 5 * 60 * 1000;  // unknown runs become lost after this
    std::int64_t default_timeout_ms = 10 * 60 * 1000;
    std::uint64_t output_cap_bytes = 16 * 1024 * 1024;  // stored per run
    // [controller] compress_output: agents send output LZ4-compressed and it is stored so
    // (docs/protocol.md); false: as the process wrote it.
    bool compress_output = true;
    std::map<std::string, std::string> groups;  // [groups] name = "target expression"
    std::string policy_file;        // [controller] policy_file; empty: only the admin token may act
    std::string catalog_dir;        // [catalog] dir: commands.d; empty: built-ins only
    std::string chat_prefix = "!";  // [chat] prefix
    std::string chat_bot_name = "hostline";         // [chat] bot_name, for mentions
    std::string job_url_base;                       // [chat] job_url_base: links in job summaries
    std::optional<chat::irc::IrcConfig> irc;        // [chat.irc]: connect to an IRC network
    std::optional<chat::slack::SlackConfig> slack;  // [chat.slack]: a Slack app, Socket Mode
    // [chat.teams]: a Microsoft Teams bot, its activities POSTed to /chat/teams/messages
    std::optional<chat::teams::TeamsConfig> teams;
    // [log] (and [controller] log_level, deprecated); re-read from config_path on SIGHUP.
    log::LogConfig log;
    std::string config_path;
    std::vector<HookSpec> hooks;  // [hooks.NAME]: inbound webhooks (docs/webhooks.md)
    // [http] metrics_public: GET /metrics without a token (for a Prometheus on this host).
    bool metrics_public = false;
    // The web UI's browser sessions (docs/api.md, "Browser sessions"): [http] session_idle
    // ends one unused this long, session_max this long after login; secure_cookies marks the
    // cookie Secure (for a UI reached over HTTPS through a proxy).
    std::int64_t session_idle_ms = 12LL * 3600 * 1000;
    std::int64_t session_max_ms = 7LL * 24 * 3600 * 1000;
    bool secure_cookies = false;
    // [scheduler] max_running_runs: runs at once across the fleet (docs/scheduling.md,
    // "Concurrency"); 0: no cap beyond each agent's capacity.
    std::uint32_t max_running_runs = 0;

    std::string database_path() const { return data_dir + "/hostline.db"; }
    std::string keys_dir() const { return data_dir + "/keys"; }
    std::string accepted_agents_dir() const { return data_dir + "/agents"; }
    std::string admin_token_path() const { return data_dir + "/admin.token"; }
};

// Reads and validates path; every problem is reported with file, key and reason.
Result<ControllerConfig> load_controller_config(const std::string& path);

}  // namespace hostline::controller
