#include "common/log/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace hostline::log {

Result<void> setup(std::string_view program, std::string_view level) {
    auto parsed = spdlog::level::from_str(std::string(level));
    if (parsed == spdlog::level::off && level != "off")
        return fail("unknown log level '" + std::string(level) +
                    "' (trace, debug, info, warn, error, off)");
    auto logger = spdlog::stderr_color_mt(std::string(program));
    spdlog::set_default_logger(logger);
    spdlog::set_level(parsed);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %n: %v");
    spdlog::flush_on(spdlog::level::info);
    return {};
}

}  // namespace hostline::log
