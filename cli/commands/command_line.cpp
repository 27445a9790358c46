#include "cli/commands/commands.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"

namespace hostline::cli {

void add_api_commands(CLI::App& app, CommandContext& context) {
    app.set_version_flag("--version", "hostline " HOSTLINE_VERSION);
    app.require_subcommand(1);
    app.add_option(
           "--controller", context.controller,
           "Controller URL (http:// only) [default: " + std::string(kDefaultController) + "]")
        ->envname("HOSTLINE_CONTROLLER")
        ->type_name("URL");
    app.add_option("--token-file", context.token_file, "File holding the API token")
        ->envname("HOSTLINE_TOKEN_FILE")
        ->type_name("PATH");
    // Subcommands created after this hand the options they do not know to the app, so
    // `hostline jobs --controller URL` works as well as `hostline --controller URL jobs`.
    app.fallthrough();
    add_run_command(app, context);
    add_jobs_command(app, context);
    add_job_command(app, context);
    add_agents_command(app, context);
    add_cancel_command(app, context);
    add_approvals_command(app, context);
    add_audit_command(app, context);
    add_tokens_command(app, context);
    add_policy_command(app, context);
    add_log_level_command(app, context);
    add_schedules_command(app, context);
}

int run_command_line(CLI::App& app, CommandContext& context, int argc, const char* const* argv) {
    // CLI11 still sees as many words after `--` (so "required" and counts behave), but
    // placeholders: the commands read the real ones from context.after_dashes.
    std::vector<std::string> words(argv, argv + argc);
    const auto dashes = std::find(words.begin(), words.end(), "--");
    if (dashes != words.end()) {
        context.after_dashes.emplace(std::next(dashes), words.end());
        std::fill(std::next(dashes), words.end(), "_");
    }
    std::vector<const char*> shown;
    for (const auto& word : words) shown.push_back(word.c_str());
    try {
        app.parse(static_cast<int>(shown.size()), shown.data());
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e, context.console.out, context.console.err);
        return status == 0 ? 0 : 2;
    }
    return context.exit_status;
}

}  // namespace hostline::cli
