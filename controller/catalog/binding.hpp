// Binding: gives a parsed chat command its meaning under a catalog spec, producing the exact
// argv to run. Values are inserted as text into argv elements; nothing is ever split or
// passed through a shell.
//
// Pure functions over immutable values: safe from any thread.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "chat/grammar/command.hpp"
#include "common/error.hpp"
#include "controller/catalog/command_spec.hpp"

namespace hostline::controller {

struct BoundCommand {
    const CommandSpec* spec = nullptr;  // not owned: the catalog's
    // run commands: the template with every placeholder substituted; an element that is
    // exactly one placeholder of a param with no value (optional, no default) is dropped.
    // script commands: [interpreter, spec->script, one value per param in declaration order
    // ("" for a param with no value)]; the agent runs its private copy of the script in place
    // of argv[1].
    std::vector<std::string> argv;
    std::map<std::string, std::string> values;  // param name -> value, defaults included
    std::string target;  // --on, or the spec's default target (unparsed text)
};

// Positional words fill the non-bool params, required ones first, each group in declaration
// order, skipping those set by name. `--name value` and `--name=value` set a param by name
// (`-` and `_` are the same in names); bool params are flags (`--force`, `--force=false`).
// Every value is checked against its type, range, pattern or choices, and may not hold
// control characters. Errors are one sentence for the person who typed the command:
// "missing --service (the service to restart)", "unknown option --forse for
// restart-service; did you mean --force?", "--count must be an integer, not 'ten'",
// "say where: --on TARGET".
Result<BoundCommand> bind(const CommandSpec& spec, const chat::ParsedCommand& parsed);

// One usage line for errors and help: "!restart-service SERVICE [--force] [--on TARGET]".
std::string usage(const CommandSpec& spec, std::string_view prefix = "!");

// The words after the name in an example for help: the catalog's `example`, or else a value
// for each required parameter (its first choice, its minimum, 30s, or its NAME).
std::string sample_arguments(const CommandSpec& spec);

}  // namespace hostline::controller
