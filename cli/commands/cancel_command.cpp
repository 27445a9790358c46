// `hostline cancel ID`: ask the controller to stop a job on every host.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"

namespace hostline::cli {

namespace {

struct CancelOptions {
    std::string id;
    bool json = false;
};

Result<int> cancel_job(ApiClient& api, const CancelOptions& options, Console& console) {
    const std::int64_t id = parse_job_id(options.id).value();
    auto answer = api.post("/api/v1/jobs/" + std::to_string(id) + "/cancel", nullptr);
    if (!answer) return answer.error();
    if (options.json)
        print_json(console.out, *answer);
    else
        console.out << "cancelling job #" << int_field(*answer, "job").value_or(id) << '\n';
    return 0;
}

}  // namespace

void add_cancel_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<CancelOptions>();
    auto* cancel = app.add_subcommand("cancel", "Cancel a job: stop its command on every host");
    cancel->add_option("id", options->id, "Job id: 42 or #42")
        ->required()
        ->check(job_id_validator())
        ->type_name("ID");
    cancel->add_flag("--json", options->json, "Print the API document");
    cancel->callback([options, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return cancel_job(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
