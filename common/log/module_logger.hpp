// A file's handle on its module's logger, declared once at the top of a .cpp:
//
//   constinit log::ModuleLogger logger{"scheduler"};
//   ...
//   logger->info("job {} started", id);
//
// The name is checked against kModules at compile time. The logger is looked up in spdlog's
// registry (a mutex) on the first call only, then cached: later calls cost one atomic load.
// Before log::setup (unit tests) the module's lines still go to stderr, at info.
//
// Thread-safe: any thread may log through it, and change its level through log::set_level.
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <string_view>

#include "common/log/modules.hpp"

namespace hostline::log {

class ModuleLogger {
  public:
    consteval explicit ModuleLogger(std::string_view module) : module_(module) {
        // Not a constant expression, so a name outside kModules does not compile.
        if (!is_module(module)) throw "not a module in common/log/modules.hpp";
    }
    ModuleLogger(const ModuleLogger&) = delete;
    ModuleLogger& operator=(const ModuleLogger&) = delete;

    spdlog::logger* operator->() const {
        spdlog::logger* found = logger_.load(std::memory_order_acquire);
        return found != nullptr ? found : look_up();
    }

  private:
    spdlog::logger* look_up() const;

    const std::string_view module_;
    // spdlog's registry owns the logger, for the program's life.
    mutable std::atomic<spdlog::logger*> logger_{nullptr};
};

// The module's logger in spdlog's registry, made (with every other module's, sharing one
// sink) on first use. name must be in kModules.
spdlog::logger& module_logger(std::string_view name);

}  // namespace hostline::log
