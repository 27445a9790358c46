// The API subcommands of `hostline` (run, jobs, job, agents, cancel, approvals, audit, tokens,
// policy reload, schedules) and the command
// line they share: --controller and --token-file, usable before or after the subcommand.
//
// Each add_*_command registers a CLI11 subcommand whose callback talks to the controller
// and leaves its exit status in CommandContext::exit_status. Main thread only.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace hostline::cli {

inline constexpr const char* kDefaultController = "http://127.0.0.1:7480";

// Where commands print: results (tables; with --json exactly one JSON document) to out;
// progress, notices and errors to err.
struct Console {
    std::ostream& out;
    std::ostream& err;
    std::size_t width = 0;  // columns tables may use; 0: no limit
};

// What the subcommands share. Must outlive the CLI::App it is registered with.
struct CommandContext {
    explicit CommandContext(Console console) : console(console) {}

    Console console;
    std::string controller = kDefaultController;  // --controller or HOSTLINE_CONTROLLER
    std::string token_file;                       // --token-file or HOSTLINE_TOKEN_FILE
    int exit_status = 0;                          // set by the command that ran
    // The words after the first `--` exactly as given (run's argv, a schedule's command).
    // CLI11 2.1 reads a word like "[ -f x ]" as a list and strips its brackets, so those
    // words are taken from argv before it parses them; nullopt when there was no `--`.
    std::optional<std::vector<std::string>> after_dashes;
};

// Sets up app as `hostline`: --version, --controller and --token-file (also accepted after
// the subcommand, for subcommands added later too), a subcommand required, and the API
// subcommands run, jobs, job, agents and cancel.
void add_api_commands(CLI::App& app, CommandContext& context);

// Parses argv and runs the chosen subcommand. Returns the exit status: the command's own,
// 0 for --help and --version, 2 for a usage mistake (after printing CLI11's message and
// "Run with --help for more information." to err).
int run_command_line(CLI::App& app, CommandContext& context, int argc, const char* const* argv);

}  // namespace hostline::cli
