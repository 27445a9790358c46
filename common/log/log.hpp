// Logging setup for the daemons and the CLI: spdlog to stderr (journald picks it up).
#pragma once

#include <string_view>

#include "common/error.hpp"

namespace hostline::log {

// level: trace, debug, info, warn, error, off. Error names the bad level.
Result<void> setup(std::string_view program, std::string_view level);

}  // namespace hostline::log
