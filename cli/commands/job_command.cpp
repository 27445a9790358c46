// `hostline job ID`: one job in full, its runs, and optionally its stored output.
#include <algorithm>

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/host_output.hpp"
#include "cli/output/reports.hpp"

namespace hostline::cli {

namespace {

struct JobOptions {
    std::string id;
    bool output = false;
    bool json = false;
};

// Output items of every run, each run's chunks in order, runs one after another.
void print_output(const nlohmann::json& items, const nlohmann::json& runs, Console& console) {
    std::vector<const nlohmann::json*> sorted;
    for (const auto& item : items) sorted.push_back(&item);
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
        return std::pair(int_field(*a, "run_id").value_or(0), int_field(*a, "seq").value_or(0)) <
               std::pair(int_field(*b, "run_id").value_or(0), int_field(*b, "seq").value_or(0));
    });
    HostOutput output(console.out, 0);
    for (const auto& run : runs) output.fit_host(text_field(run, "agent"));
    std::string host;
    std::int64_t run_id = 0;
    for (const auto* item : sorted) {
        const std::string agent = text_field(*item, "agent");
        // Per run, not per host: a retried host's attempts are runs of their own.
        const std::int64_t item_run = int_field(*item, "run_id").value_or(0);
        if (item_run != run_id && !host.empty()) output.finish(host);
        host = agent;
        run_id = item_run;
        output.write(agent, text_field(*item, "stream"), text_field(*item, "data"));
    }
    output.finish_all();
}

Result<int> show_job(ApiClient& api, const JobOptions& options, Console& console) {
    const std::string path = "/api/v1/jobs/" + std::to_string(parse_job_id(options.id).value());
    auto answer = api.get(path);
    if (!answer) return answer.error();
    nlohmann::json output;
    if (options.output) {
        auto stored = api.get(path + "/output");
        if (!stored) return stored.error();
        output = array_field(*stored, "output");
    }
    if (options.json) {
        nlohmann::json document = *answer;
        if (options.output) document["output"] = output;
        print_json(console.out, document);
        return 0;
    }
    const auto& runs = array_field(*answer, "runs");
    console.out << render_job_header(object_field(*answer, "job"));
    if (!runs.empty()) console.out << '\n' << render_run_details(runs, console.width);
    if (options.output && !output.empty()) {
        console.out << '\n';
        print_output(output, runs, console);
    }
    return 0;
}

}  // namespace

void add_job_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<JobOptions>();
    auto* job = app.add_subcommand("job", "Show one job, its runs and optionally its output");
    job->add_option("id", options->id, "Job id: 42 or #42")
        ->required()
        ->check(job_id_validator())
        ->type_name("ID");
    job->add_flag("--output", options->output, "Also print the stored output of every run");
    job->add_flag("--json", options->json, "Print the API document");
    job->callback([options, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return show_job(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
