#include "common/log/log.hpp"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <array>
#include <string>

#include "common/log/module_logger.hpp"

namespace hostline::log {
namespace {

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %v";

// Our names for spdlog's levels ("warn", where spdlog prints "warning").
struct LevelName {
    std::string_view name;
    spdlog::level::level_enum level;
};
constexpr std::array kLevelNames{
    LevelName{"trace", spdlog::level::trace}, LevelName{"debug", spdlog::level::debug},
    LevelName{"info", spdlog::level::info},   LevelName{"warn", spdlog::level::warn},
    LevelName{"error", spdlog::level::err},   LevelName{"off", spdlog::level::off},
};

Result<spdlog::level::level_enum> parse_level(std::string_view level) {
    for (const LevelName& known : kLevelNames)
        if (known.name == level) return known.level;
    return fail("unknown log level '" + std::string(level) + "' (" + std::string(kLevels) + ")");
}

std::string level_name(spdlog::level::level_enum level) {
    for (const LevelName& known : kLevelNames)
        if (known.level == level) return std::string(known.name);
    return "error";  // critical: nothing sets it, and it logs what error logs
}

std::shared_ptr<spdlog::sinks::sink> stderr_sink() {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    sink->set_pattern(kPattern);
    return sink;
}

// The sink every module logger writes to: the one the first module's logger holds, so the
// registry keeps it and there is no holder of our own.
std::shared_ptr<spdlog::sinks::dist_sink_mt> shared_sink() {
    return std::static_pointer_cast<spdlog::sinks::dist_sink_mt>(
        module_logger(kModules.front().name).sinks().front());
}

// Registers logger unless a logger of that name is there already (another thread was
// first); returns the registered one.
std::shared_ptr<spdlog::logger> register_once(std::shared_ptr<spdlog::logger> logger) {
    try {
        spdlog::register_logger(logger);
        return logger;
    } catch (const spdlog::spdlog_ex&) {
        return spdlog::get(logger->name());
    }
}

}  // namespace

spdlog::logger& module_logger(std::string_view name) {
    if (auto found = spdlog::get(std::string(name))) return *found;
    // The first module's logger carries the shared sink; every other one is made with it.
    std::shared_ptr<spdlog::logger> first = spdlog::get(std::string(kModules.front().name));
    if (!first) {
        auto sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
        sink->set_sinks({stderr_sink()});
        first = std::make_shared<spdlog::logger>(std::string(kModules.front().name), sink);
        first->set_level(spdlog::get_level());
        first->flush_on(spdlog::level::info);
        first = register_once(first);
    }
    if (name == kModules.front().name) return *first;
    auto logger = std::make_shared<spdlog::logger>(std::string(name), first->sinks().front());
    logger->set_level(spdlog::get_level());
    logger->flush_on(spdlog::level::info);
    return *register_once(logger);
}

spdlog::logger* ModuleLogger::look_up() const {
    spdlog::logger* found = &module_logger(module_);
    logger_.store(found, std::memory_order_release);
    return found;
}

Result<void> setup(std::string_view program, std::string_view level) {
    (void)program;  // journald knows the program; the lines name the module
    auto parsed = parse_level(level);
    if (!parsed) return parsed.error();
    use_sink(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    for (const Module& module : kModules) module_logger(module.name).set_level(*parsed);
    return {};
}

void use_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
    sink->set_pattern(kPattern);
    shared_sink()->set_sinks({std::move(sink)});
}

Result<void> check_level(std::string_view level) {
    auto parsed = parse_level(level);
    if (!parsed) return parsed.error();
    return {};
}

Result<void> check_module(Program program, std::string_view module) {
    const Module* found = find_module(module);
    if (found != nullptr && logs_through(program, *found)) return {};
    std::string known;
    for (const Module& each : kModules)
        if (logs_through(program, each))
            known += (known.empty() ? "" : ", ") + std::string(each.name);
    return fail("unknown log module '" + std::string(module) + "' (" + known + ")");
}

std::vector<ModuleLevel> levels(Program program) {
    std::vector<ModuleLevel> all;
    for (const Module& module : kModules)
        if (logs_through(program, module))
            all.push_back(
                {std::string(module.name), level_name(module_logger(module.name).level())});
    return all;
}

Result<std::string> set_level(Program program, std::string_view module, std::string_view level) {
    if (auto known = check_module(program, module); !known) return known.error();
    auto parsed = parse_level(level);
    if (!parsed) return parsed.error();
    spdlog::logger& logger = module_logger(module);
    std::string before = level_name(logger.level());
    logger.set_level(*parsed);
    return before;
}

}  // namespace hostline::log
