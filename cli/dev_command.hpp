// `hostline dev`: a real controller and N real local agents in one data dir, for trying
// Hostline on one machine. Stops everything it started on Ctrl-C or SIGTERM.
#pragma once

#include <CLI/App.hpp>

namespace hostline::cli {

// Adds the `dev` subcommand to app; when it runs it calls std::exit with its status.
void add_dev_command(CLI::App& app);

}  // namespace hostline::cli
