// The declared shape of one catalog command, as loaded from commands.d/*.toml.
//
// Plain values: built once by Catalog::load, never changed after, so any thread may read them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/target/target_expr.hpp"
#include "controller/scheduler/concurrency.hpp"

namespace hostline::controller {

enum class ParamType { string, integer, boolean, enumeration, duration };

struct ParamSpec {
    std::string name;  // [a-z][a-z0-9_]*; set by --name (or --na-me) or positionally
    ParamType type = ParamType::string;
    std::string help;
    bool required = false;
    // The default in its canonical text form (what lands in argv); unset: none.
    std::optional<std::string> default_value;
    // string only: the whole value must match (ECMAScript, std::regex_match). Unset: any.
    std::string pattern;
    std::optional<std::regex> regex;
    std::vector<std::string> choices;      // enumeration only; never empty for one
    std::optional<std::int64_t> min, max;  // integer only
};

// [command.approval]: parsed and validated here, enforced by policy.
struct ApprovalSpec {
    std::string group;
    int count = 1;
    std::chrono::milliseconds expiry{std::chrono::minutes{30}};
};

struct CommandSpec {
    std::string name;  // [a-z][a-z0-9-]{0,63}, unique in the catalog
    std::string summary;
    std::string help;
    std::string file;  // the file it was declared in, for messages
    // What follows the name in an example shown by help ("/var/log/syslog --lines 100");
    // checked at load: it must parse and bind. Empty: help makes one up where it can.
    std::string example;

    // Exactly one of `run` (an argv template with {param} placeholders) and `script`.
    std::vector<std::string> run;
    std::string script;  // relative to the catalog directory, e.g. "scripts/who.sh"
    std::string script_content;
    std::string script_sha256;  // lowercase hex of script_content
    std::string interpreter;    // script only; default /bin/sh

    std::vector<ParamSpec> params;  // declaration order

    std::optional<std::chrono::milliseconds> timeout;  // unset: the controller's default
    std::string default_target;                        // used when --on is absent; may be empty
    // Every matched host must match this; checked when the target is resolved.
    std::optional<target::TargetExpr> allowed_targets;
    // How it is scheduled (scheduler/concurrency.hpp, retry_policy.hpp): `concurrency` runs
    // of it at once across the fleet (0: no cap of its own), what a request beyond that gets
    // (`on_busy`), and its retries (`retries`, `retry_on`, `retry_backoff`).
    int concurrency = 0;
    OnBusy on_busy = OnBusy::wait;
    RetryPolicy retry;
    std::map<std::string, std::string> env;
    std::string cwd;                         // empty: the agent's
    std::string user;                        // empty: the agent's
    std::optional<std::int64_t> output_cap;  // bytes; unset: the controller's
    std::vector<std::string> channels;       // empty: any channel
    std::string permission;                  // default "command.<name>"
    std::optional<ApprovalSpec> approval;

    bool is_script() const { return !script.empty(); }
    CommandRules rules() const { return CommandRules{concurrency, on_busy, retry}; }
};

}  // namespace hostline::controller
