// `hostline jobs`: the job history, newest first.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands/command_support.hpp"
#include "cli/output/fields.hpp"
#include "cli/output/reports.hpp"

namespace hostline::cli {

namespace {

struct JobsOptions {
    std::string state;
    std::string agent;
    std::string before;
    int limit = 0;
    bool json = false;
};

Result<int> list_jobs(ApiClient& api, const JobsOptions& options, Console& console) {
    std::string before;
    if (!options.before.empty()) before = std::to_string(parse_job_id(options.before).value());
    auto answer = api.get(
        with_query("/api/v1/jobs",
                   {{"state", options.state},
                    {"agent", options.agent},
                    {"before", before},
                    {"limit", options.limit > 0 ? std::to_string(options.limit) : std::string()}}));
    if (!answer) return answer.error();
    if (options.json) {
        print_json(console.out, *answer);
        return 0;
    }
    const auto& jobs = array_field(*answer, "jobs");
    if (jobs.empty())
        console.err << "no jobs\n";
    else
        console.out << render_jobs_table(jobs, console.width);
    if (auto next = int_field(*answer, "next_before"))
        console.err << "older jobs: hostline jobs --before " << *next << '\n';
    return 0;
}

}  // namespace

void add_jobs_command(CLI::App& app, CommandContext& context) {
    auto options = std::make_shared<JobsOptions>();
    auto* jobs = app.add_subcommand("jobs", "List jobs, newest first");
    jobs->add_option("--state", options->state, "Only jobs in this state (e.g. running, failed)")
        ->type_name("STATE");
    jobs->add_option("--agent", options->agent, "Only jobs that ran on this agent")
        ->type_name("NAME");
    jobs->add_option("--before", options->before, "Only jobs older than this id (to page)")
        ->check(job_id_validator())
        ->type_name("ID");
    jobs->add_option("--limit", options->limit, "At most this many jobs")
        ->check(CLI::PositiveNumber)
        ->type_name("N");
    jobs->add_flag("--json", options->json, "Print the API document");
    jobs->callback([options, &context] {
        run_api_command(context,
                        [&](ApiClient& api) { return list_jobs(api, *options, context.console); });
    });
}

}  // namespace hostline::cli
