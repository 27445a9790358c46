// The modules the daemons log through, in one table: each has its own spdlog logger whose
// level an operator can change at runtime ([log.modules] in the config, SIGHUP,
// PUT /api/v1/log-levels, `hostline log-level`). docs/configuration.md lists them.
//
// A new module is one row here; ModuleLogger refuses, at compile time, a name not in it.
#pragma once

#include <array>
#include <string_view>

namespace hostline::log {

// Which daemon logs through a module; the other daemon refuses its name in its config.
enum class Program : unsigned { agent = 1, controller = 2, both = 3 };

struct Module {
    std::string_view name;
    Program program;
    std::string_view about;  // for operators: what its lines are about
};

inline constexpr std::array kModules{
    // The agent.
    Module{"agent", Program::agent, "the agent's start, stop, runs and their processes"},
    Module{"spool", Program::agent, "the agent's on-disk spool of output not yet acknowledged"},
    // Both: the agent's link to the controller, the controller's listener for agents.
    Module{"transport", Program::both, "ZeroMQ/CURVE links between agents and the controller"},
    // The controller.
    Module{"controller", Program::controller, "the controller's start, stop and signals"},
    Module{"agents", Program::controller, "agent enrollment, keys and revocation"},
    Module{"scheduler", Program::controller, "jobs, runs, rollouts and agents' liveness"},
    Module{"store", Program::controller, "the SQLite database"},
    Module{"http", Program::controller, "the HTTP API, the web UI and browser sessions"},
    Module{"chat", Program::controller, "chat commands and the chat adapters' HTTPS links"},
    Module{"irc", Program::controller, "the IRC adapter"},
    Module{"slack", Program::controller, "the Slack adapter"},
    Module{"teams", Program::controller, "the Microsoft Teams adapter"},
    Module{"approvals", Program::controller, "approval requests and votes"},
    Module{"policy", Program::controller, "policy.toml, its loading and reloading"},
    Module{"schedules", Program::controller, "scheduled jobs and their firings"},
    Module{"hooks", Program::controller, "inbound webhooks"},
    Module{"tokens", Program::controller, "API tokens"},
};

constexpr bool is_module(std::string_view name) {
    for (const Module& module : kModules)
        if (module.name == name) return true;
    return false;
}

// The table's entry for name, or nullptr.
constexpr const Module* find_module(std::string_view name) {
    for (const Module& module : kModules)
        if (module.name == name) return &module;
    return nullptr;
}

constexpr bool logs_through(Program program, const Module& module) {
    return (static_cast<unsigned>(program) & static_cast<unsigned>(module.program)) != 0;
}

}  // namespace hostline::log
