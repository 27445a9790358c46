#include "common/log/log_config.hpp"

#include "common/log/log.hpp"

namespace hostline::log {

LogConfig read_log_config(config::ConfigReader& r, Program program, std::string_view legacy_key,
                          std::string default_level) {
    LogConfig c;
    c.level = std::move(default_level);
    if (!legacy_key.empty() && r.has(legacy_key)) {
        c.level = r.string(legacy_key, c.level);
        if (auto ok = check_level(c.level); !ok) r.check(false, legacy_key, ok.error().message);
        c.deprecation = std::string(legacy_key) + " is deprecated: use [log] level" +
                        (r.has(kLogLevelKey) ? ", which is set and wins" : "");
    }
    c.level = r.string(kLogLevelKey, c.level);
    if (auto ok = check_level(c.level); !ok) r.check(false, kLogLevelKey, ok.error().message);
    c.modules = r.string_map(kLogModulesKey);
    for (const auto& [module, level] : c.modules) {
        const std::string key = std::string(kLogModulesKey) + "." + module;
        if (auto ok = check_module(program, module); !ok) r.check(false, key, ok.error().message);
        if (auto ok = check_level(level); !ok) r.check(false, key, ok.error().message);
    }
    return c;
}

Result<LogConfig> load_log_config(const std::string& path, Program program,
                                  std::string_view legacy_key, std::string default_level) {
    auto table = config::read_toml_file(path);
    if (!table) return table.error();
    config::ConfigReader r(path, *table);
    LogConfig c = read_log_config(r, program, legacy_key, std::move(default_level));
    // Only [log]'s own keys: the daemon checked the rest at start.
    if (const toml::table* section = table->at_path("log").as_table())
        for (const auto& [key, value] : *section)
            r.check(key.str() == "level" || key.str() == "modules", "log." + std::string(key.str()),
                    "unknown key");
    if (auto done = r.finish(); !done) return done.error();
    return c;
}

std::vector<std::string> apply(Program program, const LogConfig& config) {
    const std::string& level = config.level;
    std::vector<std::string> changes;
    for (const ModuleLevel& now : levels(program)) {
        auto own = config.modules.find(now.module);
        const std::string& wanted = own != config.modules.end() ? own->second : level;
        auto before = set_level(program, now.module, wanted);
        if (before && *before != wanted)
            changes.push_back(now.module + ": " + *before + " -> " + wanted);
    }
    return changes;
}

Result<std::string> reload(Program program, const std::string& path, std::string_view legacy_key,
                           const std::string& command_line_level) {
    auto config = load_log_config(path, program, legacy_key,
                                  command_line_level.empty() ? "info" : command_line_level);
    if (!config) return config.error();
    std::string changed;
    for (const std::string& line : apply(program, *config))
        changed += (changed.empty() ? "" : "; ") + line;
    return changed.empty() ? std::string("no level changed") : changed;
}

}  // namespace hostline::log
