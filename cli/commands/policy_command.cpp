// `hostline policy reload`: make the controller read its policy file again. A file with
// errors is refused and the policy in force stays; the errors are printed.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"

namespace hostline::cli {

namespace {

Result<int> reload_policy(ApiClient& api, bool json, Console& console) {
    auto answer = api.post("/api/v1/policy/reload", nullptr);
    if (!answer) return answer.error();
    if (json)
        print_json(console.out, *answer);
    else
        console.out << "policy reloaded from " << text_field(*answer, "reloaded") << '\n';
    return 0;
}

}  // namespace

void add_policy_command(CLI::App& app, CommandContext& context) {
    auto json = std::make_shared<bool>(false);
    auto* policy = app.add_subcommand("policy", "Manage the controller's policy");
    policy->require_subcommand(1);
    auto* reload = policy->add_subcommand(
        "reload", "Read the policy file again; a file with errors is refused and the old stays");
    reload->add_flag("--json", *json, "Print the API document");
    reload->callback([json, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return reload_policy(api, *json, context.console); });
    });
}

}  // namespace hostline::cli
