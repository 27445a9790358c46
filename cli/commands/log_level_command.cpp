// `hostline log-level [MODULE LEVEL | --all LEVEL]`: the controller's log level per module
// (docs/cli.md). Without arguments it lists the modules and their levels. A level set here
// lasts until the controller's next SIGHUP or restart, which apply its [log] section again.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/table.hpp"

namespace hostline::cli {

namespace {

struct LogLevelOptions {
    std::string module;  // or the level, with --all
    std::string level;
    std::string all;  // --all LEVEL
    bool json = false;
};

void print_levels(const nlohmann::json& answer, Console& console) {
    Table table({"MODULE", "LEVEL", "ABOUT"});
    for (const auto& module : array_field(answer, "modules"))
        table.add_row({text_field(module, "module"), text_field(module, "level"),
                       text_field(module, "about")});
    console.out << table.render(console.width);
}

Result<int> log_level(ApiClient& api, const LogLevelOptions& options, Console& console) {
    const bool listing = options.module.empty() && options.all.empty();
    nlohmann::json body{{"level", options.all.empty() ? options.level : options.all}};
    if (options.all.empty()) body["module"] = options.module;
    auto answer = listing ? api.get("/api/v1/log-levels") : api.put("/api/v1/log-levels", body);
    if (!answer) return answer.error();
    if (options.json)
        print_json(console.out, *answer);
    else if (listing)
        print_levels(*answer, console);
    else
        console.out << (options.all.empty() ? options.module : std::string("every module")) << ": "
                    << body["level"].get<std::string>() << " (until the next SIGHUP or restart)\n";
    return 0;
}

}  // namespace

void add_log_level_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<LogLevelOptions>();
    auto* command = app.add_subcommand(
        "log-level",
        "List the controller's log levels per module, or set one module's (or --all) until the "
        "next SIGHUP or restart");
    command->add_option("MODULE", options->module, "A module, e.g. scheduler");
    command->add_option("LEVEL", options->level, "trace, debug, info, warn, error or off");
    command->add_option("--all", options->all, "Set every module to this level")
        ->type_name("LEVEL");
    command->add_flag("--json", options->json, "Print the API document");
    command->callback([options, &context] {
        if (!options->all.empty() && !options->module.empty())
            throw CLI::ValidationError("--all", "sets every module: give no MODULE with it");
        if (options->all.empty() && !options->module.empty() && options->level.empty())
            throw CLI::ValidationError("LEVEL", "give a MODULE and its LEVEL, or --all LEVEL");
        run_api_command(context,
                        [&](ApiClient& api) { return log_level(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
