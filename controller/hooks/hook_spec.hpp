// One inbound webhook as declared in controller.toml ([hooks.NAME], docs/webhooks.md): how
// its calls are authenticated, and what a call does (post a message or run a catalog command).
//
// Plain values, built once when the config is read and never changed after.
#pragma once

#include <map>
#include <optional>
#include <string>

namespace hostline::controller {

enum class HookSignature {
    github,  // X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>; X-GitHub-Delivery
    header,  // <header>: <prefix><hex HMAC-SHA256 of the body, or of "TIMESTAMP.BODY">
};

// post = { channel = "irc:#ops", text = "{{pusher.name}} pushed ..." }
struct HookPost {
    std::string channel;  // a chat source, "platform:channel"
    std::string text;     // a template over the JSON body (hook_template.hpp)
};

// run = { command = "deploy", identity = "webhook:github", target = "role=web", params = {...} }
struct HookRun {
    std::string command;                        // a catalog command
    std::string identity;                       // who the policy decides for, "platform:id"
    std::string target;                         // a template; empty: the command's default
    std::map<std::string, std::string> params;  // param name -> template
};

struct HookSpec {
    std::string name;    // [a-z0-9-]+: the path is /hooks/NAME
    std::string secret;  // the HMAC key, read once at start; never logged
    HookSignature signature = HookSignature::github;
    std::string header;            // header hooks: the header carrying the signature
    std::string prefix;            // header hooks: text before the hex, e.g. "sha256="
    std::string timestamp_header;  // header hooks: optional; signs "TIMESTAMP.BODY"
    std::optional<HookPost> post;  // exactly one of post and run
    std::optional<HookRun> run;
};

}  // namespace hostline::controller
