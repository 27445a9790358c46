#include "agent/run_acceptance.hpp"

namespace hostline::agent {

std::optional<std::string> refusal(const RunAcceptance& accept, const proto::Run& run) {
    if (run.command.empty()) {
        if (!accept.adhoc) return "ad-hoc runs are turned off on this host";
    } else if (accept.commands && accept.commands->count(run.command) == 0) {
        return "command '" + run.command + "' is not accepted on this host";
    }
    // A hash without content is a script too (ScriptFiles refuses it later): judge it here
    // by the same rule, so an allowlist is never bypassed by an empty script.
    const bool is_script = !run.script.data.empty() || !run.script_sha256.empty();
    if (is_script && accept.script_hashes && accept.script_hashes->count(run.script_sha256) == 0)
        return "script sha256 " + (run.script_sha256.empty() ? "(none)" : run.script_sha256) +
               " is not accepted on this host";
    return std::nullopt;
}

}  // namespace hostline::agent
