// `hostline`: the command line for people. Builds the CLI11 app from the subcommands in
// cli/commands (and `dev`), runs it, and makes sure nothing ends in a stack trace.
#include <unistd.h>

#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands/commands.hpp"
#include "cli/dev_command.hpp"
#include "cli/output/table.hpp"

int main(int argc, char** argv) {
    namespace cli = hostline::cli;
    try {
        cli::CommandContext context(
            cli::Console{std::cout, std::cerr, cli::terminal_columns(STDOUT_FILENO)});
        CLI::App app{"hostline: run commands on your hosts through the Hostline controller",
                     "hostline"};
        cli::add_api_commands(app, context);
        cli::add_dev_command(app);
        return cli::run_command_line(app, context, argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "hostline: " << e.what() << '\n';
    } catch (...) {
        std::cerr << "hostline: unexpected error\n";
    }
    return 1;
}
