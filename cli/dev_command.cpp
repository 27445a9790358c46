#include "cli/dev_command.hpp"

namespace hostline::cli {

void add_dev_command(CLI::App& app) { app.add_subcommand("dev", "Start a local controller and agents"); }

}  // namespace hostline::cli
