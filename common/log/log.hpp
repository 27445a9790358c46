// Logging for the daemons: every module (common/log/modules.hpp) logs through its own spdlog
// logger, all of them into ONE sink, stderr by default (journald picks it up, and knows the
// program), each line naming its module:
//
//   2026-11-24T16:30:00.123 info  scheduler: job 12 started
//
// A module's level is its own and can change at any time, from any thread (spdlog keeps it
// in an atomic). Levels: trace, debug, info, warn, error, off.
#pragma once

#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/log/modules.hpp"

namespace hostline::log {

// Sets every module to level and sends the lines to stderr. program ("agent", "controller")
// names the daemon; it is not in the lines. Error names the bad level and the valid ones.
Result<void> setup(std::string_view program, std::string_view level);

// Every module's lines go to sink from now on, formatted as above (setup: stderr). For a
// daemon that logs elsewhere, and for tests that read what was logged.
void use_sink(std::shared_ptr<spdlog::sinks::sink> sink);

// trace, debug, info, warn, error, off.
inline constexpr std::string_view kLevels = "trace, debug, info, warn, error, off";
// Ok if level is one of kLevels; else the error says which are.
Result<void> check_level(std::string_view level);
// Ok if program logs through a module named module; else the error lists those it has.
Result<void> check_module(Program program, std::string_view module);

struct ModuleLevel {
    std::string module;
    std::string level;  // one of kLevels
};

// program's modules and their levels now, in kModules' order.
std::vector<ModuleLevel> levels(Program program);

// Sets one of program's modules to level; returns its level before. Refuses (and changes
// nothing) an unknown module or level, naming the valid ones.
Result<std::string> set_level(Program program, std::string_view module, std::string_view level);

}  // namespace hostline::log
