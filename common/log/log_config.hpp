// The [log] section of controller.toml and agent.toml, read at start and again on SIGHUP:
//
//   [log]
//   level = "info"          # every module's level
//   [log.modules]
//   scheduler = "debug"     # one module's, over `level`
//
// Not thread-safe in itself; apply() may run on any thread (levels are atomic).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config_reader.hpp"
#include "common/error.hpp"
#include "common/log/modules.hpp"

namespace hostline::log {

struct LogConfig {
    std::string level = "info";                  // [log] level
    std::map<std::string, std::string> modules;  // [log.modules] MODULE = LEVEL
    // --log-level: over `level` at start; on SIGHUP, the level when the file sets none.
    std::string command_line_level;
    // Set when the file used a deprecated key, for the daemon to log once it logs.
    std::string deprecation;
};

// The keys read_log_config reads, for ConfigReader::reject_unknown.
inline constexpr std::string_view kLogLevelKey = "log.level";
inline constexpr std::string_view kLogModulesKey = "log.modules";

// Reads [log] through r, recording a problem naming the key for an unknown module of program
// or an unknown level. legacy_key (e.g. "controller.log_level"; empty: none) is an older
// place of the level, used when [log] level is absent, with a deprecation note. default_level:
// the level when neither is set.
LogConfig read_log_config(config::ConfigReader& r, Program program, std::string_view legacy_key,
                          std::string default_level = "info");

// Reads only [log] (and legacy_key) of the file at path, for SIGHUP: the rest of the file is
// not the log's business. Error: the file's problems, one a line.
Result<LogConfig> load_log_config(const std::string& path, Program program,
                                  std::string_view legacy_key, std::string default_level);

// Sets each of program's modules to its level in config; returns one line per module whose
// level changed ("scheduler: info -> debug"). config must have been read by the above.
std::vector<std::string> apply(Program program, const LogConfig& config);

// SIGHUP: load_log_config(path, ...), the command line's level (if any) standing in for an
// absent [log] level, then apply(). Returns
// what changed, for the daemon to log ("scheduler: info -> debug; http: info -> warn", or "no
// level changed"); on an invalid file, changes nothing and the error says why.
Result<std::string> reload(Program program, const std::string& path, std::string_view legacy_key,
                           const std::string& command_line_level);

}  // namespace hostline::log
