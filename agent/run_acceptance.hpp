// What this host accepts, beyond what the controller's policy allows (agent.toml
// [agent.accept]): defence in depth, so a controller that is wrong or compromised still
// cannot make this host run what its owner ruled out.
//
// Plain values and a pure decision; the agent asks before it executes anything.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "common/proto/messages.hpp"

namespace hostline::agent {

struct RunAcceptance {
    bool adhoc = true;  // runs that name no catalog command
    // Catalog commands accepted by name; unset: any catalog command.
    std::optional<std::set<std::string>> commands;
    // Catalog scripts accepted by SHA-256 (lowercase hex); unset: any script.
    std::optional<std::set<std::string>> script_hashes;
};

// Why this host refuses run (a sentence for the person who asked), or nothing when it is
// accepted. Looks only at the run's command name and script hash: the script's content is
// checked against that hash when it is written (ScriptFiles::write).
std::optional<std::string> refusal(const RunAcceptance& accept, const proto::Run& run);

}  // namespace hostline::agent
