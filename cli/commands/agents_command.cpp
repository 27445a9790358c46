// `hostline agents`: every known agent, online or not.
#include <chrono>

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/reports.hpp"

namespace hostline::cli {

namespace {

Result<int> list_agents(ApiClient& api, bool json, Console& console) {
    auto answer = api.get("/api/v1/agents");
    if (!answer) return answer.error();
    if (json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& agents = array_field(*answer, "agents");
    if (agents.empty()) {
        console.err << "no agents\n";
        return 0;
    }
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    console.out << render_agents_table(agents, now.count(), console.width);
    return 0;
}

}  // namespace

void add_agents_command(CLI::App& app, CommandContext& context) {
    auto json = std::make_shared<bool>(false);
    auto* agents = app.add_subcommand("agents", "List agents: state, labels, load, last seen");
    agents->add_flag("--json", *json, "Print the API document");
    agents->callback([json, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return list_agents(api, *json, context.console); });
    });
}

}  // namespace hostline::cli
